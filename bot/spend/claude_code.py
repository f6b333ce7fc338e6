"""`/claude-key claude-code [me | org | @user] [7d | 30d | mtd]` (alias `cc`): Claude Code activity and its cost.

Numbers come from the Claude Code Analytics report (`AdminGateway.claude_code_day`: one UTC day a call, every
actor of that day), summed per actor (`claude_code_store.DayTotals`), fetched day by day side by side on
`deps.fanout` and cached per day in `deps.cache`; a finished day is stored in the database the first time it is read
and read from there afterwards, in any process (bot/spend/claude_code_store.py). A person
is their records as a `user_actor` (by email) plus the records of the API keys they created (`api_actor`, by key
name). Days are UTC days, as the report counts them. Money stays exact `Decimal` until the builders show it.
Admin API calls and Slack lookups happen outside any database transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, confirm_role, resolve_actor
from bot.spend.analytics import cached
from bot.spend.claude_code_store import ActorDay, DayTotals, fetch_days, report_currency
from bot.spend.claude_code_store import day_is_final as day_is_final  # what the answers count as final
from storage import repositories as repo
from storage.db import session_scope

CLAUDE_CODE_LINE = "Usage: `/claude-key claude-code [me | org | @user] [7d | 30d | mtd]` (or `/claude-key cc …`)"
TOP = 10

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


class CCScope(StrEnum):
    """Whose Claude Code activity."""

    ME = "me"
    ORG = "org"
    USER = "user"


class CCPeriod(StrEnum):
    """Which UTC days."""

    D7 = "7d"
    D30 = "30d"
    MTD = "mtd"


class ClaudeCodeSyntaxError(ValueError):
    """The arguments don't parse; the message is the usage line, with what was wrong."""


@dataclass(frozen=True)
class CCQuery:
    """A parsed `/claude-key claude-code …`."""

    scope: CCScope = CCScope.ME
    period: CCPeriod = CCPeriod.D7
    slack_user_id: str | None = None


def parse_claude_code(args: Sequence[str]) -> CCQuery:
    """Parse `claude-code` arguments (pure; runs before the ack). Default: your own, the last 7 days."""
    words = list(args)
    period = CCPeriod.D7
    if words and words[-1].lower() in {p.value for p in CCPeriod}:
        period = CCPeriod(words.pop().lower())
    if not words:
        return CCQuery(CCScope.ME, period)
    if len(words) == 1:
        first = words[0].lower()
        if first in {"me", "mine"}:
            return CCQuery(CCScope.ME, period)
        if first == "org":
            return CCQuery(CCScope.ORG, period)
        mention = _MENTION.match(words[0])
        if mention:
            return CCQuery(CCScope.USER, period, slack_user_id=mention.group(1))
        if words[0].startswith("@"):
            raise ClaudeCodeSyntaxError(
                f"Pick the person from Slack's @-menu so I get their user ID.\n{CLAUDE_CODE_LINE}"
            )
    raise ClaudeCodeSyntaxError(CLAUDE_CODE_LINE)


def period_days(period: CCPeriod, now: datetime) -> list[date]:
    """The UTC days of a period, oldest first, today included (its numbers are still growing)."""
    today = now.astimezone(UTC).date()
    if period is CCPeriod.D7:
        first = today - timedelta(days=6)
    elif period is CCPeriod.D30:
        first = today - timedelta(days=29)
    else:
        first = today.replace(day=1)
    return [first + timedelta(days=i) for i in range((today - first).days + 1)]


# --------------------------------------------------------------------------------------------------
# What the builders render
# --------------------------------------------------------------------------------------------------


