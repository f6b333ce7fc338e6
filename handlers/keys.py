"""Key hygiene: `/claude-key keys|revoke|rotate|check`, and the key buttons (pages, revoke, Deactivate)."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Deps
from bot.services import keys as service
from bot.slack.commands import COMMAND, USAGE, Parsed, Sub
from bot.slack.ids import Action
from bot.slack.keys_blocks import REASON_LIMIT, KeyRef, KeyScope, KeysPageRef, RevokeRef, RotationRef
from handlers.common import WORKING, answer_later
from handlers.fallbacks import STALE_BUTTON
from handlers.router import Router

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
M = TypeVar("M", bound=BaseModel)


def usage_line(sub: Sub, hint: str = "") -> str:
    """The one-line usage answer for malformed input."""
    return f"Usage: `{COMMAND} {USAGE[sub][0]}`{hint}"


def keys_scope(args: tuple[str, ...]) -> tuple[KeyScope, str | None] | None:
    """`keys [mine | all | @user]` → (scope, Slack user id); None when malformed."""
    if not args:
        return "mine", None
    if len(args) > 1:
        return None
    word = args[0]
    if word.lower() in ("mine", "all"):
        return ("mine" if word.lower() == "mine" else "all"), None
    mention = _MENTION.match(word)
    return ("user", mention.group(1)) if mention else None


def _value(body: dict[str, Any], model: type[M]) -> M | None:
    try:
        return model.model_validate_json((body.get("actions") or [{}])[0].get("value") or "")
    except ValidationError:
        return None


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    return container.get("channel_id"), container.get("message_ts")


def register(app: AsyncApp, deps: Deps, router: Router) -> None:
    """Register the key commands and buttons."""

    async def on_keys(ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any) -> None:
        scope = keys_scope(parsed.args)
        if scope is None:
            await ack(text=usage_line(Sub.KEYS, " (mention the person with @)"), response_type="ephemeral")
            return
        await ack(text=WORKING, response_type="ephemeral")
        user = command["user_id"]
        await answer_later(
            deps, respond, lambda: service.list_keys(deps, slack_user_id=user, scope=scope[0], target_slack_id=scope[1])
        )

    async def on_revoke(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        if not parsed.args or not service.is_key_id(parsed.args[0]):
            await ack(
                text=usage_line(Sub.REVOKE, f" (key ids start with `apikey_`: `{COMMAND} keys`)"),
                response_type="ephemeral",
            )
            return
        await ack(text=WORKING, response_type="ephemeral")
        user, key_id, reason = command["user_id"], parsed.args[0], " ".join(parsed.args[1:])[:REASON_LIMIT]
        await answer_later(
            deps, respond, lambda: service.start_revoke(deps, slack_user_id=user, key_id=key_id, reason=reason)
        )

    async def on_rotate(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        if len(parsed.args) != 1 or not service.is_key_id(parsed.args[0]):
            await ack(
                text=usage_line(Sub.ROTATE, f" (key ids start with `apikey_`: `{COMMAND} keys`)"),
                response_type="ephemeral",
            )
            return
        await ack(text=WORKING, response_type="ephemeral")
        user, key_id = command["user_id"], parsed.args[0]
        await answer_later(deps, respond, lambda: service.rotate(deps, slack_user_id=user, key_id=key_id))

    async def on_check(ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any) -> None:
        if len(parsed.args) != 1:
            await ack(text=usage_line(Sub.CHECK), response_type="ephemeral")
            return
        await ack(text=WORKING, response_type="ephemeral")
        user, query = command["user_id"], parsed.args[0]
        await answer_later(deps, respond, lambda: service.check(deps, slack_user_id=user, query=query))

    router.add(Sub.KEYS, on_keys)
    router.add(Sub.REVOKE, on_revoke)
    router.add(Sub.ROTATE, on_rotate)
    router.add(Sub.CHECK, on_check)

    async def on_page(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        ref = _value(body, KeysPageRef)
        if ref is None:
            await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        user = body["user"]["id"]
        await answer_later(
            deps,
            respond,
            lambda: service.list_keys(deps, slack_user_id=user, scope=ref.s, target_slack_id=ref.u, page=ref.p),
        )

    app.action(Action.KEYS_PREV)(on_page)
    app.action(Action.KEYS_NEXT)(on_page)

    @app.action(Action.REVOKE_CONFIRM)
    async def on_revoke_confirm(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        ref = _value(body, RevokeRef)
        if ref is None:
            await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        user = body["user"]["id"]
        await answer_later(deps, respond, lambda: service.revoke(deps, slack_user_id=user, key_id=ref.k, reason=ref.r))

    @app.action(Action.REVOKE_CANCEL)
    async def on_revoke_cancel(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="Cancelled: the key was not changed.", response_type="ephemeral", replace_original=True)

    @app.action(Action.STALE_DEACTIVATE)
    async def on_stale_deactivate(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        ref = _value(body, KeyRef)
        if ref is None:
            await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        user, (channel, ts) = body["user"]["id"], _where(body)
        blocks = (body.get("message") or {}).get("blocks") or []
        await answer_later(
            deps,
            respond,
            lambda: service.deactivate_from_report(
                deps, slack_user_id=user, key_id=ref.k, channel=channel, ts=ts, blocks=blocks
            ),
            replace_original=False,
        )

    @app.action(Action.ROTATION_DEACTIVATE_OLD)
    async def on_deactivate_old(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        ref = _value(body, RotationRef)
        if ref is None:
            await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        user = body["user"]["id"]
        await answer_later(
            deps,
            respond,
            lambda: service.deactivate_old_key(deps, slack_user_id=user, rotation_id=ref.r),
            replace_original=False,
        )
