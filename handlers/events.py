"""Events API listeners (Bolt acks events itself, before these run)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.slack.blocks import build_help


def register(app: AsyncApp, deps: Deps) -> None:
    """Register event listeners."""

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            return
        await client.views_publish(user_id=event["user"], view=View(type="home", blocks=build_help()))
