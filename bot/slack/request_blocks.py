"""Block Kit for access requests: the admin-channel root message, modals, lists, DMs. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.format import usd
from bot.slack.ids import Action, Callback
from bot.slack.text import clip, escape
from storage.models import AccessRequest, RequestKind, RequestState

# Reasons are shown in full up to here; Slack's section text limit is 3,000 characters.
REASON_LIMIT = 1000
MAX_LISTED = 20

WORKSPACE_ROLES: dict[str, str] = {
    "workspace_developer": "Developer (can create API keys)",
    "workspace_restricted_developer": "Restricted developer",
    "workspace_user": "User (Console access, no keys)",
}
DURATIONS: dict[str, str] = {"0": "Permanent", "1": "1 day", "7": "7 days", "30": "30 days"}

STATE_LABELS: dict[str, str] = {
    RequestState.PENDING: ":hourglass_flowing_sand: Pending approval",
    RequestState.APPROVED: ":gear: Approved, being set up",
    RequestState.INVITED: ":email: Invite sent, waiting for the invite to be accepted",
    RequestState.GRANTED: ":white_check_mark: Access granted, waiting for the key",
    RequestState.FULFILLED: ":key: Fulfilled: key created",
    RequestState.DENIED: ":no_entry: Denied",
    RequestState.CANCELLED: ":heavy_multiplication_x: Cancelled by the requester",
    RequestState.EXPIRED: ":zzz: Expired",
    RequestState.FAILED: ":warning: Failed; an admin can retry",
    RequestState.REVOKED: ":lock: Access ended (time-bound grant)",
}


class RequestRef(BaseModel):
    """What a button or modal carries: only the id; state is re-read from the database."""

    r: int


class RequestFormMeta(BaseModel):
    """The request modal's private_metadata: where the command was typed, for the receipt."""

    channel: str | None = None


@dataclass(frozen=True)
class RequesterContext:
    """What admins see about the requester, when the Admin API could tell."""

    org_role: str | None
    keys: list[tuple[str, str | None]] | None  # (name, partial hint); None: unknown
    month_to_date_usd: Decimal | None
    data_as_of: datetime | None


def duration_text(days: int | None) -> str:
    """'permanent' or 'for 7 days'."""
    if not days:
        return "permanent"
    return f"for {days} day{'s' if days != 1 else ''}"


def _what(request: AccessRequest) -> str:
    if request.kind == RequestKind.INVITE:
        return f"an invite for {escape(request.invitee_email or '?')} as *{escape(request.role)}*"
    role = WORKSPACE_ROLES.get(request.role, request.role).split(" (")[0].lower()
    return f"*{escape(request.workspace_name or '?')}* as {role}, {duration_text(request.duration_days)}"


def request_summary(request: AccessRequest) -> str:
    """One line: who wants what."""
    return f"Request #{request.id}: <@{request.requester_slack_id}> asks for {_what(request)}"


def _context_lines(context: RequesterContext | None) -> str:
    if context is None:
        return "Not yet a member of the Anthropic organization."
    lines = [f"Org role: *{escape(context.org_role or 'none')}*"]
    if context.keys is None:
        lines.append("Keys: unavailable right now")
    elif not context.keys:
        lines.append("Keys: none")
    else:
        shown = ", ".join(
            f"`{escape(name)}`" + (f" …{escape(hint)}" if hint else "") for name, hint in context.keys[:5]
        )
        more = f" and {len(context.keys) - 5} more" if len(context.keys) > 5 else ""
        lines.append(f"Keys ({len(context.keys)}): {shown}{more}")
    if context.month_to_date_usd is None:
        lines.append("Spend this month: unavailable right now")
    else:
        as_of = f" (data as of {context.data_as_of:%Y-%m-%d %H:%M} UTC)" if context.data_as_of else ""
        lines.append(f"Spend this month: {usd(context.month_to_date_usd)}{as_of}")
    return "\n".join(lines)


