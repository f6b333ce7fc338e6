"""Key hygiene: `/claude-key keys|revoke|rotate|check`, and the key buttons (pages, revoke, Deactivate)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Worker
from bot.keys.blocks import listing as listing_blocks
from bot.keys.common import is_key_id
from bot.keys.model import REASON_LIMIT, KeyMenuRef, KeyRef, KeyScope, KeysPageRef, RevokeRef, RotationRef, StaleDmRef
from bot.slack.commands import COMMAND, USAGE, Parsed, Sub
from bot.slack.ids import Action
from bot.slack.text import escape
from handlers.common import answer_later
from handlers.middleware import button
from handlers.router import Router
from handlers.tasks import Task

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_KEY_ID_HINT = f" (key ids start with `apikey_`: `{COMMAND} keys`)"


def usage_line(sub: Sub, hint: str = "") -> str:
    """The one-line usage answer for malformed input."""
    return f"Usage: `{COMMAND} {escape(USAGE[sub][0])}`{hint}"


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


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    return container.get("channel_id"), container.get("message_ts")


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Register the key commands and buttons."""

    async def on_keys(ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any) -> None:
        scope = keys_scope(parsed.args)
        if scope is None:
            await ack(text=usage_line(Sub.KEYS, " (mention the person with @)"), response_type="ephemeral")
            return
        (whose, target) = scope
        task = Task("keys.list", {"slack_user_id": command["user_id"], "scope": whose, "target": target})
        await answer_later(worker, respond, ack=ack, task=task)

    async def on_revoke(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        if not parsed.args or not is_key_id(parsed.args[0]):
            await ack(text=usage_line(Sub.REVOKE, _KEY_ID_HINT), response_type="ephemeral")
            return
        user, key_id, reason = command["user_id"], parsed.args[0], " ".join(parsed.args[1:])[:REASON_LIMIT]
        task = Task("keys.revoke.start", {"slack_user_id": user, "key_id": key_id, "reason": reason})
        await answer_later(worker, respond, ack=ack, task=task)

    async def on_rotate(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        if len(parsed.args) != 1 or not is_key_id(parsed.args[0]):
            await ack(text=usage_line(Sub.ROTATE, _KEY_ID_HINT), response_type="ephemeral")
            return
        task = Task("keys.rotate", {"slack_user_id": command["user_id"], "key_id": parsed.args[0]})
        await answer_later(worker, respond, ack=ack, task=task)

    async def on_check(ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any) -> None:
        if len(parsed.args) != 1:
            await ack(text=usage_line(Sub.CHECK), response_type="ephemeral")
            return
        task = Task("keys.check", {"slack_user_id": command["user_id"], "query": parsed.args[0]})
        await answer_later(worker, respond, ack=ack, task=task)

    router.add(Sub.KEYS, on_keys)
    router.add(Sub.REVOKE, on_revoke)
    router.add(Sub.ROTATE, on_rotate)
    router.add(Sub.CHECK, on_check)

    async def on_page(ref: KeysPageRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("keys.list", {"slack_user_id": clicker, "scope": ref.s, "target": ref.u, "page": ref.p})
        await answer_later(worker, respond, task)

    app.action(Action.KEYS_PREV, middleware=[button(KeysPageRef)])(on_page)
    app.action(Action.KEYS_NEXT, middleware=[button(KeysPageRef)])(on_page)

    @app.action(Action.REVOKE_CONFIRM, middleware=[button(RevokeRef, acks=False)])
    async def on_revoke_confirm(ack: AsyncAck, ref: RevokeRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("keys.revoke.confirm", {"slack_user_id": clicker, "key_id": ref.k, "reason": ref.r})
        await answer_later(worker, respond, ack=ack, working=None, task=task)

    @app.action(Action.REVOKE_CANCEL)  # its KeyRef is not read: any Cancel click just cancels
    async def on_revoke_cancel(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text=listing_blocks.REVOKE_CANCELLED, response_type="ephemeral", replace_original=True)

    @app.action(Action.STALE_DEACTIVATE, middleware=[button(KeyRef, acks=False)])
    async def on_stale_deactivate(
        ack: AsyncAck, ref: KeyRef, clicker: str, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        (channel, ts), blocks = _where(body), (body.get("message") or {}).get("blocks") or []
        where = {"channel": channel, "ts": ts, "blocks": blocks}
        task = Task("keys.stale.deactivate", {"slack_user_id": clicker, "key_id": ref.k, **where})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.ROTATION_DEACTIVATE_OLD, middleware=[button(RotationRef, acks=False)])
    async def on_deactivate_old(ack: AsyncAck, ref: RotationRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("keys.rotation.deactivate_old", {"slack_user_id": clicker, "rotation_id": ref.r})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    # --- a button at every next step ---------------------------------------------------------------

    @app.action(Action.REMINDER_ROTATE, middleware=[button(KeyRef, acks=False)])
    async def on_reminder_rotate(ack: AsyncAck, ref: KeyRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("keys.rotate", {"slack_user_id": clicker, "key_id": ref.k})  # what `rotate <key-id>` does
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.REMINDER_SNOOZE, middleware=[button(KeyRef, acks=False)])
    async def on_reminder_snooze(ack: AsyncAck, ref: KeyRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("keys.reminder.snooze", {"slack_user_id": clicker, "key_id": ref.k})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.KEY_MENU, middleware=[button(KeyMenuRef, acks=False)])
    async def on_key_menu(ack: AsyncAck, ref: KeyMenuRef, clicker: str, respond: AsyncRespond) -> None:
        """A key's overflow menu in the list: the same tasks as `rotate`, `revoke` (its confirm step) and `check`."""
        task = {
            "rotate": Task("keys.rotate", {"slack_user_id": clicker, "key_id": ref.k}),
            "revoke": Task("keys.revoke.start", {"slack_user_id": clicker, "key_id": ref.k, "reason": ""}),
            "check": Task("keys.check", {"slack_user_id": clicker, "query": ref.k}),
        }[ref.a]
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.STALE_DEACTIVATE_MINE, middleware=[button(RevokeRef, acks=False)])
    async def on_stale_deactivate_mine(ack: AsyncAck, ref: RevokeRef, clicker: str, respond: AsyncRespond) -> None:
        """Deactivate my key on a stale-key DM (confirmed in Slack's dialog): the revoke path."""
        task = Task("keys.revoke.confirm", {"slack_user_id": clicker, "key_id": ref.k, "reason": ref.r})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.STALE_IN_USE, middleware=[button(StaleDmRef, acks=False)])
    async def on_stale_in_use(ack: AsyncAck, ref: StaleDmRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("keys.stale.still_in_use", {"slack_user_id": clicker, "key_id": ref.k, "week": ref.w})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)
