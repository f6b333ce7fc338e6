"""The stored Slack directory (`SlackUser`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.models import SlackUser


def save_slack_users(*, session: Session, users: Sequence[SlackUser], at: datetime) -> None:
    """Insert or update each user (by Slack id); the caller commits (one page at a time)."""
    found = {
        u.slack_user_id: u
        for u in session.exec(
            select(SlackUser).where(col(SlackUser.slack_user_id).in_([u.slack_user_id for u in users]))
        )
    }
    for user in users:
        row = found.get(user.slack_user_id) or SlackUser(slack_user_id=user.slack_user_id)
        row.email = user.email.lower() if user.email else None
        row.name, row.deleted, row.is_bot, row.updated_at = user.name, user.deleted, user.is_bot, at
        session.add(row)
    session.flush()


def slack_ids_by_email(*, session: Session, emails: Iterable[str] | None = None) -> dict[str, str]:
    """Lower-cased email → Slack id of active people (not deleted, not bots): for `emails`, or everyone."""
    query = select(SlackUser.email, SlackUser.slack_user_id).where(
        col(SlackUser.email).is_not(None), col(SlackUser.deleted).is_(False), col(SlackUser.is_bot).is_(False)
    )
    if emails is not None:
        wanted = sorted({e.lower() for e in emails})
        if not wanted:
            return {}
        query = query.where(col(SlackUser.email).in_(wanted))
    return {str(email): slack_id for email, slack_id in session.exec(query)}


def directory_size(*, session: Session) -> int:
    """How many people the stored directory holds (0: never refreshed)."""
    return int(session.exec(select(func.count()).select_from(SlackUser)).one())
