"""The error a Web API method handler raises: answered as HTTP 200 ``{"ok": false, "error": ...}``."""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """Raised by a method handler: answered as HTTP 200 ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def invalid_arguments(message: str) -> SlackError:
    """``invalid_arguments`` with ``message`` in ``response_metadata.messages``."""
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})
