"""`/claude-key usage …`: parse → ack → answer after the ack → chart after the answer."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Worker
from bot.slack.commands import Parsed, Sub
from bot.spend import usage
from handlers.common import answer_later
from handlers.router import Router
from handlers.tasks import Task


async def on_usage(
    ack: AsyncAck, command: dict[str, Any], parsed: Parsed, worker: Worker, respond: AsyncRespond, **_: Any
) -> None:
    """Answer with tokens and cost; a chart of spend per day follows in the user's DM (the task's follow-up)."""
    try:
        usage.parse_usage(parsed.args)  # refuse bad words in the ack; the task parses them again
    except usage.UsageSyntaxError as exc:
        await ack(text=str(exc), response_type="ephemeral")
        return
    task = Task("usage.answer", {"slack_user_id": command["user_id"], "args": list(parsed.args)})
    await answer_later(worker, respond, task, ack=ack)


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Claim the `usage` subcommand."""
    router.add(Sub.USAGE, on_usage)
