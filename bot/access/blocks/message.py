"""The admin-channel root message of a request, and the `requests` lists."""

from __future__ import annotations

from datetime import UTC, tzinfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.access.model import RequesterContext, RequestRef
from bot.core.format import duration, role_name, usd
from bot.slack.ids import Action
from bot.slack.text import clip, confirm_text, escape_clip, when
from storage.models import AccessRequest, RequestKind, RequestState

MAX_LISTED = 20
#: Slack's limit for a section's text; names (Console-side, anyone with access types them) are cut much shorter.
SECTION_TEXT = 3000
NAME_SHOWN = 200

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


def duration_text(days: int | None) -> str:
    """'permanent' or 'for 7 days'."""
    if not days:
        return "permanent"
    return f"for {duration(days)}"


def what(request: AccessRequest) -> str:
    """What the request asks for, in mrkdwn (names in bold)."""
    if request.kind == RequestKind.INVITE:
        invitee, role = escape_clip(request.invitee_email or "?", 400), escape_clip(role_name(request.role), 40)
        return f"an invite for {invitee} as *{role}*"
    workspace = escape_clip(request.workspace_name or "?", NAME_SHOWN)
    return f"*{workspace}* as {role_name(request.role)}, {duration_text(request.duration_days)}"


def what_plain(request: AccessRequest) -> str:
    """What the request asks for, in a sentence without bold."""
    if request.kind == RequestKind.INVITE:
        invitee, role = escape_clip(request.invitee_email or "?", 400), escape_clip(role_name(request.role), 40)
        return f"an invite for {invitee} as {role}"
    workspace = escape_clip(request.workspace_name or "?", NAME_SHOWN)
    return f"access to {workspace} as {role_name(request.role)}, {duration_text(request.duration_days)}"


def plain_what(request: AccessRequest) -> str:
    """What the request asks for, as plain text (a confirm dialog shows its text unformatted)."""
    if request.kind == RequestKind.INVITE:
        return f"an invite for {clip(request.invitee_email or '?', 320)} as {role_name(request.role)}"
    workspace = clip(request.workspace_name or "?", NAME_SHOWN)
    return f"access to {workspace} as {role_name(request.role)}, {duration_text(request.duration_days)}"


def request_summary(request: AccessRequest) -> str:
    """One line: which request, who wants what."""
    return f"Request #{request.id}: {asks(request)}"


def asks(request: AccessRequest) -> str:
    """Who wants what (the card's header already says which request)."""
    return f"<@{request.requester_slack_id}> asks for {what(request)}"


def state_line(request: AccessRequest) -> str:
    """The state, and who decided it when an admin did."""
    label = STATE_LABELS.get(request.state, request.state)
    by = request.decided_by_slack_id
    if by and request.state not in (RequestState.PENDING, RequestState.CANCELLED, RequestState.EXPIRED):
        verb = "denied" if request.state == RequestState.DENIED else "approved"
        label += f" ({verb} by <@{by}>)"
    return label


def root_text(request: AccessRequest) -> str:
    """The root message's fallback text."""
    return f"{request_summary(request)} ({request.state})"


def _context_lines(context: RequesterContext | None, tz: tzinfo, *, decided: bool) -> str:
    # After the decision the snapshot stays, said to be what admins saw then (keys and spend move on).
    head = ["_When they asked:_"] if decided else []
    if context is None:
        return "\n".join([*head, "Not yet a member of the Anthropic organization."])
    lines = [*head, f"Org role: *{escape_clip(role_name(context.org_role), 40)}*"]
    if context.keys is None:
        lines.append("Keys: unavailable right now")
    elif not context.keys:
        lines.append("Keys: none")
    else:
        shown = ", ".join(
            f"`{escape_clip(name, NAME_SHOWN)}`" + (f" …{escape_clip(hint, 20)}" if hint else "")
            for name, hint in context.keys[:5]
        )
        more = f" and {len(context.keys) - 5} more" if len(context.keys) > 5 else ""
        lines.append(f"Keys ({len(context.keys)}): {shown}{more}")
    if context.month_to_date_usd is None:
        lines.append("Spend this month: unavailable right now")
    else:
        as_of = f" (data as of {when(context.data_as_of, tz)})" if context.data_as_of else ""
        lines.append(f"Spend this month: {usd(context.month_to_date_usd)}{as_of}")
    return "\n".join(lines)


def build_request_message(
    request: AccessRequest, context: RequesterContext | None, *, show_context: bool = True, tz: tzinfo = UTC
) -> list[Block]:
    """The admin-channel root message: who, what, why, context (when known), state, and buttons while actionable."""
    value = RequestRef(r=request.id or 0).model_dump_json()
    # Escaped first, then cut: 1,000 typed "&" become 5,000 characters, past a section's 3,000.
    reason = escape_clip(request.reason or "(no reason given)", SECTION_TEXT - len("*Why:*\n"))
    kind = "Invite" if request.kind == RequestKind.INVITE else "Access"
    decided = request.state != RequestState.PENDING
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"{kind} request #{request.id}", 150)),
        SectionBlock(text=asks(request)),
        SectionBlock(text=f"*Why:*\n{reason}"),
        *([SectionBlock(text=_context_lines(context, tz, decided=decided))] if show_context else []),
        SectionBlock(text=f"*State:* {state_line(request)}"),
    ]
    if request.state == RequestState.FAILED and request.last_error:
        blocks.append(SectionBlock(text=f"*Last error:* {escape_clip(request.last_error, 500)}"))
    buttons: list[ButtonElement] = []
    if request.state in (RequestState.PENDING, RequestState.FAILED):
        if request.state == RequestState.PENDING:
            requester = request.requester_handle or "the requester"
            confirm = ConfirmObject(
                title="Approve this request?",
                text=confirm_text(f"The bot will give {requester} {plain_what(request)}."),
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
    return blocks


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
                    text=confirm_text("Admins will see it was cancelled."),
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
    return f"`dev-{slug}-&lt;purpose&gt;` (or `prod-{slug}-&lt;purpose&gt;`)" + (
        f" in workspace *{escape_clip(workspace, NAME_SHOWN)}*" if workspace else ""
    )
