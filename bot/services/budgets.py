"""Budgets and budget alerts (DESIGN.md §3, §5): `/claude-key budget …` and the `budget-alerts` job.

A budget is monthly: the period starts on the 1st at 00:00 TIMEZONE. The org budget is the database row
"org", else MONTHLY_BUDGET_USD; workspaces have rows "workspace:<id>". Alerts are idempotent through the
job ledger; every key names the scope, the alert and the period, e.g.

    threshold:org:2026-11:75:r2     75 % of revision 2 of the org budget, November 2026
    forecast:org:2026-11            the linear projection passed the budget
    spike:workspace:wrkspc_1:2026-11-06
    exceeded:org:2026-11            spend reached the budget (a new period then says "back under budget")
    new-period:org:2026-12

`revision` bumps when an amount changes; thresholds already below spend are carried over to the new
revision without a message ("settled"), the ones above spend are armed again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.anthropic_admin import AdminAPIError, FeatureUnavailable
from bot.config import Settings
from bot.core import periods
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, resolve_actor
from bot.jobs.context import JobContext, JobResult
from bot.services import usage
from bot.slack import budget_blocks
from bot.slack.budget_blocks import AlertKind
from bot.slack.reply import Reply
from storage import repositories as repo
from storage.db import session_scope
from storage.models import Budget

logger = logging.getLogger(__name__)

JOB = "budget-alerts"
ORG_SCOPE = "org"
# The forecast needs this much of the period behind it (issue 5: "only after 3 days of data").
FORECAST_MIN_DATA = timedelta(days=3)
SPIKE_FACTOR = Decimal(3)
SPIKE_MIN_USD = Decimal(10)
SPIKE_TRAILING_DAYS = 7
MAX_BUDGET_USD = Decimal("100000000")

BUDGET_SET_USAGE = "Usage: `/claude-key budget set <usd> [workspace <name>]`, e.g. `/claude-key budget set 5000`."
THRESHOLDS_USAGE = "Usage: `/claude-key budget thresholds 50,75,90,100` (whole percentages from 1 to 1000)."
BUDGET_USAGE = "Usage: `/claude-key budget [show | set <usd> [workspace <name>] | thresholds 50,75,90,100]`"

# --------------------------------------------------------------------------------------------------
# Parsing (pure; runs before the ack)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetCommand:
    """A parsed `/claude-key budget …`."""

    action: str  # "show" | "set" | "thresholds"
    amount: Decimal | None = None
    workspace: str | None = None
    thresholds: tuple[int, ...] = ()


class BudgetSyntaxError(ValueError):
    """Malformed budget arguments; the message says how to write them."""


def parse_amount(text: str) -> Decimal:
    """`5000`, `$1,250.50` → Decimal dollars; refuses fractions of a cent, zero, negatives and floats' junk."""
    cleaned = text.strip().lstrip("$").replace(",", "").replace("_", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise BudgetSyntaxError(f"`{budget_blocks.escape(text[:40])}` isn't an amount. {BUDGET_SET_USAGE}") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_BUDGET_USD:
        raise BudgetSyntaxError(f"A budget must be a positive amount in dollars. {BUDGET_SET_USAGE}")
    if amount != amount.quantize(Decimal("0.01")):
        raise BudgetSyntaxError(f"Budgets are in dollars and cents (at most two decimals). {BUDGET_SET_USAGE}")
    return amount.quantize(Decimal("0.01"))


def parse_thresholds(text: str) -> tuple[int, ...]:
    """`50,75,90,100` → (50, 75, 90, 100), sorted and unique."""
    try:
        values = sorted({int(part.strip().rstrip("%")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise BudgetSyntaxError(THRESHOLDS_USAGE) from None
    if not values or any(v < 1 or v > 1000 for v in values) or len(values) > 10:
        raise BudgetSyntaxError(THRESHOLDS_USAGE)
    return tuple(values)


def parse_budget(args: Sequence[str]) -> BudgetCommand:
    """Parse `budget` arguments."""
    words = list(args)
    if not words or (words[0].lower() == "show" and len(words) == 1):
        return BudgetCommand("show")
    verb = words[0].lower()
    if verb == "set":
        if len(words) < 2:
            raise BudgetSyntaxError(BUDGET_SET_USAGE)
        amount = parse_amount(words[1])
        rest = words[2:]
        if not rest:
            return BudgetCommand("set", amount=amount)
        if rest[0].lower() != "workspace" or len(rest) < 2:
            raise BudgetSyntaxError(BUDGET_SET_USAGE)
        return BudgetCommand("set", amount=amount, workspace=" ".join(rest[1:]))
    if verb == "thresholds":
        if len(words) < 2:
            raise BudgetSyntaxError(THRESHOLDS_USAGE)
        return BudgetCommand("thresholds", thresholds=parse_thresholds("".join(words[1:])))
    raise BudgetSyntaxError(BUDGET_USAGE)


# --------------------------------------------------------------------------------------------------
# Budgets as stored
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetView:
    """A budget as the alerts and answers see it."""

    scope_key: str
    label: str
    amount: Decimal
    thresholds: tuple[int, ...]
    revision: int
    workspace_id: str | None = None
    workspace_name: str | None = None
    from_settings: bool = False
    updated_by_slack_id: str | None = None
    mirrored_limit_id: str | None = None

    @property
    def who(self) -> usage.Who:
        """The usage scope this budget covers."""
        if self.workspace_id is None:
            return usage.ORG
        return usage.workspace_who(self.workspace_id, self.workspace_name or self.workspace_id)


def _org_row(session: Session) -> Budget | None:
    return session.exec(select(Budget).where(Budget.scope_key == ORG_SCOPE)).first()


def thresholds(session: Session, settings: Settings) -> tuple[int, ...]:
    """Alert thresholds (percent): set with `/claude-key budget thresholds`, else BUDGET_THRESHOLDS."""
    row = _org_row(session)
    if row is not None and row.thresholds:
        return tuple(int(v) for v in row.thresholds.split(","))
    return tuple(settings.budget_thresholds)


def list_budgets(session: Session, settings: Settings) -> list[BudgetView]:
    """Every budget: the org's first, then workspaces by name."""
    marks = thresholds(session, settings)
    rows = session.exec(select(Budget)).all()
    views: list[BudgetView] = []
    org = next((r for r in rows if r.scope_key == ORG_SCOPE), None)
    if org is not None and org.amount_usd is not None:
        views.append(
            BudgetView(
                ORG_SCOPE,
                "org",
                Decimal(org.amount_usd),
                marks,
                org.revision,
                updated_by_slack_id=org.updated_by_slack_id,
                mirrored_limit_id=org.mirrored_limit_id,
            )
        )
    elif settings.monthly_budget_usd is not None:
        revision = org.revision if org is not None else 1
        views.append(BudgetView(ORG_SCOPE, "org", settings.monthly_budget_usd, marks, revision, from_settings=True))
    workspaces = sorted(
        (r for r in rows if r.scope_key != ORG_SCOPE and r.amount_usd is not None),
        key=lambda r: (r.workspace_name or "").casefold(),
    )
    for row in workspaces:
        views.append(
            BudgetView(
                row.scope_key,
                f"workspace {budget_blocks.escape(row.workspace_name or row.workspace_id or '')}",
                Decimal(row.amount_usd or 0),
                marks,
                row.revision,
                workspace_id=row.workspace_id,
                workspace_name=row.workspace_name,
                updated_by_slack_id=row.updated_by_slack_id,
                mirrored_limit_id=row.mirrored_limit_id,
            )
        )
    return views


def budget_for_scope(session: Session, settings: Settings, scope_key: str) -> BudgetView | None:
    """The budget covering a usage scope ("org" or "workspace:<id>"), if any."""
    return next((b for b in list_budgets(session, settings) if b.scope_key == scope_key), None)


# --------------------------------------------------------------------------------------------------
# Money over time (pure)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetPosition:
    """Where a budget stands this period."""

    label: str
    period: str
    amount: Decimal
    spent: Decimal
    forecast: Decimal | None
    period_start: datetime
    period_end: datetime
    data_as_of: datetime | None


def _micros(delta: timedelta) -> Decimal:
    return Decimal(delta // timedelta(microseconds=1))


def forecast(spent: Decimal, start: datetime, end: datetime, as_of: datetime) -> Decimal | None:
    """Linear projection of period spend; None with under 3 days of data."""
    elapsed = as_of - start
    if elapsed < FORECAST_MIN_DATA:
        return None
    return spent * _micros(end - start) / _micros(elapsed)


def position(
    budget: BudgetView, spent: Decimal, now: datetime, tz: tzinfo, data_as_of: datetime | None = None
) -> BudgetPosition:
    """The budget's month-to-date position and forecast."""
    start, end = periods.month_start(now, tz), periods.next_month_start(now, tz)
    as_of = min(now, data_as_of) if data_as_of is not None else now
    return BudgetPosition(
        label=budget.label,
        period=f"{now.astimezone(tz):%B %Y}",
        amount=budget.amount,
        spent=spent,
        forecast=forecast(spent, start, end, as_of),
        period_start=start,
        period_end=end,
        data_as_of=data_as_of,
    )


def period_spend(
    deps: Deps, who: usage.Who, now: datetime, *, use_cache: bool = True
) -> tuple[Decimal, datetime | None]:
    """Month-to-date cost of a scope (exact) and its "data as of"."""
    start = periods.month_start(now, deps.settings.tz)
    rows, as_of = usage.cost_rows(deps, who, start, now, group_by=(), use_cache=use_cache)
    return sum((r.amount_usd for r in rows), Decimal(0)), as_of


def daily_spend(
    deps: Deps, who: usage.Who, start: datetime, end: datetime, *, use_cache: bool = False
) -> tuple[dict[date, Decimal], datetime | None]:
    """Cost per local day over [start, end) (any length; fetched in 31-day pieces)."""
    rows, as_of = usage.cost_rows(
        deps, who, start, end, group_by=(), width=usage.daily_width(start, end), use_cache=use_cache, cache_end=True
    )
    days: dict[date, Decimal] = {}
    for row in rows:
        local = row.starting_at.astimezone(deps.settings.tz).date()
        days[local] = days.get(local, Decimal(0)) + row.amount_usd
    return days, as_of


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


def _admin(deps: Deps, session: Session, slack_user_id: str) -> Actor:
    actor = resolve_actor(deps, slack_user_id)
    if not actor.is_admin:
        raise UserError("Only admins can change budgets. `/claude-key budget show` shows them.")
    return actor


def show_budgets(deps: Deps, slack_user_id: str) -> Reply:
    """`/claude-key budget show`: every budget with spent, %, forecast, thresholds and the alert channel."""
    now, tz = deps.clock(), deps.settings.tz
    with session_scope(deps.engine) as session:
        resolve_actor(deps, slack_user_id)  # members and non-members alike may look
        budgets = list_budgets(session, deps.settings)
        marks = thresholds(session, deps.settings)
    positions: list[BudgetPosition | None] = []
    spends = usage._parallel(*[(lambda b=b: _spend_or_none(deps, b, now)) for b in budgets]) if budgets else []
    for budget, spent in zip(budgets, spends, strict=True):
        positions.append(position(budget, spent[0], now, tz, spent[1]) if spent is not None else None)
    text, blocks = budget_blocks.build_budget_list(
        budgets=budgets,
        positions=positions,
        thresholds=marks,
        alert_channel=deps.settings.alert_channel,
        tz=tz,
    )
    return Reply(text, blocks)


def _spend_or_none(deps: Deps, budget: BudgetView, now: datetime) -> tuple[Decimal, datetime | None] | None:
    try:
        return period_spend(deps, budget.who, now)
    except AdminAPIError as exc:
        logger.info("spend for %s unavailable: %s", budget.scope_key, type(exc).__name__)
        return None


def set_budget(deps: Deps, slack_user_id: str, amount: Decimal, workspace: str | None = None) -> Reply:
    """`/claude-key budget set`: store the amount, settle the alert thresholds, offer a real spend limit."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        actor = _admin(deps, session, slack_user_id)
    ws = usage.find_workspace(deps, workspace) if workspace else None
    scope_key = f"workspace:{ws.id}" if ws is not None else ORG_SCOPE
    with session_scope(deps.engine) as session:
        row = session.exec(select(Budget).where(Budget.scope_key == scope_key)).first()
        if row is None:
            row = Budget(
                scope_key=scope_key,
                workspace_id=ws.id if ws else None,
                workspace_name=ws.name if ws else None,
                created_at=now,
            )
        # The amount in force until now: the row's, or MONTHLY_BUDGET_USD for the org.
        previous = (
            Decimal(row.amount_usd)
            if row.amount_usd is not None
            else (deps.settings.monthly_budget_usd if scope_key == ORG_SCOPE else None)
        )
        before = str(previous) if previous is not None else None
        if previous is not None and previous != amount:
            row.revision += 1  # re-arms the thresholds (see `settle`)
        row.amount_usd = amount
        row.updated_by_slack_id = actor.slack_user_id
        row.updated_at = now
        if ws is not None:
            row.workspace_name = ws.name
        session.add(row)
        session.flush()
        repo.append_audit(
            session=session,
            action="budget.set",
            subject_type="budget",
            subject_id=scope_key,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            before={"amount_usd": before},
            after={"amount_usd": str(amount), "revision": row.revision},
            at=now,
        )
        view = BudgetView(
            scope_key,
            "org" if ws is None else f"workspace {budget_blocks.escape(ws.name)}",
            amount,
            thresholds(session, deps.settings),
            row.revision,
            workspace_id=row.workspace_id,
            workspace_name=row.workspace_name,
        )
    try:
        spent, as_of = period_spend(deps, view.who, now, use_cache=False)
    except AdminAPIError:
        spent, as_of = None, None  # the alert job settles the thresholds on its next run
    if spent is not None:
        with session_scope(deps.engine) as session:
            settle(session, view, spent, now, deps.settings.tz)
    offer = spend_limit_writes(deps)
    text, blocks = budget_blocks.build_budget_saved(
        budget=view,
        position=position(view, spent, now, deps.settings.tz, as_of) if spent is not None else None,
        mirror=offer,
        console_url=deps.settings.console_url,
        tz=deps.settings.tz,
    )
    return Reply(text, blocks)


def set_thresholds(deps: Deps, slack_user_id: str, marks: tuple[int, ...]) -> Reply:
    """`/claude-key budget thresholds 50,75,90,100`: applies to every budget."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        actor = _admin(deps, session, slack_user_id)
        row = _org_row(session)
        if row is None:
            row = Budget(scope_key=ORG_SCOPE, created_at=now)
        before = row.thresholds
        row.thresholds = ",".join(str(m) for m in marks)
        row.updated_at = now
        session.add(row)
        session.flush()
        repo.append_audit(
            session=session,
            action="budget.thresholds",
            subject_type="budget",
            subject_id=ORG_SCOPE,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            before={"thresholds": before},
            after={"thresholds": row.thresholds},
            at=now,
        )
    shown = ", ".join(f"{m}%" for m in marks)
    return Reply(f"Budget alert thresholds are now {shown}. They apply to every budget.")


# -- mirroring a budget as a real Anthropic spend limit (early access) --------------------------------

_WRITES_KEY = ("spend-limit-writes",)
WRITES_UNKNOWN, WRITES_OFF = "unknown", "off"


def spend_limit_writes(deps: Deps) -> str:
    """ "off" when the org surely lacks spend-limit API access (listing or a write was refused), else "unknown"."""
    cache = usage.cache_of(deps)
    known = cache.peek(_WRITES_KEY, deps.clock())
    if known is not None:
        return str(known)
    try:
        deps.admin.list_spend_limits()  # listing is early access too: refused means writes are
        verdict = WRITES_UNKNOWN
    except FeatureUnavailable:
        verdict = WRITES_OFF
    except AdminAPIError:
        verdict = WRITES_UNKNOWN
    cache.put(_WRITES_KEY, verdict, deps.clock(), ttl=timedelta(hours=1))
    return verdict


def mirror_budget(deps: Deps, slack_user_id: str, scope_key: str) -> Reply:
    """Set the stored budget as an Anthropic spend limit (the Mirror button); says plainly when not enabled."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        actor = _admin(deps, session, slack_user_id)
        budget = budget_for_scope(session, deps.settings, scope_key)
    if budget is None:
        raise UserError("That budget no longer exists; set it again with `/claude-key budget set`.")
    try:
        limit = deps.admin.set_spend_limit(
            amount_usd=budget.amount,
            scope_type="workspace" if budget.workspace_id else "organization",
            workspace_id=budget.workspace_id,
        )
    except FeatureUnavailable as exc:
        usage.cache_of(deps).put(_WRITES_KEY, WRITES_OFF, now, ttl=timedelta(hours=1))
        return Reply(
            f"{exc.user_message} The budget of {budget_blocks.usd(budget.amount)} stays the bot's own: "
            "it alerts, but Anthropic won't stop spend at it. To enforce a limit, set it in the Console: "
            f"{deps.settings.console_url}/settings/limits"
        )
    with session_scope(deps.engine) as session:
        row = session.exec(select(Budget).where(Budget.scope_key == scope_key)).first()
        if row is None:
            row = Budget(scope_key=scope_key, amount_usd=budget.amount, created_at=now)
        row.mirrored_limit_id = limit.id
        row.updated_at = now
        session.add(row)
        repo.append_audit(
            session=session,
            action="budget.mirrored",
            subject_type="budget",
            subject_id=scope_key,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            after={"spend_limit_id": limit.id, "amount_usd": str(budget.amount)},
            at=now,
        )
    return Reply(
        f"Done: Anthropic now enforces a monthly spend limit of {budget_blocks.usd(budget.amount)} for "
        f"{budget.label} (limit `{limit.id}`)."
    )


# --------------------------------------------------------------------------------------------------
# The budget-alerts job
# --------------------------------------------------------------------------------------------------


def threshold_key(scope: str, period: str, mark: int, revision: int) -> str:
    """Ledger key of one threshold alert: scope, period, threshold and budget revision."""
    return f"threshold:{scope}:{period}:{mark}:r{revision}"


def crossed(spent: Decimal, amount: Decimal, marks: Sequence[int]) -> list[int]:
    """Thresholds (percent) that spend has reached, exactly: spent * 100 >= amount * mark."""
    return [m for m in marks if spent * 100 >= amount * m]


def _has(session: Session, key: str) -> bool:
    return repo.ledger_has(session=session, job=JOB, key=key)


def settle(
    session: Session, budget: BudgetView, spent: Decimal, now: datetime, tz: tzinfo, *, dry_run: bool = False
) -> list[int]:
    """After an amount change: carry over thresholds already alerted this period and still crossed.

    Returns the carried thresholds. Idempotent (the settle itself is a ledger key).
    """
    period = usage.period_key(now, tz)
    done_key = f"settled:{budget.scope_key}:{period}:r{budget.revision}"
    if budget.revision <= 1 or _has(session, done_key):
        return []
    carried = []
    for mark in crossed(spent, budget.amount, budget.thresholds):
        earlier = any(
            _has(session, threshold_key(budget.scope_key, period, mark, r)) for r in range(1, budget.revision)
        )
        if earlier:
            carried.append(mark)
            if not dry_run:
                repo.ledger_record(
                    session=session, job=JOB, key=threshold_key(budget.scope_key, period, mark, budget.revision), at=now
                )
    if not dry_run:
        repo.ledger_record(session=session, job=JOB, key=done_key, at=now)
    return carried


def contacts(deps: Deps, budget: BudgetView) -> str:
    """Who to talk to about a budget."""
    if budget.updated_by_slack_id:
        return f"<@{budget.updated_by_slack_id}> (set this budget)"
    admins = deps.settings.admin_slack_user_ids[:3]
    if admins:
        return ", ".join(f"<@{a}>" for a in admins)
    channel = deps.settings.admin_channel_id
    return f"the admins in <#{channel}>" if channel else "your Anthropic org admins"


def run_budget_alerts(ctx: JobContext) -> JobResult:
    """Threshold, forecast, spike and new-period notices for every budget, each once."""
    result = JobResult()
    deps = ctx.deps
    channel = deps.settings.alert_channel
    budgets = list_budgets(ctx.session, deps.settings)
    if not budgets:
        result.notes.append("no budgets")
        return result
    if channel is None:
        result.errors.append("no ALERT_CHANNEL_ID or ADMIN_CHANNEL_ID")
        return result
    for budget in budgets:
        try:
            _check_budget(ctx, budget, channel, result)
        except (AdminAPIError, SlackApiError) as exc:
            detail = exc.user_message if isinstance(exc, AdminAPIError) else exc.response.get("error")
            logger.warning("budget alerts for %s failed: %s", budget.scope_key, detail)
            result.errors.append(f"{budget.scope_key}: {detail}")
    return result


def _send(ctx: JobContext, channel: str, text: str, blocks: list, keys: Sequence[str], result: JobResult) -> None:
    """Post once; record every key only after Slack accepted the message."""
    if ctx.dry_run:
        ctx.out(f"would post to {channel}: {text}")
        result.sent += 1
        return
    ctx.deps.notifier.post(channel, text, blocks)
    for key in keys:
        ctx.mark_done(key)
    result.sent += 1


def _check_budget(ctx: JobContext, budget: BudgetView, channel: str, result: JobResult) -> None:
    deps, now, tz = ctx.deps, ctx.now, ctx.deps.settings.tz
    scope = budget.scope_key
    period = usage.period_key(now, tz)
    start = periods.month_start(now, tz)
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    window_start = min(start, periods.local_midnight(yesterday - timedelta(days=SPIKE_TRAILING_DAYS), tz))
    window_start = max(window_start, usage.ANALYTICS_FLOOR)
    days, as_of = daily_spend(deps, budget.who, window_start, now)
    spent = sum((v for d, v in days.items() if d >= start.astimezone(tz).date()), Decimal(0))
    pos = position(budget, spent, now, tz, as_of)
    talk_to = contacts(deps, budget)

    def alert(kind: AlertKind, **extra: object) -> tuple[str, list]:
        return budget_blocks.build_alert(kind=kind, position=pos, contacts=talk_to, tz=tz, **extra)  # type: ignore[arg-type]

    settle(ctx.session, budget, spent, now, tz, dry_run=ctx.dry_run)

    # A new period: quiet, unless the last one went over budget.
    previous = usage.period_key(start - timedelta(days=1), tz)
    new_period_key = f"new-period:{scope}:{period}"
    if (
        spent < budget.amount
        and _has(ctx.session, f"exceeded:{scope}:{previous}")
        and not ctx.already_done(new_period_key)
    ):
        text, blocks = alert(AlertKind.NEW_PERIOD)
        _send(ctx, channel, text, blocks, [new_period_key], result)

    # Thresholds: one message naming the highest newly crossed one.
    reached = crossed(spent, budget.amount, budget.thresholds)
    keys = {m: threshold_key(scope, period, m, budget.revision) for m in reached}
    fresh = [m for m in reached if not ctx.already_done(keys[m])]
    if fresh:
        done_before = [m for m in reached if m not in fresh]
        if done_before and max(fresh) < max(done_before):
            # A threshold added below one already announced: nothing new to say.
            for mark in fresh:
                ctx.mark_done(keys[mark])
            result.skipped += len(fresh)
        else:
            text, blocks = alert(AlertKind.THRESHOLD, threshold=max(fresh))
            _send(ctx, channel, text, blocks, [keys[m] for m in fresh], result)
    if spent >= budget.amount:
        ctx.mark_done(f"exceeded:{scope}:{period}")

    # Forecast: once per period, with three days of data, while still under budget.
    forecast_key = f"forecast:{scope}:{period}"
    if (
        pos.forecast is not None
        and pos.forecast > budget.amount
        and spent < budget.amount
        and not ctx.already_done(forecast_key)
    ):
        text, blocks = alert(AlertKind.FORECAST)
        _send(ctx, channel, text, blocks, [forecast_key], result)

    # Spike: yesterday against the 7 days before it, once yesterday's data is complete.
    yesterday_complete = as_of is None or as_of >= periods.local_midnight(today, tz)
    if yesterday_complete:
        day_spend = days.get(yesterday, Decimal(0))
        trailing = [days.get(yesterday - timedelta(days=i), Decimal(0)) for i in range(1, SPIKE_TRAILING_DAYS + 1)]
        mean = sum(trailing, Decimal(0)) / SPIKE_TRAILING_DAYS
        spike_key = f"spike:{scope}:{yesterday.isoformat()}"
        if day_spend > SPIKE_FACTOR * mean and day_spend > SPIKE_MIN_USD and not ctx.already_done(spike_key):
            text, blocks = alert(AlertKind.SPIKE, day=yesterday, day_spend=day_spend, mean=mean)
            _send(ctx, channel, text, blocks, [spike_key], result)
