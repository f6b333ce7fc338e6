"""Access requests: `/claude-key request|requests|invite`, Approve/Deny/Retry/Cancel, and the two modals."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.services import requests as service
from bot.slack.commands import Parsed, Sub
from bot.slack.ids import Action, Callback
from bot.slack.request_blocks import (
    REASON_LIMIT,
    RequestFormMeta,
    RequestRef,
    build_deny_modal,
    build_request_modal,
)
from handlers.common import WORKING, answer_later, reply_for, tell_later
from handlers.router import Router

logger = logging.getLogger(__name__)

USAGE_REQUESTS = "Usage: `/claude-key requests [mine | pending]`"


def _ref(value: str | None) -> int | None:
    try:
        return RequestRef.model_validate_json(value or "").r
    except ValidationError:
        return None


def _input(view: dict[str, Any], block: str) -> dict[str, Any]:
    values: dict[str, Any] = view.get("state", {}).get("values", {}).get(block, {}).get("value", {})
    return values


def register(app: AsyncApp, deps: Deps, router: Router) -> None:
    """Register the request commands, buttons and modals."""

    async def on_request(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, client: AsyncWebClient, **_: Any
    ) -> None:
        user = command["user_id"]
        if parsed.args:
            await ack(text=WORKING, response_type="ephemeral")
            await answer_later(
                deps, respond, lambda: service.request_from_args(deps, slack_user_id=user, args=parsed.args)
            )
            return
        await ack()
        meta = RequestFormMeta(channel=command.get("channel_id"))
        try:  # the trigger id lives 3 s: open first, fill in the live workspace list after
            opened = await client.views_open(
                trigger_id=command["trigger_id"], view=build_request_modal(None, meta=meta)
            )
        except SlackApiError as exc:
            logger.warning("could not open the request form: %s", exc.response.get("error"))
            await respond(
                text="I couldn't open the form; try again, or use `/claude-key request <workspace> [for 7d] <reason>`.",
                response_type="ephemeral",
            )
            return
        view_id = opened["view"]["id"]
        try:
            choices = await deps.run(service.workspace_choices, deps)
            view = build_request_modal(choices, meta=meta)
        except Exception as exc:
            view = build_request_modal(None, meta=meta, error=reply_for(exc).text)
        try:
            await client.views_update(view_id=view_id, view=view)
        except SlackApiError as exc:  # the user closed the form meanwhile
            logger.info("request form not updated: %s", exc.response.get("error"))

    async def on_requests(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        which = parsed.args[0].lower() if parsed.args else "mine"
        if which not in ("mine", "pending") or len(parsed.args) > 1:
            await ack(text=USAGE_REQUESTS, response_type="ephemeral")
            return
        await ack(text=WORKING, response_type="ephemeral")
        user = command["user_id"]
        await answer_later(deps, respond, lambda: service.list_requests(deps, slack_user_id=user, which=which))

    async def on_invite(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        if not parsed.args:
            await ack(text=service.USAGE_INVITE, response_type="ephemeral")
            return
        await ack(text=WORKING, response_type="ephemeral")
        user = command["user_id"]
        await answer_later(deps, respond, lambda: service.invite(deps, slack_user_id=user, args=parsed.args))

    router.add(Sub.REQUEST, on_request)
    router.add(Sub.REQUESTS, on_requests)
    router.add(Sub.INVITE, on_invite)

    async def click(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, work: Any) -> None:
        await ack()
        request_id = _ref((body.get("actions") or [{}])[0].get("value"))
        if request_id is None:
            await respond(
                text="That button is broken; use `/claude-key requests`.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        user = body["user"]["id"]
        await answer_later(
            deps, respond, lambda: work(deps, request_id=request_id, slack_user_id=user), replace_original=False
        )

    @app.action(Action.APPROVE_REQUEST)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await click(ack, body, respond, service.approve)

    @app.action(Action.RETRY_REQUEST)
    async def on_retry(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await click(ack, body, respond, service.retry)

    @app.action(Action.CANCEL_REQUEST)
    async def on_cancel(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await click(ack, body, respond, service.cancel)

    @app.action(Action.DENY_REQUEST)
    async def on_deny(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        request_id = _ref((body.get("actions") or [{}])[0].get("value"))
        if request_id is None:
            return
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=build_deny_modal(request_id))
        except SlackApiError as exc:
            logger.warning("could not open the deny form: %s", exc.response.get("error"))
            await respond(
                text="I couldn't open the deny form; please click Deny again.",
                response_type="ephemeral",
                replace_original=False,
            )

    @app.view(Callback.DENY_MODAL)
    async def on_deny_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = (_input(view, "reason").get("value") or "").strip()
        if not reason:
            await ack(response_action="errors", errors={"reason": "Please give a reason; the requester sees it."})
            return
        await ack()
        request_id = _ref(view.get("private_metadata"))
        user = body["user"]["id"]
        if request_id is not None:
            await tell_later(
                deps,
                user=user,
                channel=deps.settings.admin_channel_id,
                work=lambda: service.deny(deps, request_id=request_id, slack_user_id=user, reason=reason),
            )

    @app.view(Callback.REQUEST_MODAL)
    async def on_request_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        workspace = (_input(view, "workspace").get("selected_option") or {}).get("value")
        role = (_input(view, "role").get("selected_option") or {}).get("value") or "workspace_developer"
        raw_days = str((_input(view, "duration").get("selected_option") or {}).get("value") or "0")
        days = int(raw_days) if raw_days.isdecimal() and len(raw_days) < 4 else None  # a forged value: no limit
        reason = (_input(view, "reason").get("value") or "").strip()
        errors = {}
        if not workspace:
            errors["workspace"] = "Choose a workspace."
        if not reason:
            errors["reason"] = "Tell the admins why you need access."
        elif len(reason) > REASON_LIMIT:
            errors["reason"] = f"Keep it under {REASON_LIMIT} characters."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        try:
            channel = RequestFormMeta.model_validate_json(view.get("private_metadata") or "{}").channel
        except ValidationError:
            channel = None
        user = body["user"]["id"]
        await tell_later(
            deps,
            user=user,
            channel=channel,
            work=lambda: service.request_from_form(
                deps, slack_user_id=user, workspace_id=str(workspace), role=role, days=days, reason=reason
            ),
        )
