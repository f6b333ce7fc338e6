"""The requester's status card: one DM per request, edited in place at every step (`bot.access.card`)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.access.blocks.message import SECTION_TEXT, what
from bot.access.model import RequestRef
from bot.slack.ids import Action
from bot.slack.text import clip_escaped, confirm_text
from storage.models import AccessRequest, RequestKind, RequestState

S = RequestState

EMOJI: dict[str, str] = {
    S.PENDING: ":hourglass_flowing_sand:",
    S.APPROVED: ":gear:",
    S.INVITED: ":email:",
    S.GRANTED: ":white_check_mark:",
    S.FULFILLED: ":key:",
    S.DENIED: ":no_entry:",
    S.CANCELLED: ":heavy_multiplication_x:",
    S.EXPIRED: ":zzz:",
    S.FAILED: ":warning:",
    S.REVOKED: ":lock:",
}

# What the card says when a step brings no sentence of its own (an admin withdrew an invite request, say).
DEFAULT_STATUS: dict[str, str] = {
    S.PENDING: "Waiting for an admin to approve or deny.",
    S.APPROVED: "Approved; I'm setting up your access.",
    S.INVITED: "Approved; waiting for the invite to be accepted.",
    S.GRANTED: "You have access; waiting for your key.",
    S.FULFILLED: "Done: your key exists. You're all set.",
    S.DENIED: "Denied.",
    S.CANCELLED: "Cancelled.",
    S.EXPIRED: "Expired. File a new request if you still need access.",
    S.FAILED: "Setting up your access didn't work at Anthropic's end; the admins have been told and can retry.",
    S.REVOKED: "Your time-bound access has ended.",
}

# The steps of a request that goes through; each state on the way marks the steps before it done (a state's
# index: how many are done).
_INVITE_PATH: dict[str, int] = {S.PENDING: 1, S.APPROVED: 2, S.INVITED: 2, S.FULFILLED: 3}
_MEMBER_PATH: dict[str, int] = {S.PENDING: 1, S.APPROVED: 2, S.GRANTED: 3, S.FULFILLED: 4}
_INVITED_PATH: dict[str, int] = {S.PENDING: 1, S.APPROVED: 2, S.INVITED: 2, S.GRANTED: 4, S.FULFILLED: 5}


def default_status(request: AccessRequest) -> str:
    """The card's sentence for the request's state."""
    return DEFAULT_STATUS.get(request.state, request.state)


def _progress(request: AccessRequest) -> str | None:
    """'✓ Sent → ✓ Approved → ○ Invite accepted → …' while the request is on its way; None once it left the path."""
    if request.kind == RequestKind.INVITE:
        steps, path = ["Sent", "Approved", "Invite accepted"], _INVITE_PATH
    elif request.invite_id:  # not an org member when they asked: an invite on the way
        steps, path = ["Sent", "Approved", "Invite accepted", "Access granted", "Key created"], _INVITED_PATH
    else:
        steps, path = ["Sent", "Approved", "Access granted", "Key created"], _MEMBER_PATH
    done = path.get(request.state)
    if done is None:
        return None
    return " → ".join(f"{'✓' if n < done else '○'} {step}" for n, step in enumerate(steps))


def card_text(request: AccessRequest, status: str) -> str:
    """The card's fallback text (what a notification shows)."""
    return f"Request #{request.id}: {status}"


def build_status_card(request: AccessRequest, status: str, *, admin_link: str | None) -> list[Block]:
    """Request #n: what was asked for; where it stands now (`status`, mrkdwn, user text escaped by the caller);
    the steps done; a link to the admin thread (only for people in the admin channel); Cancel while pending."""
    emoji = EMOJI.get(request.state, "")
    blocks: list[Block] = [
        SectionBlock(text=clip_escaped(f"*Request #{request.id}:* {what(request)}", SECTION_TEXT)),
        SectionBlock(text=clip_escaped(f"{emoji} {status}".strip(), SECTION_TEXT)),
    ]
    notes = [text for text in (_progress(request),) if text]
    if admin_link:
        notes.append(f"<{admin_link}|Open the thread in the admin channel>")
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note) for note in notes]))
    if request.state == S.PENDING:
        cancel = ButtonElement(
            text="Cancel request",
            action_id=Action.CANCEL_REQUEST,
            value=RequestRef(r=request.id or 0).model_dump_json(),
            confirm=ConfirmObject(
                title="Cancel this request?",
                text=confirm_text("Admins will see it was cancelled."),
                confirm="Cancel request",
                deny="Keep it",
            ),
        )
        blocks.append(ActionsBlock(block_id=f"request_{request.id}", elements=[cancel]))
    return blocks
