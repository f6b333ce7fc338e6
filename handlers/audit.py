"""`/claude-key audit [days]`."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.access import audit
from bot.core.errors import UserError
from bot.deps import Worker
from bot.slack.commands import Parsed, Sub
from handlers.common import answer_later
from handlers.router import Router
from handlers.tasks import Task


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Register the audit subcommand."""

    async def on_audit(ack: AsyncAck, command: dict[str, Any], parsed: Parsed, respond: AsyncRespond, **_: Any) -> None:
        try:
            days = audit.parse_days(parsed.args)
        except UserError as exc:
            await ack(text=exc.user_message, response_type="ephemeral")
            return
        task = Task("audit.export", {"slack_user_id": command["user_id"], "days": days})
        await answer_later(worker, respond, ack=ack, task=task)

    router.add(Sub.AUDIT, on_audit)
