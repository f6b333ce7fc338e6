"""What drove a budget alert: the top keys, models, workspaces and people, with their figures.

One cost call grouped by all four dimensions at once (`api_key_id`, `model`, `workspace_id`, `actor`: the API
takes up to five) gives every breakdown; each row counts toward its key, its model, its workspace and its
person. Threshold alerts rank by share of the period's spend (one call over the period, no buckets); spike and
forecast alerts rank by a day's change in dollars against the trailing 7-day daily mean (one call over the eight
days, daily buckets, so days marked as planned can leave the baseline). Nothing is fetched unless an alert is
about to be sent.

A person is the user the analytics attribute a request to (`user_actor`), else the creator of the API key that
made it. Names come from the key and user listings (pages of 1,000, only when an alert names drivers), Slack
mentions from identity links and the stored Slack directory; nobody is looked up in Slack one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from bot.anthropic_admin import ApiKey, CostGroupBy, CostRow, OrgUser
from bot.core import periods
from bot.deps import Deps
from bot.spend import analytics
from bot.spend.driver_model import Basis, Driver, DriverKind, Drivers
from bot.spend.model import ScopeKind, Who
from storage import repositories as repo

TOP = 3
TRAILING_DAYS = 7
DEFAULT_WORKSPACE = "Default"
NO_KEY = "no API key (Console, Claude Code)"
UNLISTED = "an unlisted workspace"

# Keyed by (kind, id or None); None: usage the dimension doesn't name (no key, no person).
Sums = dict[DriverKind, dict[str | None, Decimal]]


def dimensions(who: Who) -> tuple[CostGroupBy, ...]:
    """The group_by of the drivers call (a workspace budget's rows are all one workspace: not asked for)."""
    if who.kind is ScopeKind.WORKSPACE:
        return ("api_key_id", "model", "actor")
    return ("api_key_id", "model", "workspace_id", "actor")


class _Names:
    """Keys and people, listed once per alert run and only when a driver needs a name."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._keys: dict[str, ApiKey] | None = None
        self._users: dict[str, OrgUser] | None = None

    def keys(self) -> dict[str, ApiKey]:
        if self._keys is None:
            listed = analytics.cached(self.deps, ("drivers-keys",), lambda: list(self.deps.admin.iter_api_keys()))
            self._keys = {k.id: k for k in listed}
        return self._keys

    def users(self) -> dict[str, OrgUser]:
        if self._users is None:
            listed = analytics.cached(self.deps, ("drivers-users",), lambda: list(self.deps.admin.list_users()))
            self._users = {u.id: u for u in listed}
        return self._users


def _add(sums: Sums, kind: DriverKind, key: str | None, amount: Decimal) -> None:
    bucket = sums.setdefault(kind, {})
    bucket[key] = bucket.get(key, Decimal(0)) + amount


def _person(row: CostRow, names: _Names) -> str | None:
    if row.actor_user_id:
        return row.actor_user_id
    if row.api_key_id:
        key = names.keys().get(row.api_key_id)
        return key.created_by_user_id if key is not None else None
    return None


def sums(rows: Iterable[CostRow], names: _Names, *, workspaces: bool = True) -> Sums:
    """Exact spend per key, model, workspace and person over `rows`."""
    out: Sums = {kind: {} for kind in DriverKind}
    for row in rows:
        amount = row.amount_usd
        _add(out, DriverKind.KEY, row.api_key_id, amount)
        _add(out, DriverKind.MODEL, row.model or analytics.UNKNOWN_MODEL, amount)
        if workspaces:
            _add(out, DriverKind.WORKSPACE, row.workspace_id, amount)
        person = _person(row, names)
        if person is not None:
            _add(out, DriverKind.PERSON, person, amount)
    return out


# --------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------


def _label(
    deps: Deps, session: Session, names: _Names, kind: DriverKind, key: str | None
) -> tuple[str, str | None, str | None]:
    """(label, detail, Slack id) of one driver."""
    if kind is DriverKind.MODEL:
        return key or analytics.UNKNOWN_MODEL, None, None
    if kind is DriverKind.WORKSPACE:
        if key is None:  # an Enterprise org's analytics leave the Default Workspace's id out
            return DEFAULT_WORKSPACE, None, None
        found = {w.id: w.name for w in deps.workspaces()}
        return found.get(key, UNLISTED), key, None
    if kind is DriverKind.KEY:
        if key is None:
            return NO_KEY, None, None
        api_key = names.keys().get(key)
        if api_key is None:
            return key, None, None
        return api_key.name, api_key.partial_key_hint, None
    user = names.users().get(key or "")
    email = user.email if user is not None else None
    slack_id = repo.linked_slack_ids(session=session).get(key or "")
    if slack_id is None and email:
        slack_id = repo.slack_ids_by_email(session=session, emails=[email]).get(email.lower())
    label = (user.name or user.email) if user is not None else (key or "someone")
    return label, email, slack_id


def _named(
    deps: Deps, session: Session, names: _Names, kind: DriverKind, ranked: Sequence[tuple[str | None, Driver]]
) -> tuple[Driver, ...]:
    out = []
    for key, figures in ranked:
        label, detail, slack_id = _label(deps, session, names, kind, key)
        out.append(
            Driver(
                label=label,
                amount=figures.amount,
                detail=detail,
                slack_user_id=slack_id,
                baseline=figures.baseline,
                share=figures.share,
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# The two rankings
# --------------------------------------------------------------------------------------------------


def share_drivers(deps: Deps, session: Session, who: Who, start: datetime, end: datetime) -> Drivers:
    """Threshold alerts: the top keys, models, workspaces and people by share of [start, end)'s spend."""
    names = _Names(deps)
    rows, as_of = analytics.cost_rows(deps, who, start, end, group_by=dimensions(who), use_cache=False)
    by = sums(rows, names, workspaces=who.kind is not ScopeKind.WORKSPACE)
    total = sum((r.amount_usd for r in rows), Decimal(0))
    by_kind: dict[DriverKind, tuple[Driver, ...]] = {}
    for kind, amounts in by.items():
        ranked = sorted(((k, v) for k, v in amounts.items() if v > 0), key=lambda kv: (-kv[1], kv[0] or ""))[:TOP]
        figures = [(k, Driver(label="", amount=v, share=v / total if total > 0 else None)) for k, v in ranked]
        by_kind[kind] = _named(deps, session, names, kind, figures)
    return Drivers(Basis.SHARE, total, by_kind, data_as_of=as_of)


def change_drivers(deps: Deps, session: Session, who: Who, day: date, planned: Iterable[date] = ()) -> Drivers:
    """Spike and forecast alerts: the top keys, models, workspaces and people by `day`'s change in dollars
    against their mean over the 7 days before it (days in `planned` leave the baseline)."""
    tz = deps.settings.tz
    names = _Names(deps)
    skip = set(planned)
    first = day - timedelta(days=TRAILING_DAYS)
    start = max(periods.local_midnight(first, tz), analytics.floor(deps.clock()))
    end = periods.local_midnight(day + timedelta(days=1), tz)
    rows, as_of = analytics.cost_rows(
        deps, who, start, end, group_by=dimensions(who), width=analytics.daily_width(start, end), use_cache=False
    )
    on_day: list[CostRow] = []
    before: list[CostRow] = []
    for row in rows:
        local = row.starting_at.astimezone(tz).date()
        if local == day:
            on_day.append(row)
        elif local not in skip and first <= local < day:
            before.append(row)
    baseline_days = sum(1 for i in range(1, TRAILING_DAYS + 1) if day - timedelta(days=i) not in skip)
    workspaces = who.kind is not ScopeKind.WORKSPACE
    now_by, then_by = sums(on_day, names, workspaces=workspaces), sums(before, names, workspaces=workspaces)
    total = sum((r.amount_usd for r in on_day), Decimal(0))
    trailing_total = sum((r.amount_usd for r in before), Decimal(0))
    by_kind: dict[DriverKind, tuple[Driver, ...]] = {}
    for kind in DriverKind:
        today, earlier = now_by.get(kind, {}), then_by.get(kind, {})
        figures: list[tuple[str | None, Driver]] = []
        for key in set(today) | set(earlier):
            mean = earlier.get(key, Decimal(0)) / baseline_days if baseline_days else Decimal(0)
            figures.append((key, Driver(label="", amount=today.get(key, Decimal(0)), baseline=mean)))
        rising = sorted((f for f in figures if f[1].change > 0), key=lambda f: (-f[1].change, f[0] or ""))[:TOP]
        by_kind[kind] = _named(deps, session, names, kind, rising)
    return Drivers(
        Basis.CHANGE,
        total,
        by_kind,
        day=day,
        baseline_days=baseline_days,
        baseline_total=trailing_total / baseline_days if baseline_days else Decimal(0),
        data_as_of=as_of,
    )
