"""Thin Slack listeners, one module per family; `register` wires them all."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from handlers import audit, budget, commands, events, fallbacks, keys, requests, spend_limits, usage
from handlers.router import Router


def register(app: AsyncApp, deps: Deps) -> Router:
    """Register every listener on `app`; the subcommand router it returns belongs to this app alone."""
    router = Router()
    commands.register(app, deps, router)
    events.register(app, deps)
    requests.register(app, deps, router)
    audit.register(app, deps, router)
    usage.register(app, deps, router)
    budget.register(app, deps, router)
    spend_limits.register(app, deps)
    keys.register(app, deps, router)
    fallbacks.register(app)  # last: only what nothing else claimed
    router.check_complete()
    return router
