"""`/claude-key claude-code …` (alias `cc`): parse → ack → the report after the ack (task `claude_code.answer`)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Worker
from bot.slack.commands import Parsed, Sub
from bot.spend import claude_code
from handlers.common import answer_later
from handlers.router import Router
from handlers.tasks import Task


async def on_claude_code(
    ack: AsyncAck, command: dict[str, Any], parsed: Parsed, worker: Worker, respond: AsyncRespond, **_: Any
) -> None:
    """Answer with Claude Code activity and estimated cost (yours, the org's, or a person's)."""
    try:
        claude_code.parse_claude_code(parsed.args)  # refuse bad words in the ack; the task parses them again
    except claude_code.ClaudeCodeSyntaxError as exc:
        await ack(text=str(exc), response_type="ephemeral")
        return
    task = Task("claude_code.answer", {"slack_user_id": command["user_id"], "args": list(parsed.args)})
    await answer_later(worker, respond, task, ack=ack)


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Claim the `claude-code` subcommand (its alias `cc` parses to it)."""
    router.add(Sub.CLAUDE_CODE, on_claude_code)
