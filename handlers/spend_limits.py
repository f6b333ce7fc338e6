"""Approve (amount in a modal) and Deny buttons of spend-limit increase requests: ack first, then the service."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.services import budgets, spend_limits
from bot.slack.budget_blocks import (
    SpendModalPayload,
    SpendRequestPayload,
    amount_error,
    amount_from_view,
    build_approve_modal,
)
from bot.slack.ids import Action, Callback
from handlers.common import answer_later, tell_later
from handlers.fallbacks import STALE_BUTTON

logger = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Register the buttons and the Approve modal."""

    @app.action(Action.SPEND_REQUEST_APPROVE)
    async def on_approve(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        try:
            payload = SpendRequestPayload.model_validate_json(action.get("value") or "")
        except ValidationError:
            await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        channel = (body.get("channel") or {}).get("id")
        # The trigger id lives 3 s: open the modal right away; role and state are checked on submit.
        await client.views_open(trigger_id=body["trigger_id"], view=build_approve_modal(payload, channel_id=channel))

    @app.view(Callback.SPEND_APPROVE_MODAL)
    async def on_approve_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            amount = budgets.parse_amount(amount_from_view(view))
        except budgets.BudgetSyntaxError:
            await ack(response_action="errors", errors=amount_error())
            return
        await ack()
        try:
            meta = SpendModalPayload.model_validate_json(view.get("private_metadata") or "")
        except ValidationError:
            logger.info("approve modal without its payload")
            return
        user = body["user"]["id"]
        request_id = meta.request_id
        await tell_later(
            deps, user=user, channel=meta.channel_id, work=lambda: spend_limits.approve(deps, user, request_id, amount)
        )

    @app.action(Action.SPEND_REQUEST_DENY)
    async def on_deny(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        try:
            payload = SpendRequestPayload.model_validate_json(action.get("value") or "")
        except ValidationError:
            await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        user = body["user"]["id"]
        await answer_later(
            deps, respond, lambda: spend_limits.deny(deps, user, payload.request_id), replace_original=False
        )