@dataclass
class Activity:
    """Claude Code activity summed over records: counts, tool decisions and estimated cost by model."""

    sessions: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    commits: int = 0
    pull_requests: int = 0
    tool_accepted: int = 0
    tool_rejected: int = 0
    cost: Decimal = Decimal(0)
    cost_by_model: dict[str, Decimal] = field(default_factory=dict)

    def add(self, record: ActorDay, currency: str) -> None:
        """Count one actor's day in; its cost only when it is in the report's currency."""
        self.sessions += record.sessions
        self.lines_added += record.lines_added
        self.lines_removed += record.lines_removed
        self.commits += record.commits
        self.pull_requests += record.pull_requests
        self.tool_accepted += record.tool_accepted
        self.tool_rejected += record.tool_rejected
        for cur, model, cost, _ in record.costs:
            if cur != currency:
                continue
            self.cost += cost
            self.cost_by_model[model] = self.cost_by_model.get(model, Decimal(0)) + cost

    def merge(self, other: Activity) -> None:
        """Count another sum in (its cost already in the report's currency)."""
        self.sessions += other.sessions
        self.lines_added += other.lines_added
        self.lines_removed += other.lines_removed
        self.commits += other.commits
        self.pull_requests += other.pull_requests
        self.tool_accepted += other.tool_accepted
        self.tool_rejected += other.tool_rejected
        self.cost += other.cost
        for model, cost in other.cost_by_model.items():
            self.cost_by_model[model] = self.cost_by_model.get(model, Decimal(0)) + cost

    @property
    def active(self) -> bool:
        """Anything happened at all."""
        return bool(self.sessions or self.lines_added or self.lines_removed or self.commits or self.cost)

    @property
    def acceptance(self) -> Decimal | None:
        """Accepted edits / all edit decisions, 0-1; None when no tool was asked about."""
        decided = self.tool_accepted + self.tool_rejected
        return Decimal(self.tool_accepted) / decided if decided else None


@dataclass(frozen=True)
class Ranked:
    """One actor in a top list: a person (email, Slack id when the directory matches) or an API key."""

    email: str | None
    api_key_name: str | None
    slack_user_id: str | None
    activity: Activity


@dataclass(frozen=True)
class PersonReport:
    """One person's Claude Code activity over the period, in total and per UTC day."""

    who_slack_id: str | None  # None: the asker themselves
    days: list[date]
    total: Activity
    per_day: dict[date, Activity]
    currency: str
    data_as_of: datetime
    note: str | None = None  # e.g. "you asked for the org; here is yours"
    other_currency: bool = False


@dataclass(frozen=True)
class OrgReport:
    """The organization's Claude Code activity: totals and the top people by cost and by lines added."""

    days: list[date]
    total: Activity
    people: int
    api_keys: int
    top_by_cost: list[Ranked]
    top_by_lines: list[Ranked]
    top_keys: list[Ranked]
    currency: str
    data_as_of: datetime
    other_currency: bool = False


ClaudeCodeReport = PersonReport | OrgReport


# --------------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------------


def _person_records(day: DayTotals, email: str | None, key_names: frozenset[str]) -> list[ActorDay]:
    wanted = email.lower() if email else None
    return [
        a
        for a in day.actors
        if (a.kind == "user" and wanted is not None and a.actor == wanted)
        or (a.kind == "api_key" and a.actor in key_names)
    ]


def person_report(
    deps: Deps,
    *,
    email: str | None,
    anthropic_user_id: str | None,
    period: CCPeriod,
    who_slack_id: str | None = None,
    note: str | None = None,
) -> PersonReport:
    """One person's activity: their records by email and those of the API keys they created."""
    days = period_days(period, deps.clock())
    key_names: frozenset[str] = frozenset()
    if anthropic_user_id is not None:
        keys = cached(
            deps,
            ("key-names-of", anthropic_user_id),
            lambda: tuple(sorted(k.name for k in deps.admin.list_api_keys(created_by_user_id=anthropic_user_id))),
        )
        key_names = frozenset(keys)
    reports, as_of = fetch_days(deps, days)
    currency, other = report_currency(reports)
    total = Activity()
    per_day: dict[date, Activity] = {}
    for report in reports:
        day = per_day.setdefault(report.day, Activity())
        for record in _person_records(report, email, key_names):
            day.add(record, currency)
            total.add(record, currency)
    return PersonReport(who_slack_id, days, total, per_day, currency, as_of, note, other)


def _per_actor(
    reports: Sequence[DayTotals], currency: str
) -> tuple[Activity, dict[str, Activity], dict[str, Activity]]:
    """The period's total, and its sums per person (by email) and per API key (by name): each record counted
    once, into its actor's sum; the total is the actors' sums added up."""
    total = Activity()
    people: dict[str, Activity] = {}
    keys: dict[str, Activity] = {}
    for report in reports:
        for record in report.actors:
            if record.kind == "user" and record.actor:
                sums, name = people, record.actor
            elif record.kind == "api_key":
                sums, name = keys, record.actor
            else:
                total.add(record, currency)
                continue
            activity = sums.get(name)
            if activity is None:
                activity = sums[name] = Activity()
            activity.add(record, currency)
    for activity in (*people.values(), *keys.values()):
        total.merge(activity)
    return total, people, keys


