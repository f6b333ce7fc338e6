"""Storing acked work: one committed row per item, and a wake-up for the workers."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine

from bot.work.wakeup import Wakeup
from storage import repositories as repo
from storage.db import session_scope


def enqueue(
    engine: Engine,
    wakeup: Wakeup,
    task: str,
    args: dict[str, Any],
    *,
    user_id: str | None = None,
    channel_id: str | None = None,
    response_url: str | None = None,
    replace_original: bool = True,
) -> int:
    """Store one item (committed before this returns) and wake the workers; its id."""
    with session_scope(engine) as session:
        now = repo.database_now(session=session)
        item = repo.enqueue_work(
            session=session,
            task=task,
            args=json.dumps(args, sort_keys=True),
            at=now,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            replace_original=replace_original,
        )
        wakeup.notify(session)
    wakeup.poke()
    assert item.id is not None
    return item.id
