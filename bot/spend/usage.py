"""Usage and cost: `/claude-key usage` (parse, who may see what, the report) and the App Home line.

Numbers come from `bot/spend/analytics.py`. Time comes from `deps.clock()`; days and months start at
00:00 TIMEZONE. Report calls happen outside any database transaction (SQLite would hold its write lock
through them).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.anthropic_admin import AdminAPIError
from bot.core.errors import UserError
from bot.core.periods import local_midnight, month_start
from bot.deps import Deps
from bot.identity import Actor, confirm_role, resolve_actor
from bot.spend import analytics, blocks_usage, charts, positions
from bot.spend.model import (
    ORG,
    BurnChart,
    ChartRequest,
    Period,
    ScopeKind,
    SpendSummary,
    UsageQuery,
    UsageReport,
    Who,
    workspace_who,
)
from storage.db import session_scope

logger = logging.getLogger(__name__)

USAGE_LINE = "Usage: `/claude-key usage [me | org | workspace &lt;name&gt; | @user] [today | 7d | 30d | mtd]`"


class UsageSyntaxError(ValueError):
    """The arguments don't parse; the message is the usage line, with what was wrong."""


_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def parse_usage(args: Sequence[str]) -> UsageQuery:
    """Parse `usage` arguments (pure; runs before the ack)."""
    words = list(args)
    period = Period.MTD
    if words and words[-1].lower() in {p.value for p in Period}:
        period = Period(words.pop().lower())
    if not words:
        return UsageQuery(ScopeKind.ME, period)
    first = words[0].lower()
    if first in {"me", "mine"} and len(words) == 1:
        return UsageQuery(ScopeKind.ME, period)
    if first == "org" and len(words) == 1:
        return UsageQuery(ScopeKind.ORG, period)
    if first == "workspace":
        name = " ".join(words[1:]).strip()
        if not name:
            raise UsageSyntaxError(f"Name the workspace: `/claude-key usage workspace &lt;name&gt;`.\n{USAGE_LINE}")
        return UsageQuery(ScopeKind.WORKSPACE, period, workspace=name)
    if len(words) == 1:
        mention = _MENTION.match(words[0])
        if mention:
            return UsageQuery(ScopeKind.USER, period, slack_user_id=mention.group(1))
        if words[0].startswith("@"):
            raise UsageSyntaxError(f"Pick the person from Slack's @-menu so I get their user ID.\n{USAGE_LINE}")
    raise UsageSyntaxError(USAGE_LINE)


