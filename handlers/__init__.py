"""Thin Slack listeners, one module per family; `register` wires them all."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps, Worker
from handlers import audit, budget, commands, events, fallbacks, keys, requests, spend_limits, team, usage
from handlers import limits as rate_limits  # rate limits
from handlers.router import Router


def register(app: AsyncApp, deps: Deps) -> Router:
    """Register every listener on `app`; the subcommand router it returns belongs to this app alone."""
    router, worker = Router(), Worker(deps)
    commands.register(app, worker, router)
    events.register(app, worker)
    requests.register(app, worker, router)
    audit.register(app, worker, router)
    usage.register(app, worker, router)
    budget.register(app, worker, router)
    spend_limits.register(app, worker)
    keys.register(app, worker, router)
    team.register(app, worker, router)
    rate_limits.register(app, worker, router)  # rate limits
    fallbacks.register(app)  # last: only what nothing else claimed
    router.check_complete()
    return router
