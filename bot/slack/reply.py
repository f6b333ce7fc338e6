"""What a builder hands a listener: fallback text and optional blocks (ephemeral unless the listener says so)."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block


@dataclass(frozen=True)
class Reply:
    """An answer for the user: fallback text and optional blocks."""

    text: str
    blocks: list[Block] | None = field(default=None)
