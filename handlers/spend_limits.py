"""Approve (amount in a modal) and Deny buttons of spend-limit increase requests: ack first, then the service."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Worker
from bot.slack.ids import Action, Callback
from bot.spend import blocks_spend_limits, budgets
from bot.spend.model import SpendModalPayload, SpendRequestPayload
from handlers.common import answer_later, tell_later
from handlers.middleware import button, modal
from handlers.tasks import Task


def register(app: AsyncApp, worker: Worker) -> None:
    """Register the buttons and the Approve modal."""

    @app.action(Action.SPEND_REQUEST_APPROVE, middleware=[button(SpendRequestPayload)])
    async def on_approve(ref: SpendRequestPayload, body: dict[str, Any], client: AsyncWebClient) -> None:
        channel = (body.get("channel") or {}).get("id")
        # The trigger id lives 3 s: open the modal right away; role and state are checked on submit.
        view = blocks_spend_limits.approve_modal(ref, channel_id=channel)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(Callback.SPEND_APPROVE_MODAL, middleware=[modal(SpendModalPayload)])
    async def on_approve_submit(ack: AsyncAck, ref: SpendModalPayload, clicker: str, view: dict[str, Any]) -> None:
        try:
            amount = budgets.parse_amount(blocks_spend_limits.amount_from_view(view))
        except budgets.BudgetSyntaxError:
            await ack(response_action="errors", errors=blocks_spend_limits.amount_error())
            return
        task = Task(
            "spend_limit.approve", {"slack_user_id": clicker, "request_id": ref.request_id, "amount": str(amount)}
        )
        await tell_later(worker, ack=ack, user=clicker, channel=ref.channel_id, task=task)

    @app.action(Action.SPEND_REQUEST_DENY, middleware=[button(SpendRequestPayload, acks=False)])
    async def on_deny(ack: AsyncAck, ref: SpendRequestPayload, clicker: str, respond: AsyncRespond) -> None:
        task = Task("spend_limit.deny", {"slack_user_id": clicker, "request_id": ref.request_id})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)
