"""Leaver cases (`LeaverCase`) and the directory reads the leaver sweep needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import AccessRequest, IdentityLink, LeaverCase, LeaverState, SlackUser

_BATCH = 500  # values per IN (...) list: far below every database's parameter limit


def deactivated_slack_users(*, session: Session, slack_user_id: str | None = None) -> list[SlackUser]:
    """People (not bots) the stored directory shows deactivated, with an email; or just `slack_user_id`."""
    query = select(SlackUser).where(
        col(SlackUser.deleted).is_(True), col(SlackUser.is_bot).is_(False), col(SlackUser.email).is_not(None)
    )
    if slack_user_id is not None:
        query = query.where(SlackUser.slack_user_id == slack_user_id)
    return list(session.exec(query.order_by(col(SlackUser.slack_user_id))))


def directory_emails(*, session: Session) -> set[str]:
    """Every email the stored directory holds, deactivated people's too (lower-cased)."""
    return {str(e) for e in session.exec(select(SlackUser.email).where(col(SlackUser.email).is_not(None)))}


def known_anthropic_ids(*, session: Session, emails: Iterable[str]) -> dict[str, str]:
    """Email → the Anthropic user id the bot last saw for it (identity links, then access requests): a former
    member's keys still carry that id."""
    wanted = sorted({e.lower() for e in emails})
    found: dict[str, str] = {}
    for i in range(0, len(wanted), _BATCH):
        batch = wanted[i : i + _BATCH]
        requested = select(AccessRequest.requester_email, AccessRequest.anthropic_user_id).where(
            col(AccessRequest.requester_email).in_(batch), col(AccessRequest.anthropic_user_id).is_not(None)
        )
        for email, user_id in session.exec(requested.order_by(col(AccessRequest.id))):
            found[str(email).lower()] = str(user_id)  # the latest request wins
        linked = select(IdentityLink.email, IdentityLink.anthropic_user_id).where(
            col(IdentityLink.email).in_(batch), col(IdentityLink.anthropic_user_id).is_not(None)
        )
        for email, user_id in session.exec(linked):
            found[str(email).lower()] = str(user_id)  # an identity link beats a request
    return found


def open_leaver_cases(*, session: Session) -> dict[str, LeaverCase]:
    """Slack id → that person's open case."""
    rows = session.exec(select(LeaverCase).where(col(LeaverCase.open_key).is_not(None)))
    return {row.slack_user_id: row for row in rows}


def get_leaver_case(*, session: Session, case_id: int) -> LeaverCase | None:
    """One case by id."""
    return session.get(LeaverCase, case_id)


def claim_leaver_case(*, session: Session, slack_user_id: str, email: str, at: datetime) -> LeaverCase | None:
    """Open a case for `slack_user_id` (state POSTING); None when one is open already (another run's)."""
    row = LeaverCase(slack_user_id=slack_user_id, email=email, open_key=slack_user_id, opened_at=at, updated_at=at)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def reclaim_leaver_case(*, session: Session, case_id: int, stale_before: datetime, at: datetime) -> bool:
    """Take over a case whose posting run stopped before `stale_before`; False when another run did."""
    result = session.execute(
        update(LeaverCase)
        .where(
            col(LeaverCase.id) == case_id,
            col(LeaverCase.state) == LeaverState.POSTING,
            col(LeaverCase.updated_at) < stale_before,
        )
        .values(updated_at=at)
    )
    return bool(getattr(result, "rowcount", 0))


def drop_leaver_case(*, session: Session, case_id: int) -> None:
    """Forget a claimed case whose proposal Slack refused (the next run proposes again)."""
    session.execute(
        delete(LeaverCase).where(col(LeaverCase.id) == case_id, col(LeaverCase.state) == LeaverState.POSTING)
    )


def leaver_case_posted(*, session: Session, case_id: int, channel: str, ts: str, at: datetime) -> None:
    """The proposal is in Slack: where."""
    session.execute(
        update(LeaverCase)
        .where(col(LeaverCase.id) == case_id)
        .values(state=LeaverState.PROPOSED, channel=channel, ts=ts, updated_at=at)
    )


def decide_leaver_case(
    *, session: Session, case_id: int, from_states: Sequence[str], to: str, by: str, at: datetime
) -> bool:
    """Move a case from one of `from_states` to `to`, once (a double click or a second admin changes nothing)."""
    result = session.execute(
        update(LeaverCase)
        .where(col(LeaverCase.id) == case_id, col(LeaverCase.state).in_(list(from_states)))
        .values(state=to, decided_by=by, updated_at=at)
    )
    return bool(getattr(result, "rowcount", 0))


def close_reactivated_leaver_cases(*, session: Session, at: datetime, slack_user_id: str | None = None) -> int:
    """Close the open cases of people the directory shows active again (or only `slack_user_id`'s); how many."""
    active = select(SlackUser.slack_user_id).where(col(SlackUser.deleted).is_(False))
    if slack_user_id is not None:
        active = active.where(SlackUser.slack_user_id == slack_user_id)
    result = session.execute(
        update(LeaverCase)
        .where(col(LeaverCase.open_key).is_not(None), col(LeaverCase.slack_user_id).in_(active))
        .values(open_key=None, closed_at=at, updated_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)
