"""Events API listeners (Bolt acks events itself, before these run)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Worker
from bot.directory import remember_user
from handlers.common import work_later
from handlers.tasks import Task


def register(app: AsyncApp, worker: Worker) -> None:
    """Register event listeners."""

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return
        user = event.get("user")
        if isinstance(user, str):  # built by a worker (Admin API reads): the listener only stores the task
            await work_later(worker, Task("home.publish", {"slack_user_id": user}))

    @app.event("user_change")
    async def on_user_change(event: dict[str, Any]) -> None:
        user = event.get("user")
        if isinstance(user, dict):
            await worker.run(remember_user, user)
            if isinstance(user.get("id"), str):  # leaver-sweep for this one person, once the row is stored
                await work_later(worker, Task("team.leaver.check", {"slack_user_id": user["id"]}))
