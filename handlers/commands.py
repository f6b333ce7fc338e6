"""`/claude-key`: parse → ack → (service after the ack) → answer. The ack never waits on I/O."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import COMMAND, Parsed, Sub, parse
from bot.deps import Deps
from bot.slack.blocks import build_help, help_payload, help_text

# Subcommand → listener. Feature modules add their entries here; the rest answer "not yet" with help.
SubHandler = Callable[..., Awaitable[None]]
SUBCOMMANDS: dict[Sub, SubHandler] = {}


async def answer_help(ack: AsyncAck, parsed: Parsed) -> None:
    """Ephemeral help, naming the unknown or not-yet-available subcommand."""
    if parsed.sub is None:
        # The unknown word is user input: build that variant fresh rather than growing the cache with it.
        text, blocks = help_text(), [block.to_dict() for block in build_help(unknown=parsed.word)]
    elif parsed.sub is Sub.HELP:
        text, cached = help_payload()
        blocks = list(cached)
    else:
        text, cached = help_payload(not_yet=parsed.sub)
        blocks = list(cached)
    await ack(text=text, blocks=blocks, response_type="ephemeral")


def register(app: AsyncApp, deps: Deps) -> None:
    """Register the slash command."""

    @app.command(COMMAND)
    async def on_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        parsed = parse(command.get("text"))
        handler = SUBCOMMANDS.get(parsed.sub) if parsed.sub is not None else None
        if handler is None:
            await answer_help(ack, parsed)
            return
        await handler(
            ack=ack, command=command, parsed=parsed, deps=deps, respond=respond, client=client, context=context
        )