def org_report(deps: Deps, period: CCPeriod) -> OrgReport:
    """The org's totals and top 10 people by cost and by lines added, with Slack ids from the stored directory."""
    days = period_days(period, deps.clock())
    reports, as_of = fetch_days(deps, days)
    currency, other = report_currency(reports)
    total, people, keys = _per_actor(reports, currency)
    by_cost = sorted(people.items(), key=lambda p: (-p[1].cost, -p[1].lines_added, p[0]))[:TOP]
    by_lines = sorted(people.items(), key=lambda p: (-p[1].lines_added, -p[1].cost, p[0]))[:TOP]
    wanted = {email for email, _ in by_cost} | {email for email, _ in by_lines}
    with session_scope(deps.engine) as session:
        slack_ids = repo.slack_ids_by_email(session=session, emails=wanted)

    def ranked(rows: list[tuple[str, Activity]]) -> list[Ranked]:
        return [Ranked(email, None, slack_ids.get(email), activity) for email, activity in rows]

    top_keys = [
        Ranked(None, name, None, activity)
        for name, activity in sorted(keys.items(), key=lambda k: (-k[1].cost, -k[1].lines_added, k[0]))[:5]
    ]
    return OrgReport(
        days, total, len(people), len(keys), ranked(by_cost), ranked(by_lines), top_keys, currency, as_of, other
    )


# --------------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------------

OWN_ONLY = "Only admins and billing viewers can see others' Claude Code activity, so this is yours."


def _may_see_others(actor: Actor) -> bool:
    return actor.is_admin or actor.is_billing


def claude_code_report(deps: Deps, slack_user_id: str, query: CCQuery) -> ClaudeCodeReport:
    """Answer `/claude-key claude-code …` for a Slack user (runs after the ack). Others asking for the org or
    another person see their own, and are told so."""
    actor = resolve_actor(deps, slack_user_id)
    note = None
    if query.scope is CCScope.USER and query.slack_user_id == slack_user_id:
        query = CCQuery(CCScope.ME, query.period)  # asking about yourself is "me"
    if query.scope is not CCScope.ME:
        if _may_see_others(actor):
            actor = confirm_role(deps, actor)  # others' activity: a role checked just now
        if not _may_see_others(actor):
            note = OWN_ONLY
        elif query.scope is CCScope.ORG:
            return org_report(deps, query.period)
        elif query.slack_user_id is not None:
            target = resolve_actor(deps, query.slack_user_id)
            if target.email is None or target.anthropic_user_id is None:
                raise UserError(
                    f"<@{query.slack_user_id}> isn't a member of the Anthropic organization, so they have no "
                    "Claude Code activity."
                )
            return person_report(
                deps,
                email=target.email,
                anthropic_user_id=target.anthropic_user_id,
                period=query.period,
                who_slack_id=query.slack_user_id,
            )
    if actor.anthropic_user_id is None:
        raise UserError(
            "You aren't a member of the Anthropic organization yet, so there is no Claude Code activity of yours "
            "to show. Ask for access with `/claude-key request`."
        )
    return person_report(
        deps, email=actor.email, anthropic_user_id=actor.anthropic_user_id, period=query.period, note=note
    )


# --------------------------------------------------------------------------------------------------
# The weekly digest's section
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestSection:
    """Last week's Claude Code activity for the digest (None from `digest_section` when there was none)."""

    total: Activity
    people: int
    top: list[Ranked]
    currency: str


def digest_section(deps: Deps, days: Sequence[date]) -> DigestSection | None:
    """The org's Claude Code week for the digest: totals and the top 3 people by cost; None with no activity."""
    reports, _ = fetch_days(deps, days)
    currency, _ = report_currency(reports)
    total, people, _ = _per_actor(reports, currency)
    if not total.active:
        return None
    top = sorted(people.items(), key=lambda p: (-p[1].cost, p[0]))[:3]
    with session_scope(deps.engine) as session:
        slack_ids = repo.slack_ids_by_email(session=session, emails=[e for e, _ in top])
    ranked = [Ranked(email, None, slack_ids.get(email), activity) for email, activity in top]
    return DigestSection(total, len(people), ranked, currency)
