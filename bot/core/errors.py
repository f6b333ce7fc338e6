"""One base for every failure whose sentence the user sees; `handlers.replies` maps them to a reply."""

from __future__ import annotations

from typing import ClassVar


class BotError(Exception):
    """A failure with a sentence for the user (`user_message`, shown as is)."""

    # True when the user was told no (a role, a state, bad input), False when something failed: metrics and
    # logs tell the two apart.
    refused: ClassVar[bool] = False

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class UserError(BotError):
    """Bad input or a refusal: nothing was changed."""

    refused = True


SORRY = "Something went wrong on my side; nothing was changed. Please try again, and tell an admin if it persists."
DB_UNAVAILABLE = "The bot's database is temporarily unavailable; nothing was changed. Please try again in a minute."
