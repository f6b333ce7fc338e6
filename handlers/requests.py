"""Access requests: `/claude-key request|requests|invite`, Approve/Deny/Retry/Cancel, and the two modals."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import intake
from bot.access.blocks import forms
from bot.access.model import DenyMeta, RequestFormMeta, RequestRef
from bot.access.parse import (
    DENY_REASON_MISSING,
    USAGE_INVITE,
    parse_requests_which,
    read_deny_reason,
    read_request_form,
)
from bot.core.errors import UserError
from bot.deps import Worker
from bot.slack.commands import Parsed, Sub
from bot.slack.ids import Action, Callback
from handlers.answers import reply_for
from handlers.common import answer_later, tell_later
from handlers.middleware import button, parse_value
from handlers.router import Router
from handlers.tasks import Task

logger = logging.getLogger(__name__)

# What Approve, Retry and Cancel answer when their value does not parse (Deny stays silent).
BROKEN_BUTTON = "That button is broken; use `/claude-key requests`."


def from_home(body: dict[str, Any]) -> bool:
    """Whether a click came from the App Home tab (no response_url: the answer goes by DM, then Home is
    re-published)."""
    container, view = body.get("container"), body.get("view")
    return (isinstance(container, dict) and container.get("type") == "view") and (
        isinstance(view, dict) and view.get("type") == "home"
    )


def for_home(task: Task, clicker: str) -> Task:
    """`task` as a Home click runs it: answered by DM, and the clicker's Home re-published after."""
    args = {k: v for k, v in task.args.items() if k != "slack_user_id"}
    return Task("home.act", {"slack_user_id": clicker, "name": task.name, "args": args})


