"""The one state-transition mechanism for every request kind: a conditional UPDATE.

`… SET state = :to WHERE id = :id AND state = :from` changes a row at most once, however many clicks,
admins or replicas race for it: the first wins, the others see that it moved and say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, update
from sqlmodel import Session, SQLModel


def transition(
    *,
    session: Session,
    table: type[SQLModel],
    key: Any,
    from_states: Sequence[str],
    to: str,
    now: datetime,
    **values: Any,
) -> str | None:
    """Move the row of `table` with primary key `key` from one of `from_states` to `to` (setting `updated_at`
    and `values` too); the state it left, or None when it was in none of them (someone moved it first).

    One UPDATE per candidate state, the first statement of the transaction: it takes the write lock before
    anything is read, so concurrent clicks queue and lose cleanly (no lock upgrade to fail on SQLite)."""
    primary_key = inspect(table).primary_key[0]
    state = table.__table__.c.state  # type: ignore[attr-defined]
    for before in from_states:
        result = session.execute(
            update(table).where(primary_key == key, state == before).values(state=to, updated_at=now, **values)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return before
    return None
