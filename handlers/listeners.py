"""Every listener, registered on one app: `register` wires them all."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps, Worker
from handlers import audit, budget, claude_code, commands, events, fallbacks, keys, requests, spend_limits, team, usage
from handlers import home as home_buttons
from handlers import leavers as leaver_buttons
from handlers import limits as rate_limits
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
    rate_limits.register(app, worker, router)
    keys.register(app, worker, router)
    team.register(app, worker, router)
    leaver_buttons.register(app, worker)
    claude_code.register(app, worker, router)
    home_buttons.register(app, worker)  # the App Home tab's buttons
    fallbacks.register(app)  # last: only what nothing else claimed
    router.check_complete()
    return router
