"""`/claude-key`: parse → ack → (service after the ack) → answer. The ack never waits on I/O."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Worker
from bot.slack.blocks import build_help, help_payload, help_text
from bot.slack.commands import COMMAND, Parsed, parse
from handlers.router import Router


async def answer_help(ack: AsyncAck, parsed: Parsed) -> None:
    """Ephemeral help, naming the unknown subcommand if there was one."""
    if parsed.sub is None:
        # The unknown word is user input: build that variant fresh rather than growing the cache with it.
        text, blocks = help_text(), [block.to_dict() for block in build_help(unknown=parsed.word)]
    else:
        text, cached = help_payload()
        blocks = list(cached)
    await ack(text=text, blocks=blocks, response_type="ephemeral")


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Register the slash command; `router` holds the subcommands' listeners."""

    @app.command(COMMAND)
    async def on_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        parsed = parse(command.get("text"))
        handler = router.get(parsed.sub) if parsed.sub is not None else None
        if handler is None:
            await answer_help(ack, parsed)
            return
        await handler(
            ack=ack, command=command, parsed=parsed, worker=worker, respond=respond, client=client, context=context
        )
