"""What services hand back to listeners, and the errors whose sentence the user should see."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block


@dataclass(frozen=True)
class Reply:
    """An answer for the user: fallback text and optional blocks (ephemeral unless a listener says so)."""

    text: str
    blocks: list[Block] | None = field(default=None)


class UserError(Exception):
    """Bad input or a refusal: `user_message` is shown as is, nothing was changed."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


SORRY = "Something went wrong on my side; nothing was changed. Please try again, and tell an admin if it persists."
DB_UNAVAILABLE = "The bot's database is temporarily unavailable; nothing was changed. Please try again in a minute."
