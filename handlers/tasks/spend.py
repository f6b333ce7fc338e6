"""Tasks of budgets, spend limits, usage, charts, Claude Code and rate limits."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from bot.deps import Deps
from bot.home import service as home
from bot.slack.reply import Reply

# rate limits
from bot.spend import (  # Claude Code analytics
    blocks_budgets,
    blocks_claude_code,
    blocks_drivers,
    blocks_limits,
    blocks_spend_limits,
    blocks_usage,
    budget_form,
    budgets,
    claude_code,
    limits,
    planned,
    spend_limits,
    usage,
)
from bot.spend.model import BurnChart, ChartRequest
from handlers.tasks.base import JSON, FollowedReply, Task, task

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------
# Budgets, spend limits and usage
# ----------------------------------------------------------------------------------------------------------


@task("budget.answer")
def budget_answer(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    wanted = budgets.parse_budget(args)  # pure; the listener parsed the same words before the ack
    if wanted.action == "set" and wanted.amount is not None:
        return blocks_budgets.budget_saved(budgets.set_budget(deps, slack_user_id, wanted.amount, wanted.workspace))
    if wanted.action == "thresholds":
        return blocks_budgets.thresholds_saved(budgets.set_thresholds(deps, slack_user_id, wanted.thresholds))
    return blocks_budgets.budget_list(budgets.show_budgets(deps, slack_user_id))


@task("budget.mirror")
def budget_mirror(deps: Deps, *, slack_user_id: str, scope_key: str) -> Reply:
    return blocks_budgets.mirror_outcome(budgets.mirror_budget(deps, slack_user_id, scope_key))


# -- spend alerts that explain themselves ----------------------------------------------------------------


@task("budget.spike_planned")
def budget_spike_planned(
    deps: Deps,
    *,
    slack_user_id: str,
    scope_key: str,
    day: str,
    channel: str | None = None,
    ts: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> Reply:
    outcome = planned.mark_planned(
        deps,
        slack_user_id=slack_user_id,
        scope_key=scope_key,
        day=planned.parse_day(day),
        channel=channel,
        ts=ts,
        blocks=blocks or [],
    )
    return blocks_drivers.planned_reply(outcome)


@task("spend_limit.approve")
def spend_limit_approve(deps: Deps, *, slack_user_id: str, request_id: str, amount: str) -> Reply:
    decision = spend_limits.approve(deps, slack_user_id, request_id, Decimal(amount))
    return blocks_spend_limits.decision_reply(decision)


@task("spend_limit.deny")
def spend_limit_deny(deps: Deps, *, slack_user_id: str, request_id: str) -> Reply:
    return blocks_spend_limits.decision_reply(spend_limits.deny(deps, slack_user_id, request_id))


@task("home.publish")
def home_publish(deps: Deps, *, slack_user_id: str) -> None:
    home.publish_home(deps, slack_user_id)


@task("usage.answer")
def usage_answer(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    report = usage.usage_report(deps, slack_user_id, usage.parse_usage(args))
    answer = blocks_usage.usage_reply(report)
    chart = blocks_usage.usage_chart(report)
    if chart is None:
        return answer
    return FollowedReply(answer.text, answer.blocks, follow_up=Task("usage.chart", chart_args(chart)))


@task("usage.chart")
def usage_chart(deps: Deps, **chart: Any) -> Reply | None:
    try:
        uploaded = usage.post_chart(deps, chart_from_args(chart))
    except Exception as exc:
        logger.warning("chart failed: %s", type(exc).__name__, exc_info=exc)
        uploaded = False
    return None if uploaded else Reply(blocks_usage.CHART_FAILED)


def chart_args(chart: ChartRequest) -> dict[str, JSON]:
    """A chart request as task arguments (dates as ISO strings, amounts as decimal strings)."""
    daily: dict[str, JSON] = {
        day.isoformat(): {name: str(amount) for name, amount in row.items()} for day, row in chart.daily.items()
    }
    return {
        "slack_user_id": chart.slack_user_id,
        "title": chart.title,
        "comment": chart.comment,
        "filename": chart.filename,
        "daily": daily,
        "start": chart.start.isoformat(),
        "end": chart.end.isoformat(),
        "burn": _burn_args(chart.burn),
    }


def _burn_args(burn: BurnChart | None) -> JSON:
    if burn is None:
        return None
    return {
        "first_day": burn.first_day.isoformat(),
        "last_day": burn.last_day.isoformat(),
        "daily": {day.isoformat(): str(amount) for day, amount in burn.daily.items()},
        "budget": str(burn.budget),
        "forecast": str(burn.forecast) if burn.forecast is not None else None,
    }


def _burn_from_args(args: dict[str, Any] | None) -> BurnChart | None:
    if not args:
        return None
    return BurnChart(
        first_day=date.fromisoformat(args["first_day"]),
        last_day=date.fromisoformat(args["last_day"]),
        daily={date.fromisoformat(day): Decimal(amount) for day, amount in args["daily"].items()},
        budget=Decimal(args["budget"]),
        forecast=Decimal(args["forecast"]) if args.get("forecast") is not None else None,
    )


def chart_from_args(args: dict[str, Any]) -> ChartRequest:
    """The chart request `chart_args` described."""
    daily = {
        date.fromisoformat(day): {name: Decimal(amount) for name, amount in row.items()}
        for day, row in args["daily"].items()
    }
    return ChartRequest(
        slack_user_id=args["slack_user_id"],
        title=args["title"],
        comment=args["comment"],
        filename=args["filename"],
        daily=daily,
        start=date.fromisoformat(args["start"]),
        end=date.fromisoformat(args["end"]),
        burn=_burn_from_args(args.get("burn")),  # absent in work stored before burn charts
    )


# Claude Code analytics


@task("claude_code.answer")
def claude_code_answer(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    query = claude_code.parse_claude_code(args)
    report = claude_code.claude_code_report(deps, slack_user_id, query)
    if isinstance(report, claude_code.OrgReport):
        return blocks_claude_code.org_reply(report, query.period, deps.settings.tz)
    return blocks_claude_code.person_reply(report, query.period, deps.settings.tz)


# rate limits
@task("limits.answer")
def limits_answer(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    report = limits.limits_report(deps, slack_user_id, limits.parse_limits(args))
    return blocks_limits.limits_reply(report)


# A button at every next step


@task("budget.view_usage")
def budget_view_usage(deps: Deps, *, slack_user_id: str, workspace_id: str | None) -> Reply | None:
    """A budget alert's View usage: `usage org mtd`, or `usage workspace <its name now> mtd`."""
    if workspace_id is None:
        return usage_answer(deps, slack_user_id=slack_user_id, args=["org", "mtd"])
    names = {w.id: w.name for w in deps.admin.list_workspaces(include_archived=True)}
    if workspace_id not in names:
        return Reply("That workspace no longer exists in the Anthropic organization.")
    return usage_answer(deps, slack_user_id=slack_user_id, args=["workspace", names[workspace_id], "mtd"])


@task("budget.change")
def budget_change(
    deps: Deps, *, slack_user_id: str, scope_key: str, amount: str, thresholds: list[int] | None = None
) -> Reply:
    """A budget alert's Change budget, submitted: `budget set` for that budget (by its workspace id), then
    `budget thresholds` when they were changed; each re-checks that the submitter is an admin."""
    saved = budgets.set_budget(deps, slack_user_id, Decimal(amount), workspace_id=budget_form.workspace_of(scope_key))
    marks = None
    if thresholds is not None and tuple(thresholds) != saved.budget.thresholds:
        marks = budgets.set_thresholds(deps, slack_user_id, budgets.parse_thresholds(",".join(map(str, thresholds))))
    return budget_form.change_saved(blocks_budgets.budget_saved(saved), marks)
