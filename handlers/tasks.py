"""The work listeners hand on after the ack, as data: a task name and JSON arguments, run by `run_task`.

A listener builds a `Task`; `handlers.common` runs it on the worker pool. Because a task is only a name and
JSON, it can be stored and run by another process. Names are stable: never rename one, add a new name.
This module imports nothing of Bolt or asyncio, so a worker process can import it alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeAlias

from bot.access import audit, decide, intake
from bot.access.blocks import replies
from bot.access.model import Which
from bot.access.parse import RequestForm
from bot.deps import Deps
from bot.home import service as home
from bot.keys import check, listing, revoke, rotation, stale
from bot.keys.blocks import check as check_blocks
from bot.keys.blocks import listing as listing_blocks
from bot.keys.blocks import rotation as rotation_blocks
from bot.keys.blocks import stale as stale_blocks
from bot.keys.model import KeyScope
from bot.slack.reply import Reply

# rate limits
from bot.spend import (  # Claude Code analytics
    blocks_budgets,
    blocks_claude_code,
    blocks_drivers,
    blocks_limits,
    blocks_spend_limits,
    blocks_usage,
    budgets,
    claude_code,
    limits,
    planned,
    spend_limits,
    usage,
)
from bot.spend.model import BurnChart, ChartRequest
from bot.team import blocks as team_blocks
from bot.team import invites as team_invites
from bot.team import leavers, members, members_blocks, offboard, roles
from bot.team.members_model import AdminsOnly, MembersFilter
from bot.team.roles import RoleChange
from bot.team.target import email_of

logger = logging.getLogger(__name__)

JSON: TypeAlias = "str | int | bool | list[JSON] | dict[str, JSON] | None"


class TaskError(ValueError):
    """A task that cannot be built or run: an argument JSON cannot hold, or a name nothing registered."""


def _check_json(value: object, where: str) -> None:
    if value is None or isinstance(value, str | int):  # bool is an int
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TaskError(f"{where} has a key that is not a string: {type(key).__name__}")
            _check_json(item, f"{where}.{key}")
        return
    raise TaskError(
        f"{where} is a {type(value).__name__}; a task argument is JSON only (str, int, bool, None, list, dict)"
    )


@dataclass(frozen=True)
class Task:
    """One piece of after-ack work: a registered name and the JSON arguments its function is called with."""

    name: str
    args: dict[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TaskError("a task needs a name")
        if not isinstance(self.args, dict):
            raise TaskError(f"task {self.name!r}: args must be a dict")
        _check_json(self.args, f"task {self.name!r} args")

    def to_json(self) -> str:
        """The task as one JSON document (what a queue stores)."""
        return json.dumps({"name": self.name, "args": self.args}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Task:
        """The task `to_json` wrote."""
        data = json.loads(text)
        return cls(name=data["name"], args=data["args"])


@dataclass(frozen=True)
class FollowedReply(Reply):
    """An answer with more work that runs after it went out (its reply, if any, is added, never replacing)."""

    follow_up: Task | None = None


TaskFn = Callable[..., Reply | None]
TASKS: dict[str, TaskFn] = {}


def _task(name: str) -> Callable[[TaskFn], TaskFn]:
    def register(fn: TaskFn) -> TaskFn:
        if name in TASKS:
            raise ValueError(f"task {name!r} is registered twice")
        TASKS[name] = fn
        return fn

    return register


# Tasks whose run picks up where an interrupted run stopped (each step checks Anthropic before it writes), so a
# worker may run them again after another worker died part way; any other task is never run twice once it
# began an Admin API write.
RESUMABLE = frozenset({"team.offboard.run"})


def resumable(name: str) -> bool:
    """Whether a task may run again after an interrupted run that began an Admin API write."""
    return name in RESUMABLE


def run_task(deps: Deps, task: Task) -> Reply | None:
    """Run a task's function with its arguments; an unknown name is a clear error."""
    fn = TASKS.get(task.name)
    if fn is None:
        raise TaskError(f"no task is registered as {task.name!r}")
    return fn(deps, **task.args)


# ----------------------------------------------------------------------------------------------------------
# Access requests and the audit export
# ----------------------------------------------------------------------------------------------------------


