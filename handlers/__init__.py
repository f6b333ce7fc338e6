"""Thin Slack listeners, one module per family; `register` wires them all."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from handlers import commands, events, fallbacks


def register(app: AsyncApp, deps: Deps) -> None:
    """Register every listener on `app`."""
    commands.register(app, deps)
    events.register(app, deps)
    fallbacks.register(app)  # last: only what nothing else claimed
