"""Snooze 7 days on a rotation or expiry reminder: no reminder about that key for a week.

A snooze is a row of the `rotation-reminders` job's own ledger (`snooze:<key id>:<when>`, recorded at the click),
so no table of its own: the job reads the snoozes of the last SNOOZE_DAYS in one query and skips those keys.
The skipped reminders are not marked sent, so the reminder due when the week is over still goes out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.deps import Deps
from bot.identity import resolve_actor
from bot.keys.common import get_key, key_view, require_active, require_owner_or_admin, workspace_names
from bot.keys.model import Snoozed
from storage import repositories as repo
from storage.db import session_scope

SNOOZE_DAYS = 7
REMINDERS_JOB = "rotation-reminders"
_PREFIX = "snooze:"


def snoozed_keys(session: Session, now: datetime) -> set[str]:
    """Key ids whose reminders someone snoozed within the last SNOOZE_DAYS."""
    since = now - timedelta(days=SNOOZE_DAYS)
    keys = repo.ledger_since(session=session, job=REMINDERS_JOB, prefix=_PREFIX, since=since)
    return {key[len(_PREFIX) :].split(":", 1)[0] for key in keys}


def snooze(deps: Deps, *, slack_user_id: str, key_id: str) -> Snoozed:
    """The Snooze click: the key's owner or an Admin (re-checked), an active key; a ledger row and an audit row."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    key = get_key(deps, key_id)
    require_owner_or_admin(deps, actor, key, "snooze reminders about")
    require_active(key, now, "snooze reminders about")
    until = now + timedelta(days=SNOOZE_DAYS)
    with session_scope(deps.engine) as session:
        repo.ledger_record(session=session, job=REMINDERS_JOB, key=f"{_PREFIX}{key.id}:{now.isoformat()}", at=now)
        repo.append_audit(
            session=session,
            action="key.reminders_snoozed",
            subject_type="api_key",
            subject_id=key.id,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            after={"until": until.isoformat()},
            at=now,
        )
    view = key_view(key, deps, now, workspaces=workspace_names(deps))
    return Snoozed(key=view, until=until, by=actor.slack_user_id)
