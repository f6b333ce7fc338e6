"""Access requests: the reads the request domain runs, and filing a new one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from storage.models import AccessRequest


def get_request(*, session: Session, request_id: int) -> AccessRequest | None:
    """The request with this id, or None."""
    return session.get(AccessRequest, request_id)


def add_request(*, session: Session, request: AccessRequest) -> int:
    """Store a new request (flushed); its id."""
    session.add(request)
    session.flush()
    return request.id or 0


def find_requests(
    *,
    session: Session,
    states: Sequence[str],
    requester_slack_id: str | None = None,
    newest_first: bool = False,
) -> list[AccessRequest]:
    """Requests in one of `states` (of one requester, when given), by id."""
    query = select(AccessRequest).where(col(AccessRequest.state).in_(list(states)))
    if requester_slack_id is not None:
        query = query.where(AccessRequest.requester_slack_id == requester_slack_id)
    order = col(AccessRequest.id).desc() if newest_first else col(AccessRequest.id)
    return list(session.exec(query.order_by(order)))


def open_duplicate(
    *,
    session: Session,
    requester_slack_id: str,
    states: Sequence[str],
    workspace_id: str | None,
    invitee_email: str | None,
) -> AccessRequest | None:
    """The requester's oldest request in `states` for the same workspace (or the same invitee), if any."""
    query = select(AccessRequest).where(
        AccessRequest.requester_slack_id == requester_slack_id, col(AccessRequest.state).in_(list(states))
    )
    if workspace_id is not None:
        query = query.where(AccessRequest.workspace_id == workspace_id)
    if invitee_email is not None:
        query = query.where(AccessRequest.invitee_email == invitee_email)
    return session.exec(query.order_by(col(AccessRequest.id))).first()


def requests_of(*, session: Session, requester_slack_id: str, states: Sequence[str]) -> list[AccessRequest]:
    """One requester's requests in `states`, newest first (App Home)."""
    query = select(AccessRequest).where(
        AccessRequest.requester_slack_id == requester_slack_id, col(AccessRequest.state).in_(list(states))
    )
    return list(session.exec(query.order_by(col(AccessRequest.created_at).desc())))


def waiting(*, session: Session, state: str, oldest: int) -> tuple[int, list[AccessRequest]]:
    """How many requests are in `state`, and the `oldest` of them (App Home's approvals)."""
    in_state = col(AccessRequest.state) == state
    count = session.exec(select(func.count()).select_from(AccessRequest).where(in_state)).one()
    first = session.exec(select(AccessRequest).where(in_state).order_by(col(AccessRequest.created_at)).limit(oldest))
    return int(count), list(first)
