"""The App Home tab's own buttons: Request access (the request modal, opened here: the trigger id lives 3 s),
Refresh, and Rotate / Revoke / Check on a key. Approve and Deny on Home are the admin card's buttons
(handlers/requests.py). A Home click has no response_url: answers go by DM, and the Home is re-published."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.access.model import RequestFormMeta
from bot.deps import Worker
from bot.keys.model import KeyRef
from bot.slack.ids import Action
from handlers.common import answer_later, work_later
from handlers.middleware import button
from handlers.requests import from_home, open_request_form
from handlers.tasks import JSON, Task


def _clicker(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    return user.get("id") if isinstance(user, dict) and isinstance(user.get("id"), str) else None


def register(app: AsyncApp, worker: Worker) -> None:
    """Register the Home tab's buttons."""

    @app.action(Action.HOME_REQUEST_ACCESS)
    async def on_request_access(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user = _clicker(body)
        if user is None or not isinstance(body.get("trigger_id"), str):
            return

        async def tell(text: str) -> None:
            if body.get("response_url"):
                await respond(text=text, response_type="ephemeral", replace_original=False)
            else:
                await client.chat_postMessage(channel=user, text=text)

        meta = RequestFormMeta(home=from_home(body))
        await open_request_form(worker, client, trigger_id=body["trigger_id"], meta=meta, tell=tell)

    @app.action(Action.HOME_REFRESH)
    async def on_refresh(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = _clicker(body)
        if user is not None:
            await work_later(worker, Task("home.publish", {"slack_user_id": user}))

    @app.action(Action.HOME_OPEN_CONSOLE)  # a link button: Slack opens the URL and still sends the click
    async def on_open_console(ack: AsyncAck) -> None:
        await ack()

    def key_action(name: str, **extra: str) -> Any:
        async def on_key(ack: AsyncAck, ref: KeyRef, clicker: str, respond: AsyncRespond) -> None:
            args: dict[str, JSON] = {"key_id": ref.k, **extra} if name != "keys.check" else {"query": ref.k}
            task = Task("home.act", {"slack_user_id": clicker, "name": name, "args": args})
            await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

        return on_key

    app.action(Action.HOME_KEY_ROTATE, middleware=[button(KeyRef, acks=False)])(key_action("keys.rotate"))
    app.action(Action.HOME_KEY_REVOKE, middleware=[button(KeyRef, acks=False)])(
        key_action("keys.revoke.confirm", reason="")
    )
    app.action(Action.HOME_KEY_CHECK, middleware=[button(KeyRef, acks=False)])(key_action("keys.check"))
