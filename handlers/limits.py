"""`/claude-key limits [workspace <name>]`: parse → ack → the answer after the ack (a named task)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Worker
from bot.slack.commands import Parsed, Sub
from bot.spend import limits
from handlers.common import answer_later
from handlers.router import Router
from handlers.tasks import Task


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Claim the `limits` subcommand."""

    async def on_limits(
        ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any
    ) -> None:
        try:
            limits.parse_limits(parsed.args)  # refuse bad words in the ack; the task parses them again
        except limits.LimitsSyntaxError as exc:
            await ack(text=str(exc), response_type="ephemeral")
            return
        task = Task("limits.answer", {"slack_user_id": command["user_id"], "args": list(parsed.args)})
        await answer_later(worker, respond, ack=ack, task=task)

    router.add(Sub.LIMITS, on_limits)
