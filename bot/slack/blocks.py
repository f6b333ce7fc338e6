"""Pure Block Kit builders: data in, `slack_sdk.models.blocks` out. No I/O here."""

from __future__ import annotations

import functools
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.slack.commands import COMMAND, USAGE
from bot.slack.text import escape, escape_clip


def help_text() -> str:
    """The command list as plain fallback text."""
    lines = [f"{COMMAND} {usage} — {description}" for usage, description in USAGE.values()]
    return "Claude key bot commands:\n" + "\n".join(lines)


@functools.cache
def help_payload(*, unknown: str | None = None) -> tuple[str, tuple[dict[str, Any], ...]]:
    """The help message as (text, block dicts), cached: acks send it often and building blocks costs CPU."""
    blocks = tuple(block.to_dict() for block in build_help(unknown=unknown))
    return help_text(), blocks


def build_help(*, unknown: str | None = None) -> list[Block]:
    """The help message; names an unknown subcommand if there was one."""
    blocks: list[Block] = []
    if unknown is not None:
        word = escape_clip(unknown, 40)
        blocks.append(SectionBlock(text=f"I don't know `{word}`. Here is what I can do:"))
    blocks.append(HeaderBlock(text="Claude key bot"))
    lines = [f"`{COMMAND} {escape(usage)}`\n{description}" for usage, description in USAGE.values()]
    blocks.append(SectionBlock(text="\n".join(lines)))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Keys are never shown or created here: the bot gives you access, "
                    "you create the key in the Claude Console."
                )
            ]
        )
    )
    return blocks
