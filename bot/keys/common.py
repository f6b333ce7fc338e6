"""What every key command and job shares: a key's effective status and rotation date, its view, and who may act
on it (the key's owner or an Admin, re-checked on every command and click)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot import identity
from bot.anthropic_admin import ApiKey, NotFound
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, BotRole
from bot.keys import messages as msg
from bot.keys.model import KeyView, Owner
from storage import repositories as repo
from storage.models import KeyRotation

# Keys expiring within this many days are warned about (reminders) and flagged (`check`).
EXPIRY_WARNING_DAYS = 7
_KEY_ID = re.compile(r"^apikey_[A-Za-z0-9_]{4,100}$")


def is_key_id(text: str) -> bool:
    """Whether `text` looks like an API key id (`apikey_…`)."""
    return bool(_KEY_ID.match(text))


def effective_status(key: ApiKey, now: datetime) -> str:
    """The key's status, reading 'expired' once expires_at has passed (the API may not say so yet)."""
    if key.status == "active" and key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return key.status


def rotation_due(key: ApiKey, deps: Deps) -> date:
    """The local date a key reaches KEY_MAX_AGE_DAYS."""
    return (key.created_at + timedelta(days=deps.settings.key_max_age_days)).astimezone(deps.settings.tz).date()


def local_today(deps: Deps, now: datetime) -> date:
    """Today in TIMEZONE."""
    return now.astimezone(deps.settings.tz).date()


def iso_week(deps: Deps, now: datetime) -> str:
    """The ISO week in TIMEZONE, e.g. '2026-W45': the period of weekly reports and their ledger keys."""
    year, week, _ = now.astimezone(deps.settings.tz).isocalendar()
    return f"{year}-W{week:02d}"


def key_view(
    key: ApiKey,
    deps: Deps,
    now: datetime,
    *,
    workspaces: dict[str, str] | None = None,
    rotating: bool = False,
    last_used: dict[str, date] | None = None,
    owner: Owner | None = None,
) -> KeyView:
    """A key as the builders show it (`last_used` None: activity unknown)."""
    tz = deps.settings.tz
    due = rotation_due(key, deps)
    workspace = None
    if key.workspace_id is not None:
        workspace = (workspaces or {}).get(key.workspace_id, UNLISTED_WORKSPACE)
    return KeyView(
        id=key.id,
        name=key.name,
        hint=key.partial_key_hint,
        workspace=workspace,
        status=effective_status(key, now),
        created=key.created_at.astimezone(tz).date(),
        age_days=max(0, (now - key.created_at).days),
        expires=key.expires_at.astimezone(tz).date() if key.expires_at else None,
        rotation_due=due,
        days_to_rotation=(due - local_today(deps, now)).days,
        rotating=rotating,
        last_used=(last_used or {}).get(key.id),
        usage_known=last_used is not None,
        owner=owner,
    )


# A workspace id the listing doesn't know (never shown raw: ids mean nothing to people).
UNLISTED_WORKSPACE = "an unlisted workspace"


def workspace_names(deps: Deps) -> dict[str, str]:
    """Workspace id → name, archived workspaces and the Default Workspace included."""
    return {w.id: w.name for w in deps.admin.list_workspaces(include_archived=True)}


def open_rotations(session: Session, key_ids: Iterable[str] | None = None) -> dict[str, KeyRotation]:
    """Open rotations by old key id (of `key_ids` only, when given)."""
    return repo.open_rotations(session=session, key_ids=key_ids)


def get_key(deps: Deps, key_id: str) -> ApiKey:
    """The key, or a refusal naming the unknown id."""
    try:
        return deps.admin.get_api_key(key_id)
    except NotFound:
        raise UserError(msg.no_such_key(key_id)) from None


def owns(actor: Actor, key: ApiKey) -> bool:
    """Whether the actor created the key."""
    return actor.anthropic_user_id is not None and key.created_by_user_id == actor.anthropic_user_id


def member_id(actor: Actor) -> str:
    """The actor's Anthropic user id; a refusal for people outside the organization."""
    if actor.anthropic_user_id is None:
        raise UserError(msg.NOT_A_MEMBER)
    return actor.anthropic_user_id


def require_admin(deps: Deps, actor: Actor, what: str) -> Actor:
    """The actor as an Admin confirmed just now; refuses non-admins: 'Only admins can {what}.'"""
    return identity.confirm_admin(deps, actor, msg.admins_only(what))


def require_owner_or_admin(deps: Deps, actor: Actor, key: ApiKey, verb: str) -> None:
    """The key's owner or an Admin (role confirmed just now) may `verb` it."""
    if owns(actor, key):
        return
    if actor.is_admin:
        actor = identity.confirm_role(deps, actor)
    if actor.is_admin:
        return
    if actor.role is BotRole.NON_MEMBER:
        raise UserError(msg.NOT_A_MEMBER)
    raise UserError(msg.someone_elses(key.id, verb))


def require_active(key: ApiKey, now: datetime, verb: str) -> None:
    """Refuse to `verb` a key that is inactive, archived or expired."""
    status = effective_status(key, now)
    if status in ("inactive", "archived", "expired"):
        raise UserError(msg.not_active(key.id, status, verb))
