"""Listener middleware: a button's or modal's typed payload is parsed once, here, and a stale one is answered
once, here. The listener then receives it as an argument (`ref`) with the Slack user id (`clicker`).

    @app.action(Action.REVOKE_CONFIRM, middleware=[button(RevokeRef)])
    async def on_revoke_confirm(ack, ref: RevokeRef, clicker: str, respond) -> None: ...

Buttons outlive deployments and anyone can forge a click body, so a value that does not parse is never an
error: the clicker is told the button is no longer active, and nothing runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond

logger = logging.getLogger(__name__)

STALE_BUTTON = "That button is no longer active. Run `/claude-key help` to see what you can do now."

Middleware = Callable[..., Awaitable[Any]]
M = TypeVar("M", bound=BaseModel)


def _handled() -> BoltResponse:
    """What a middleware returns when the listener must not run: one that neither calls next() nor returns a
    response makes Bolt try the next matching listener, and the catch-all in handlers/fallbacks.py would answer
    the click a second time."""
    return BoltResponse(status=200, body="")


def parse_value(model: type[M], raw: object) -> M | None:
    """`raw` (a button value or private_metadata) as `model`, or None when it is missing or malformed."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError:
        return None


def _user_id(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    return user.get("id") if isinstance(user, dict) and isinstance(user.get("id"), str) else None


def button(model: type[BaseModel], *, acks: bool = True, stale: str | None = STALE_BUTTON) -> Middleware:
    """Ack the click (unless `acks=False`: the listener acks once its work is stored), parse its value as
    `model` into `ref`; a stale value is acked and answered with `stale` (None: silently) and the listener does
    not run."""

    async def parse_button(
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        if acks:
            await ack()
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        chosen = first.get("selected_option")  # an overflow menu or select carries its choice here
        raw = chosen.get("value") if isinstance(chosen, dict) else first.get("value")
        ref = parse_value(model, raw)
        clicker = _user_id(body)
        if ref is None or clicker is None:
            logger.info("stale or malformed %s button", model.__name__)
            if not acks:
                await ack()
            if stale is not None and body.get("response_url"):
                await respond(text=stale, response_type="ephemeral", replace_original=False)
            return _handled()
        context["ref"], context["clicker"] = ref, clicker
        await next()
        return None

    return parse_button


def modal(model: type[BaseModel]) -> Middleware:
    """Parse a submitted modal's private_metadata as `model` into `ref` (the listener acks: it may answer
    with field errors); a submission without a valid payload is acked and dropped."""

    async def parse_modal(
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        view = body.get("view")
        ref = parse_value(model, view.get("private_metadata") if isinstance(view, dict) else None)
        submitter = _user_id(body)
        if ref is None or submitter is None:
            logger.info("%s submission without its payload", model.__name__)
            await ack()
            return _handled()
        context["ref"], context["clicker"] = ref, submitter
        await next()
        return None

    return parse_modal