def period_bounds(period: Period, now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, now) for a usage period; days start at local midnight."""
    today = now.astimezone(tz).date()
    if period is Period.TODAY:
        start = local_midnight(today, tz)
    elif period is Period.D7:
        start = local_midnight(today - timedelta(days=6), tz)
    elif period is Period.D30:
        start = local_midnight(today - timedelta(days=29), tz)
    else:
        start = month_start(now, tz)
    return max(start, analytics.floor(now)), now


def _may_see_others(actor: Actor) -> bool:
    return actor.is_admin or actor.is_billing


def resolve_scope(deps: Deps, actor: Actor, query: UsageQuery, target: Actor | None = None) -> Who:
    """Turn a query into filters, refusing what the actor may not see (README: Commands in Slack).

    `target` is the resolved `@user` of a USER query. Admin API calls only: no database session is held.
    """
    if query.scope is ScopeKind.ME:
        if actor.anthropic_user_id is None:
            raise UserError(
                "You aren't a member of the Anthropic organization yet, so there is no usage of yours to show. "
                "Ask for access with `/claude-key request`."
            )
        return analytics.person_who(deps, actor.anthropic_user_id, ScopeKind.ME)
    if not _may_see_others(actor):
        raise UserError(
            "Only admins and billing viewers can see usage beyond their own. `/claude-key usage` shows yours."
        )
    if query.scope is ScopeKind.ORG:
        return ORG
    if query.scope is ScopeKind.WORKSPACE:
        workspace = analytics.find_workspace(deps, (query.workspace or "").strip())
        return workspace_who(workspace.id, workspace.name)
    if target is None or target.anthropic_user_id is None:
        raise UserError(
            f"<@{query.slack_user_id}> isn't a member of the Anthropic organization, so they have no usage."
        )
    return analytics.person_who(deps, target.anthropic_user_id, ScopeKind.USER, slack_user_id=query.slack_user_id)


def usage_report(deps: Deps, slack_user_id: str, query: UsageQuery) -> UsageReport:
    """Answer `/claude-key usage …` for a Slack user (runs after the ack)."""
    now = deps.clock()
    tz = deps.settings.tz
    actor = resolve_actor(deps, slack_user_id)
    if query.scope is not ScopeKind.ME and _may_see_others(actor):
        actor = confirm_role(deps, actor)  # others' usage: a role checked just now; own usage may use the cache
    target = None
    if query.scope is ScopeKind.USER and _may_see_others(actor) and query.slack_user_id:
        target = resolve_actor(deps, query.slack_user_id)
    who = resolve_scope(deps, actor, query, target)
    budget = None
    if who.budget_scope:
        with session_scope(deps.engine) as session:
            budget = positions.budget_for_scope(session, deps.settings, who.budget_scope)
    start, end = period_bounds(query.period, now, tz)
    longer_than_a_day = start.astimezone(tz).date() < end.astimezone(tz).date()
    calls: list[Callable[[], Any]] = [
        lambda: analytics.spend_summary(deps, who, start, end, daily=longer_than_a_day, products=True)
    ]
    period_start = max(month_start(now, tz), analytics.floor(now))
    if budget is not None and query.period is not Period.MTD:
        # The period's spend per day: the burn chart's line, and its sum the budget's position (one call).
        calls.append(lambda: analytics.daily_spend(deps, who, period_start, now, use_cache=True))
    results = analytics.fan_out(deps, *calls)
    summary: SpendSummary = results[0]
    position = burn = None
    if budget is not None:
        if query.period is Period.MTD:
            period_days = {d: sum(v.values(), Decimal(0)) for d, v in summary.daily.items()}
            spent = summary.total
        else:
            period_days = results[1][0]
            spent = sum(period_days.values(), Decimal(0))
        position = positions.position(budget, spent, now, tz)
        last = (position.period_end - timedelta(microseconds=1)).astimezone(tz).date()
        burn = BurnChart(period_start.astimezone(tz).date(), last, period_days, budget.amount, position.forecast)
    # A chart of spend per day follows when there are days to compare and something was spent.
    chart = longer_than_a_day and summary.total > 0
    days = (start.astimezone(tz).date(), end.astimezone(tz).date()) if chart else None
    return UsageReport(slack_user_id, who, query.period, summary, position, days, tz, burn=burn if chart else None)


def post_chart(deps: Deps, chart: ChartRequest) -> bool:
    """Draw the chart and upload it to the user's DM (file upload v2); False if Slack refused."""
    png = charts.daily_spend_png(chart.daily, chart.start, chart.end, title=chart.title, burn=chart.burn)
    try:
        opened = deps.slack.conversations_open(users=chart.slack_user_id)
        channel = str(opened["channel"]["id"])
        deps.slack.files_upload_v2(
            channel=channel,
            file=png,
            filename=chart.filename,
            title=chart.title,
            alt_txt=chart.title,
            initial_comment=chart.comment,
        )
    except SlackApiError as exc:
        logger.warning("chart upload failed: %s", exc.response.get("error"))
        return False
    return True


def home_usage(deps: Deps, actor: Actor) -> SpendSummary | None:
    """The actor's month-to-date cost and tokens for the App Home; None if not a member or unavailable."""
    if actor.anthropic_user_id is None:
        return None
    now = deps.clock()
    start = month_start(now, deps.settings.tz)
    try:
        who = analytics.person_who(deps, actor.anthropic_user_id, ScopeKind.ME)
        return analytics.spend_summary(deps, who, max(start, analytics.floor(now)), now, daily=False)
    except AdminAPIError as exc:
        logger.info("home usage line unavailable: %s", type(exc).__name__)
        return None


def home_usage_line(deps: Deps, actor: Actor) -> str | None:
    """`home_usage` rendered as the App Home's one mrkdwn line (what `bot/home/service.py` shows)."""
    summary = home_usage(deps, actor)
    return blocks_usage.home_line(summary, deps.settings.tz) if summary is not None else None
