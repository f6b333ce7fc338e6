"""Block Kit for spend-limit increase requests: the admin-channel card, the Approve modal, the decision texts.

Pure: data from `bot.spend.model` in, text, blocks and views out. Money is rounded to cents here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.format import money
from bot.slack.ids import Action, Callback
from bot.slack.reply import Reply
from bot.slack.text import confirm_text, escape_clip, when
from bot.spend.model import SpendDecision, SpendModalPayload, SpendRequestCard, SpendRequestPayload

AMOUNT_BLOCK = "amount"
AMOUNT_INPUT = "amount_input"

_STATE_LINES = {
    "approving": ":hourglass_flowing_sand: Being approved…",
    "denying": ":hourglass_flowing_sand: Being denied…",
    "approved": ":white_check_mark: Approved",
    "denied": ":no_entry: Denied",
    "resolved": ":information_source: Resolved outside the bot",
}


def _period_noun(period: str) -> str:
    return {"daily": "day", "weekly": "week"}.get(period, "month")


def spend_request_card(card: SpendRequestCard) -> Reply:
    """The admin-channel message for one increase request; buttons only while it can still be decided."""
    who = (
        f"<@{card.requester_slack_id}>"
        if card.requester_slack_id
        else escape_clip(card.requester_name or card.requester_email or card.requester_user_id or "an API key", 200)
    )
    email = f" ({escape_clip(card.requester_email, 320)})" if card.requester_email and card.requester_slack_id else ""
    limit = money(card.current_limit, card.currency) if card.current_limit is not None else "none set"
    spend = money(card.spend, card.currency) if card.spend is not None else "unknown"
    text = f"Spend-limit increase request from {who}: {card.period} limit {limit}, spent {spend}."
    blocks: list[Block] = [
        SectionBlock(text=f":money_with_wings: *Spend-limit increase request* from {who}{email}"),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Current {card.period} limit*\n{limit}"),
                MarkdownTextObject(text=f"*Spent this {_period_noun(card.period)}*\n{spend}"),
                MarkdownTextObject(text="*Requested amount*\nnot stated (Anthropic's requests carry none)"),
                MarkdownTextObject(text=f"*Suggested*\n{money(card.suggestion, card.currency)} (editable on Approve)"),
            ]
        ),
    ]
    if card.decidable:
        payload = SpendRequestPayload(
            request_id=card.request_id, suggested=str(card.suggestion), currency=card.currency
        ).model_dump_json()
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Approve…", action_id=Action.SPEND_REQUEST_APPROVE, value=payload, style="primary"
                    ),
                    ButtonElement(
                        text="Deny",
                        action_id=Action.SPEND_REQUEST_DENY,
                        value=payload,
                        style="danger",
                        confirm=ConfirmObject(
                            title="Deny this request?",
                            text=confirm_text("The member keeps their current limit."),
                            confirm="Deny",
                            deny="Cancel",
                        ),
                    ),
                ]
            )
        )
        if card.state == "failed" and card.last_error:
            warning = f":warning: Last attempt failed: {escape_clip(card.last_error, 500)} You can try again."
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=warning)]))
        return Reply(text, blocks)
    if card.resolved_as is not None:
        line = f"Resolved outside the bot: {card.resolved_as}."
    else:
        line = _STATE_LINES.get(card.state, card.state)
    if card.state == "approved" and card.approved_amount is not None:
        line += f" at {money(card.approved_amount, card.currency)} a {_period_noun(card.period)}"
    if card.decided_by_slack_id and card.state in ("approved", "denied"):
        line += f" by <@{card.decided_by_slack_id}>"
    if card.decided_at is not None:
        line += f", {when(card.decided_at, card.tz)}"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line + ".")]))
    return Reply(text, blocks)


def approve_modal(payload: SpendRequestPayload, *, channel_id: str | None) -> View:
    """The Approve modal: the amount, prefilled with the suggestion."""
    return View(
        type="modal",
        callback_id=Callback.SPEND_APPROVE_MODAL,
        title=PlainTextObject(text="Approve increase"),
        submit=PlainTextObject(text="Approve"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=SpendModalPayload(request_id=payload.request_id, channel_id=channel_id).model_dump_json(),
        blocks=[
            InputBlock(
                block_id=AMOUNT_BLOCK,
                label=PlainTextObject(text=f"New limit in {payload.currency}"),
                element=PlainTextInputElement(action_id=AMOUNT_INPUT, initial_value=payload.suggested),
                hint=PlainTextObject(
                    text="Whole units and cents, e.g. 250 or 1,500.00, in the organization's billing currency. "
                    "Anthropic writes it as the member's own limit."
                ),
            )
        ],
    )


def amount_from_view(view: dict[str, Any]) -> str:
    """The amount typed into the Approve modal (the one place that walks the view state)."""
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get(AMOUNT_BLOCK) or {}).get(AMOUNT_INPUT) or {}).get("value") or "")


def amount_error() -> dict[str, str]:
    """The modal's validation error for a bad amount."""
    return {AMOUNT_BLOCK: "Enter a positive amount in dollars and cents, e.g. 250 or 1,500.00."}


def decision_thread_line(decision: SpendDecision) -> str:
    """What the request's thread is told: who decided what, or who tried and what Anthropic said."""
    mention = f"<@{decision.decider_slack_id}>" if decision.decider_slack_id else "An admin"
    if decision.error is not None:
        return f"{mention} tried to {decision.verb} this, but Anthropic said: {decision.error}"
    if decision.verb == "approve":
        amount = money(decision.amount or Decimal(0), decision.currency)
        return f"Approved by {mention}: the {decision.period} limit is now {amount}."
    return f"Denied by {mention}."


def decision_dm(decision: SpendDecision) -> str | None:
    """The requester's DM about the decision; None when nothing was decided (Anthropic refused)."""
    if decision.error is not None:
        return None
    if decision.verb == "approve":
        amount = money(decision.amount or Decimal(0), decision.currency)
        return f"Your spend-limit increase was approved: your {decision.period} limit is now {amount}."
    return "Your spend-limit increase request was denied. Ask an admin if you need more."


def decision_reply(decision: SpendDecision) -> Reply:
    """The deciding admin's answer."""
    if decision.error is not None:
        return Reply(f"Couldn't {decision.verb} the request: {decision.error}")
    return Reply(decision_thread_line(decision))