async def open_request_form(
    worker: Worker,
    client: AsyncWebClient,
    *,
    trigger_id: str,
    meta: RequestFormMeta,
    tell: Callable[[str], Awaitable[None]],
) -> None:
    """Open the request modal (the trigger id lives 3 s: open first, fill in the live workspace list after);
    `tell` says so when Slack refused to open it."""
    try:
        opened = await client.views_open(trigger_id=trigger_id, view=forms.build_request_modal(None, meta=meta))
    except SlackApiError as exc:
        logger.warning("could not open the request form: %s", exc.response.get("error"))
        await tell(forms.FORM_NOT_OPENED)
        return
    view_id = opened["view"]["id"]
    try:
        view = forms.build_request_modal(await worker.run(intake.workspace_choices), meta=meta)
    except Exception as exc:
        view = forms.build_request_modal(None, meta=meta, error=reply_for(exc).text)
    try:
        await client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:  # the user closed the form meanwhile
        logger.info("request form not updated: %s", exc.response.get("error"))


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Register the request commands, buttons and modals."""

    async def open_form(client: AsyncWebClient, command: dict[str, Any], respond: AsyncRespond) -> None:
        async def tell(text: str) -> None:
            await respond(text=text, response_type="ephemeral")

        meta = RequestFormMeta(channel=command.get("channel_id"))
        await open_request_form(worker, client, trigger_id=command["trigger_id"], meta=meta, tell=tell)

    @app.options({"block_id": forms.WORKSPACE_BLOCK, "action_id": "value"})
    async def on_workspace_options(ack: AsyncAck, payload: dict[str, Any]) -> None:
        try:  # the workspace list is cached for minutes: the answer fits Slack's 3 seconds
            choices = await worker.run(intake.workspace_choices)
        except Exception as exc:
            logger.info("workspace options failed: %s", type(exc).__name__)
            choices = []
        options = forms.workspace_options(choices, str(payload.get("value") or ""))
        await ack(options=[option.to_dict() for option in options])

    async def on_request(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, client: AsyncWebClient, **_: Any
    ) -> None:
        user = command["user_id"]
        if not parsed.args:
            await ack()
            await open_form(client, command, respond)
            return
        await answer_later(
            worker, respond, ack=ack, task=Task("request.file", {"slack_user_id": user, "args": list(parsed.args)})
        )

    async def on_requests(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        try:
            which = parse_requests_which(parsed.args)
        except UserError as exc:
            await ack(text=exc.user_message, response_type="ephemeral")
            return
        await answer_later(
            worker, respond, ack=ack, task=Task("request.list", {"slack_user_id": command["user_id"], "which": which})
        )

    async def on_invite(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        if not parsed.args:
            await ack(text=USAGE_INVITE, response_type="ephemeral")
            return
        task = Task("request.invite", {"slack_user_id": command["user_id"], "args": list(parsed.args)})
        await answer_later(worker, respond, ack=ack, task=task)

    router.add(Sub.REQUEST, on_request)
    router.add(Sub.REQUESTS, on_requests)
    router.add(Sub.INVITE, on_invite)

    @app.action(Action.APPROVE_REQUEST, middleware=[button(RequestRef, acks=False, stale=BROKEN_BUTTON)])
    async def on_approve(
        ack: AsyncAck, ref: RequestRef, clicker: str, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        task = Task("request.approve", {"slack_user_id": clicker, "request_id": ref.r})
        if from_home(body):
            task = for_home(task, clicker)
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.RETRY_REQUEST, middleware=[button(RequestRef, acks=False, stale=BROKEN_BUTTON)])
    async def on_retry(ack: AsyncAck, ref: RequestRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("request.retry", {"slack_user_id": clicker, "request_id": ref.r})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.CANCEL_REQUEST, middleware=[button(RequestRef, acks=False, stale=BROKEN_BUTTON)])
    async def on_cancel(ack: AsyncAck, ref: RequestRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("request.cancel", {"slack_user_id": clicker, "request_id": ref.r})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.DENY_REQUEST, middleware=[button(RequestRef, stale=None)])
    async def on_deny(
        ref: RequestRef, clicker: str, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        home = from_home(body)
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=forms.build_deny_modal(ref.r, home=home))
        except SlackApiError as exc:
            logger.warning("could not open the deny form: %s", exc.response.get("error"))
            if body.get("response_url"):
                await respond(text=forms.DENY_FORM_NOT_OPENED, response_type="ephemeral", replace_original=False)
            else:  # from Home: nothing to answer in, so a DM
                await client.chat_postMessage(channel=clicker, text=forms.DENY_FORM_NOT_OPENED)

    # The two modals validate their fields before anything else (a field error keeps the modal open), then
    # read their private_metadata: a deny without a valid request id does nothing, a request form without a
    # valid channel answers by DM.
    @app.view(Callback.DENY_MODAL)
    async def on_deny_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = read_deny_reason(view)
        if not reason:
            await ack(response_action="errors", errors={"reason": DENY_REASON_MISSING})
            return
        ref, user = parse_value(DenyMeta, view.get("private_metadata")), body["user"]["id"]
        if ref is not None:
            task = Task("request.deny", {"slack_user_id": user, "request_id": ref.r, "reason": reason})
            if ref.home:  # denied from the Home tab: told by DM, and the Home re-published
                await tell_later(worker, ack=ack, user=user, channel=None, task=for_home(task, user))
                return
            await tell_later(worker, ack=ack, user=user, channel=worker.settings.admin_channel_id, task=task)

    @app.view(Callback.REQUEST_MODAL)
    async def on_request_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = read_request_form(view)
        if isinstance(form, dict):
            await ack(response_action="errors", errors=form)
            return
        meta, user = parse_value(RequestFormMeta, view.get("private_metadata")), body["user"]["id"]
        channel = meta.channel if meta is not None else None
        task = Task("request.file_form", {"slack_user_id": user, **dataclasses.asdict(form)})
        if meta is not None and meta.home:  # filed from the Home tab: the receipt by DM, the Home re-published
            task = for_home(task, user)
        await tell_later(worker, ack=ack, user=user, channel=channel, task=task)
