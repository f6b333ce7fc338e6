"""Catch-alls registered last: a click or submission nothing else claims is acked, never left to time out.

Buttons outlive deployments: a message posted by an older version can carry an action id this version
no longer has. Without these, Bolt answers 404 and Slack shows the user a generic error.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

logger = logging.getLogger(__name__)

STALE_BUTTON = "That button is no longer active. Run `/claude-key help` to see what you can do now."


def register(app: AsyncApp) -> None:
    """Register the fallbacks; must come after every other listener."""

    @app.action(re.compile(".*"))
    async def on_unknown_action(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actions = body.get("actions") or [{}]
        logger.info("unhandled action %s", actions[0].get("action_id"))
        if body.get("response_url"):
            await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)

    @app.view(re.compile(".*"))
    async def on_unknown_view(ack: AsyncAck, view: dict[str, Any]) -> None:
        logger.info("unhandled view submission %s", view.get("callback_id"))
        await ack()