@_task("request.file")
def request_file(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    return replies.filed(intake.request_from_args(deps, slack_user_id=slack_user_id, args=args))


@_task("request.file_form")
def request_file_form(
    deps: Deps, *, slack_user_id: str, workspace_id: str, role: str, days: int | None, reason: str
) -> Reply:
    form = RequestForm(workspace_id=workspace_id, role=role, days=days, reason=reason)
    return replies.filed(intake.request_from_form(deps, slack_user_id=slack_user_id, form=form))


@_task("request.list")
def request_list(deps: Deps, *, slack_user_id: str, which: Which) -> Reply:
    return replies.request_list(intake.list_requests(deps, slack_user_id=slack_user_id, which=which))


@_task("request.invite")
def request_invite(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    return replies.invite_answer(intake.invite(deps, slack_user_id=slack_user_id, args=args))


@_task("request.approve")
def request_approve(deps: Deps, *, slack_user_id: str, request_id: int) -> None:
    decide.approve(deps, request_id=request_id, slack_user_id=slack_user_id)


@_task("request.retry")
def request_retry(deps: Deps, *, slack_user_id: str, request_id: int) -> None:
    decide.retry(deps, request_id=request_id, slack_user_id=slack_user_id)


@_task("request.cancel")
def request_cancel(deps: Deps, *, slack_user_id: str, request_id: int) -> Reply:
    return replies.cancelled(decide.cancel(deps, request_id=request_id, slack_user_id=slack_user_id))


@_task("request.deny")
def request_deny(deps: Deps, *, slack_user_id: str, request_id: int, reason: str) -> None:
    decide.deny(deps, request_id=request_id, slack_user_id=slack_user_id, reason=reason)


@_task("audit.export")
def audit_export(deps: Deps, *, slack_user_id: str, days: int) -> Reply:
    return replies.audit_sent(audit.export_audit(deps, slack_user_id=slack_user_id, days=days))


# ----------------------------------------------------------------------------------------------------------
# Budgets, spend limits and usage
# ----------------------------------------------------------------------------------------------------------


@_task("budget.answer")
def budget_answer(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    wanted = budgets.parse_budget(args)  # pure; the listener parsed the same words before the ack
    if wanted.action == "set" and wanted.amount is not None:
        return blocks_budgets.budget_saved(budgets.set_budget(deps, slack_user_id, wanted.amount, wanted.workspace))
    if wanted.action == "thresholds":
        return blocks_budgets.thresholds_saved(budgets.set_thresholds(deps, slack_user_id, wanted.thresholds))
    return blocks_budgets.budget_list(budgets.show_budgets(deps, slack_user_id))


@_task("budget.mirror")
def budget_mirror(deps: Deps, *, slack_user_id: str, scope_key: str) -> Reply:
    return blocks_budgets.mirror_outcome(budgets.mirror_budget(deps, slack_user_id, scope_key))


# -- spend alerts that explain themselves ----------------------------------------------------------------


@_task("budget.spike_planned")
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


@_task("spend_limit.approve")
def spend_limit_approve(deps: Deps, *, slack_user_id: str, request_id: str, amount: str) -> Reply:
    decision = spend_limits.approve(deps, slack_user_id, request_id, Decimal(amount))
    return blocks_spend_limits.decision_reply(decision)


@_task("spend_limit.deny")
def spend_limit_deny(deps: Deps, *, slack_user_id: str, request_id: str) -> Reply:
    return blocks_spend_limits.decision_reply(spend_limits.deny(deps, slack_user_id, request_id))


@_task("home.publish")
def home_publish(deps: Deps, *, slack_user_id: str) -> None:
    home.publish_home(deps, slack_user_id)


@_task("usage.answer")
def usage_answer(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    report = usage.usage_report(deps, slack_user_id, usage.parse_usage(args))
    answer = blocks_usage.usage_reply(report)
    chart = blocks_usage.usage_chart(report)
    if chart is None:
        return answer
    return FollowedReply(answer.text, answer.blocks, follow_up=Task("usage.chart", chart_args(chart)))


@_task("usage.chart")
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


@_task("claude_code.answer")
def claude_code_answer(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    query = claude_code.parse_claude_code(args)
    report = claude_code.claude_code_report(deps, slack_user_id, query)
    if isinstance(report, claude_code.OrgReport):
        return blocks_claude_code.org_reply(report, query.period, deps.settings.tz)
    return blocks_claude_code.person_reply(report, query.period, deps.settings.tz)


# ----------------------------------------------------------------------------------------------------------
# Keys
# ----------------------------------------------------------------------------------------------------------


@_task("keys.list")
def keys_list(deps: Deps, *, slack_user_id: str, scope: KeyScope, target: str | None = None, page: int = 0) -> Reply:
    keys = listing.list_keys(deps, slack_user_id=slack_user_id, scope=scope, target_slack_id=target, page=page)
    return listing_blocks.key_list_reply(keys)


@_task("keys.revoke.start")
def keys_revoke_start(deps: Deps, *, slack_user_id: str, key_id: str, reason: str) -> Reply:
    started = revoke.start_revoke(deps, slack_user_id=slack_user_id, key_id=key_id, reason=reason)
    return listing_blocks.revoke_confirm_reply(started)


@_task("keys.revoke.confirm")
def keys_revoke_confirm(deps: Deps, *, slack_user_id: str, key_id: str, reason: str) -> Reply:
    return listing_blocks.revoked_reply(revoke.revoke(deps, slack_user_id=slack_user_id, key_id=key_id, reason=reason))


@_task("keys.rotate")
def keys_rotate(deps: Deps, *, slack_user_id: str, key_id: str) -> Reply:
    return rotation_blocks.rotation_started_reply(rotation.rotate(deps, slack_user_id=slack_user_id, key_id=key_id))


@_task("keys.rotation.deactivate_old")
def keys_rotation_deactivate_old(deps: Deps, *, slack_user_id: str, rotation_id: int) -> Reply:
    done = rotation.deactivate_old_key(deps, slack_user_id=slack_user_id, rotation_id=rotation_id)
    return rotation_blocks.rotation_done_reply(done)


@_task("keys.check")
def keys_check(deps: Deps, *, slack_user_id: str, query: str) -> Reply:
    return check_blocks.check_reply(check.check(deps, slack_user_id=slack_user_id, query=query))


@_task("keys.stale.deactivate")
def keys_stale_deactivate(
    deps: Deps,
    *,
    slack_user_id: str,
    key_id: str,
    channel: str | None,
    ts: str | None,
    blocks: list[dict[str, Any]],
) -> Reply:
    done = stale.deactivate_from_report(
        deps, slack_user_id=slack_user_id, key_id=key_id, channel=channel, ts=ts, blocks=blocks
    )
    return stale_blocks.stale_deactivated_reply(done)


@_task("team.role.propose")
def team_role_propose(deps: Deps, *, slack_user_id: str, target: str, role: str, usage: str) -> Reply:
    email = email_of(deps, target, usage)
    return team_blocks.role_confirm(roles.propose(deps, slack_user_id=slack_user_id, email=email, role=role))


@_task("team.role.change")
def team_role_change(deps: Deps, *, slack_user_id: str, email: str, old: str, new: str) -> Reply:
    proposed = RoleChange(email=email, user_id="", old=old, new=new)
    return team_blocks.role_done(roles.change(deps, slack_user_id=slack_user_id, proposed=proposed))


@_task("team.offboard.propose")
def team_offboard_propose(deps: Deps, *, slack_user_id: str, target: str, reason: str, usage: str) -> Reply:
    email = email_of(deps, target, usage)
    return team_blocks.offboard_confirm(
        offboard.propose_offboard(deps, slack_user_id=slack_user_id, email=email), reason
    )


@_task("team.offboard.run")
def team_offboard_run(deps: Deps, *, slack_user_id: str, email: str, reason: str) -> Reply:
    done = offboard.run_offboard(deps, slack_user_id=slack_user_id, email=email, reason=reason)
    return team_blocks.offboard_done(done)


# ----------------------------------------------------------------------------------------------------------
# Members and invites (`/claude-key members`)
# ----------------------------------------------------------------------------------------------------------


@_task("team.members.list")
def team_members_list(
    deps: Deps, *, slack_user_id: str, which: MembersFilter, workspace: str | None = None, page: int = 0
) -> Reply:
    tz = deps.settings.tz
    if which == "invites":
        invites = team_invites.list_invites(deps, slack_user_id=slack_user_id, page=page)
        if isinstance(invites, AdminsOnly):
            return members_blocks.admins_only_reply(invites)
        return members_blocks.invite_page_reply(invites, tz)
    listing = members.list_members(deps, slack_user_id=slack_user_id, which=which, workspace=workspace, page=page)
    if isinstance(listing, AdminsOnly):
        return members_blocks.admins_only_reply(listing)
    return members_blocks.member_page_reply(listing, tz)


@_task("team.invite.withdraw")
def team_invite_withdraw(deps: Deps, *, slack_user_id: str, invite_id: str, email: str) -> Reply:
    done = team_invites.withdraw(deps, slack_user_id=slack_user_id, invite_id=invite_id, email=email)
    return members_blocks.withdrawn_reply(done)


@_task("team.invite.reinvite")
def team_invite_reinvite(deps: Deps, *, slack_user_id: str, invite_id: str, email: str) -> Reply:
    done = team_invites.reinvite(deps, slack_user_id=slack_user_id, invite_id=invite_id, email=email)
    return members_blocks.reinvited_reply(done, deps.settings.tz)


# --- leaver-sweep ------------------------------------------------------------------------------------------------


@_task("team.leaver.check")
def team_leaver_check(deps: Deps, *, slack_user_id: str) -> None:
    leavers.check_person(deps, slack_user_id=slack_user_id)


@_task("team.leaver.offboard")
def team_leaver_offboard(deps: Deps, *, slack_user_id: str, case_id: int) -> Reply:
    return leavers.offboard_leaver(deps, slack_user_id=slack_user_id, case_id=case_id)


@_task("team.leaver.not_a_leaver")
def team_leaver_not_a_leaver(deps: Deps, *, slack_user_id: str, case_id: int) -> Reply:
    return leavers.not_a_leaver(deps, slack_user_id=slack_user_id, case_id=case_id)


# rate limits
@_task("limits.answer")
def limits_answer(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    report = limits.limits_report(deps, slack_user_id, limits.parse_limits(args))
    return blocks_limits.limits_reply(report)
