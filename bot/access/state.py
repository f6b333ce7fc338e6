"""How a request changes state: one conditional update and its audit row in one transaction, then a re-read.

The conditional update (`storage/repositories/transitions.py`) changes a request at most once, so a double
click, two admins at once, a replayed payload or two replicas move it exactly once; the caller that moved it
alone goes on (calls the Admin API, posts the notices).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.errors import UserError
from bot.deps import Deps
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AccessRequest


def get_request(*, session: Session, request_id: int) -> AccessRequest:
    """A request by id, or a clear error."""
    request = repo.get_request(session=session, request_id=request_id)
    if request is None:
        raise UserError(f"Request #{request_id} does not exist (any more).")
    return request


def load(deps: Deps, request_id: int) -> AccessRequest:
    """A request by id, read in a transaction of its own."""
    with session_scope(deps.engine) as session:
        return get_request(session=session, request_id=request_id)


def transition(
    session: Session,
    request_id: int,
    *,
    from_states: Sequence[str],
    to: str,
    now: datetime,
    actor_slack_id: str | None,
    action: str,
    detail: str | None = None,
    **values: Any,
) -> bool:
    """Move a request from one of `from_states` to `to`, once; write the audit row. False if it moved already.

    The UPDATE is the transaction's first statement: it takes the write lock (waiting for it on SQLite) before
    anything is read, so concurrent clicks queue and lose cleanly instead of failing on a lock upgrade.
    """
    before_state = repo.transition(
        session=session, table=AccessRequest, key=request_id, from_states=from_states, to=to, now=now, **values
    )
    if before_state is None:
        return False
    after = {"state": to} | {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}
    repo.append_audit(
        session=session,
        action=action,
        subject_type="request",
        subject_id=str(request_id),
        actor_slack_id=actor_slack_id,
        before={"state": before_state},
        after=after,
        detail=detail,
        at=now,
    )
    session.expire_all()
    return True


def move(
    deps: Deps,
    request_id: int,
    *,
    from_states: Sequence[str],
    to: str,
    now: datetime,
    actor_slack_id: str | None,
    action: str,
    detail: str | None = None,
    **values: Any,
) -> tuple[bool, AccessRequest]:
    """`transition` in a transaction of its own; whether it moved, and the request as it is now."""
    with session_scope(deps.engine) as session:
        moved = transition(
            session,
            request_id,
            from_states=from_states,
            to=to,
            now=now,
            actor_slack_id=actor_slack_id,
            action=action,
            detail=detail,
            **values,
        )
        request = get_request(session=session, request_id=request_id)
    return moved, request
