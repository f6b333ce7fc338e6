"""Composition root: `create_app(settings, deps)` builds the Bolt app and registers every listener."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

import handlers
from bot.config import Settings
from bot.deps import Deps
from bot.services.common import SORRY
from bot.slack.gateway import make_async_web_client

logger = logging.getLogger(__name__)


class _DropTokenFallbackWarning(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment and warns that our explicit client wins: it does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_bolt_logger = logging.getLogger("bot.bolt")
_bolt_logger.addFilter(_DropTokenFallbackWarning())



def create_app(settings: Settings, deps: Deps, *, socket_mode: bool = False) -> AsyncApp:
    """The Bolt app: signature checks in HTTP mode, the app's own client on SLACK_API_URL, listeners."""
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if not socket_mode and not signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is required in HTTP mode")
    app = AsyncApp(
        client=make_async_web_client(settings),
        signing_secret=signing_secret or "socket-mode-does-not-sign",
        request_verification_enabled=not socket_mode,
        logger=_bolt_logger,
    )

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: Any = None) -> None:
        # The type and the Slack user are enough to find it; bodies can carry response_urls.
        user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else body.get("user_id")
        logger.error("listener failed for %s: %s", user, type(error).__name__, exc_info=error)
        if respond is not None and body.get("response_url"):
            try:
                await respond(text=SORRY, response_type="ephemeral", replace_original=False)
            except Exception:  # the apology is best effort; the error is already logged
                logger.warning("could not tell the user about the failure")

    handlers.register(app, deps)
    return app
