"""Tasks of access requests and the audit export."""

from __future__ import annotations

import logging

from bot.access import audit, decide, intake
from bot.access.blocks import replies
from bot.access.model import Which
from bot.access.parse import RequestForm
from bot.deps import Deps
from bot.slack.reply import Reply

# rate limits
from handlers.tasks.base import task

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------
# Access requests and the audit export
# ----------------------------------------------------------------------------------------------------------


@task("request.file")
def request_file(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    return replies.filed(intake.request_from_args(deps, slack_user_id=slack_user_id, args=args))


@task("request.file_form")
def request_file_form(
    deps: Deps, *, slack_user_id: str, workspace_id: str, role: str, days: int | None, reason: str
) -> Reply:
    form = RequestForm(workspace_id=workspace_id, role=role, days=days, reason=reason)
    return replies.filed(intake.request_from_form(deps, slack_user_id=slack_user_id, form=form))


@task("request.list")
def request_list(deps: Deps, *, slack_user_id: str, which: Which) -> Reply:
    return replies.request_list(intake.list_requests(deps, slack_user_id=slack_user_id, which=which))


@task("request.invite")
def request_invite(deps: Deps, *, slack_user_id: str, args: list[str]) -> Reply:
    return replies.invite_answer(intake.invite(deps, slack_user_id=slack_user_id, args=args))


@task("request.approve")
def request_approve(deps: Deps, *, slack_user_id: str, request_id: int) -> None:
    decide.approve(deps, request_id=request_id, slack_user_id=slack_user_id)


@task("request.retry")
def request_retry(deps: Deps, *, slack_user_id: str, request_id: int) -> None:
    decide.retry(deps, request_id=request_id, slack_user_id=slack_user_id)


@task("request.cancel")
def request_cancel(deps: Deps, *, slack_user_id: str, request_id: int) -> Reply:
    return replies.cancelled(decide.cancel(deps, request_id=request_id, slack_user_id=slack_user_id))


@task("request.deny")
def request_deny(deps: Deps, *, slack_user_id: str, request_id: int, reason: str) -> None:
    decide.deny(deps, request_id=request_id, slack_user_id=slack_user_id, reason=reason)


@task("audit.export")
def audit_export(deps: Deps, *, slack_user_id: str, days: int) -> Reply:
    return replies.audit_sent(audit.export_audit(deps, slack_user_id=slack_user_id, days=days))
