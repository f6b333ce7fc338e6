"""The `/claude-key` subcommand router: one per app, filled by each family's `register`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.slack.commands import Sub

SubHandler = Callable[..., Awaitable[None]]


class Router:
    """Subcommand → listener for one app (a second app in the same process has its own)."""

    def __init__(self) -> None:
        self.handlers: dict[Sub, SubHandler] = {}

    def add(self, sub: Sub, handler: SubHandler) -> None:
        """Claim `sub`; claiming one twice is a wiring mistake."""
        if sub in self.handlers:
            raise ValueError(f"subcommand {sub.value!r} is registered twice")
        self.handlers[sub] = handler

    def get(self, sub: Sub) -> SubHandler | None:
        """The listener for `sub` (help has none: the command listener answers it)."""
        return self.handlers.get(sub)

    def check_complete(self) -> None:
        """Every subcommand but help has a listener, so no command answers "not available"."""
        missing = [sub.value for sub in Sub if sub is not Sub.HELP and sub not in self.handlers]
        if missing:
            raise RuntimeError(f"subcommands without a listener: {', '.join(missing)}")
