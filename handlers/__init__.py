"""Thin Slack listeners, one module per family; `register` wires them all."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from handlers import audit, budget, commands, events, fallbacks, keys, requests, spend_limits, usage


def register(app: AsyncApp, deps: Deps) -> None:
    """Register every listener on `app`."""
    commands.register(app, deps)
    events.register(app, deps)
    requests.register(app, deps)
    audit.register(app, deps)
    usage.register(app, deps)
    budget.register(app, deps)
    spend_limits.register(app, deps)
    keys.register(app, deps)
    fallbacks.register(app)  # last: only what nothing else claimed