def build_request_message(
    request: AccessRequest, context: RequesterContext | None, *, show_context: bool = True
) -> list[Block]:
    """The admin-channel root message: who, what, why, context (when known), state, and buttons while actionable."""
    value = RequestRef(r=request.id or 0).model_dump_json()
    reason = escape(clip(request.reason or "(no reason given)", REASON_LIMIT))
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Access request #{request.id}", 150)),
        SectionBlock(text=request_summary(request)),
        SectionBlock(text=f"*Why:*\n{reason}"),
        *([SectionBlock(text=_context_lines(context))] if show_context else []),
        SectionBlock(text=f"*State:* {STATE_LABELS.get(request.state, request.state)}"),
    ]
    if request.state == RequestState.FAILED and request.last_error:
        blocks.append(SectionBlock(text=f"*Last error:* {escape(clip(request.last_error, 500))}"))
    buttons: list[ButtonElement] = []
    if request.state in (RequestState.PENDING, RequestState.FAILED):
        if request.state == RequestState.PENDING:
            confirm = ConfirmObject(
                title="Approve this request?",
                text=clip(f"The bot will give <@{request.requester_slack_id}> {_what(request)}.", 300),
                confirm="Approve",
                deny="Cancel",
            )
            buttons.append(
                ButtonElement(
                    text="Approve", action_id=Action.APPROVE_REQUEST, value=value, style="primary", confirm=confirm
                )
            )
        else:
            buttons.append(ButtonElement(text="Retry", action_id=Action.RETRY_REQUEST, value=value, style="primary"))
        buttons.append(ButtonElement(text="Deny", action_id=Action.DENY_REQUEST, value=value, style="danger"))
        blocks.append(ActionsBlock(block_id=f"request_{request.id}", elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Request #{request.id} · {request.kind}")]))
    return blocks


def build_request_modal(
    workspaces: list[tuple[str, str]] | None, *, meta: RequestFormMeta, error: str | None = None
) -> View:
    """The request form; `workspaces` None while the live list loads."""
    blocks: list[Block] = []
    if error:
        blocks.append(SectionBlock(text=f":warning: {escape(error)}"))
    elif workspaces is None:
        blocks.append(SectionBlock(text=":hourglass_flowing_sand: Loading the organization's workspaces…"))
    elif not workspaces:
        blocks.append(SectionBlock(text="The organization has no workspaces yet; ask an admin to create one."))
    else:
        options = [Option(text=clip(name, 75), value=wid) for wid, name in workspaces[:100]]
        blocks.append(
            InputBlock(
                block_id="workspace",
                label="Workspace",
                element=StaticSelectElement(action_id="value", placeholder="Choose a workspace", options=options),
            )
        )
        blocks.append(
            InputBlock(
                block_id="role",
                label="Role in the workspace",
                element=StaticSelectElement(
                    action_id="value",
                    options=[Option(text=label, value=role) for role, label in WORKSPACE_ROLES.items()],
                    initial_option=Option(text=WORKSPACE_ROLES["workspace_developer"], value="workspace_developer"),
                ),
            )
        )
        blocks.append(
            InputBlock(
                block_id="duration",
                label="For how long",
                element=StaticSelectElement(
                    action_id="value",
                    options=[Option(text=label, value=days) for days, label in DURATIONS.items()],
                    initial_option=Option(text=DURATIONS["0"], value="0"),
                ),
            )
        )
        blocks.append(
            InputBlock(
                block_id="reason",
                label="Why do you need it?",
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=REASON_LIMIT),
            )
        )
    ready = bool(workspaces) and not error
    return View(
        type="modal",
        callback_id=Callback.REQUEST_MODAL,
        title="Request Claude access",
        submit="Send request" if ready else None,
        close="Cancel",
        private_metadata=meta.model_dump_json(),
        blocks=blocks,
    )


def build_deny_modal(request_id: int) -> View:
    """Ask the admin for a reason before denying."""
    return View(
        type="modal",
        callback_id=Callback.DENY_MODAL,
        title=f"Deny request #{request_id}"[:24],
        submit="Deny",
        close="Cancel",
        private_metadata=RequestRef(r=request_id).model_dump_json(),
        blocks=[
            InputBlock(
                block_id="reason",
                label="Reason (the requester sees it)",
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=REASON_LIMIT),
            )
        ],
    )


def build_request_list(requests: list[AccessRequest], *, links: dict[int, str], cancellable: bool) -> list[Block]:
    """Open requests, newest first, with Cancel buttons for the requester's pending ones."""
    if not requests:
        return [SectionBlock(text="No open requests.")]
    blocks: list[Block] = []
    for request in requests[:MAX_LISTED]:
        link = f" · <{links[request.id or 0]}|thread>" if request.id in links else ""
        text = f"{request_summary(request)}\n{STATE_LABELS.get(request.state, request.state)}{link}"
        if cancellable and request.state == RequestState.PENDING:
            button = ButtonElement(
                text="Cancel",
                action_id=Action.CANCEL_REQUEST,
                value=RequestRef(r=request.id or 0).model_dump_json(),
                confirm=ConfirmObject(
                    title="Cancel this request?",
                    text="Admins will see it was cancelled.",
                    confirm="Cancel request",
                    deny="Keep it",
                ),
            )
            blocks.append(SectionBlock(text=text, accessory=button))
        else:
            blocks.append(SectionBlock(text=text))
        blocks.append(DividerBlock())
    if len(requests) > MAX_LISTED:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(requests) - MAX_LISTED} more.")]))
    return blocks[:50]


def key_name_hint(handle: str | None, workspace: str | None) -> str:
    """The key naming convention `<env>-<slack-handle>-<purpose>`, filled in as far as we can."""
    slug = "".join(c if c.isalnum() else "-" for c in (handle or "you").lower()).strip("-") or "you"
    return f"`dev-{slug}-<purpose>` (or `prod-{slug}-<purpose>`)" + (
        f" in workspace *{escape(workspace)}*" if workspace else ""
    )
