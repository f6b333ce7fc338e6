"""`/claude-key revoke <key-id> [reason]`: a confirm step, then the deactivation, its audit row and the admin post."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.anthropic_admin import ApiKey
from bot.deps import Deps
from bot.identity import Actor, resolve_actor
from bot.keys.blocks.listing import revoked_notice
from bot.keys.common import get_key, key_view, require_active, require_owner_or_admin, workspace_names
from bot.keys.model import Revoked, RevokeRequest
from bot.keys.writes import set_key_status

logger = logging.getLogger(__name__)


def deactivate_and_audit(deps: Deps, key: ApiKey, actor: Actor, now: datetime, detail: str) -> None:
    """Set the key inactive through an intent row, then write its audit row (a refused call leaves no row)."""
    set_key_status(deps, key, actor, now, status="inactive", action="key.revoked", detail=detail)


def start_revoke(deps: Deps, *, slack_user_id: str, key_id: str, reason: str) -> RevokeRequest:
    """The confirm step of a revoke: checks who may, and names the key."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    key = get_key(deps, key_id)
    require_owner_or_admin(deps, actor, key, "revoke")
    require_active(key, now, "revoke")
    return RevokeRequest(key=key_view(key, deps, now, workspaces=workspace_names(deps)), reason=reason)


def revoke(deps: Deps, *, slack_user_id: str, key_id: str, reason: str) -> Revoked:
    """Deactivate a key after the confirm click: permission and state re-checked, audit row, admin post."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id, privileged=True)
    key = get_key(deps, key_id)
    require_owner_or_admin(deps, actor, key, "revoke")
    require_active(key, now, "revoke")
    deactivate_and_audit(deps, key, actor, now, reason)
    revoked = Revoked(
        key=key_view(key, deps, now, workspaces=workspace_names(deps)), by=actor.slack_user_id, reason=reason
    )
    channel = deps.settings.admin_channel_id
    if not channel:
        return revoked
    notice = revoked_notice(revoked)
    try:
        deps.notifier.post(channel, notice.text, notice.blocks)
    except SlackApiError as exc:
        logger.warning("revoke notice to the admin channel failed: %s", exc.response.get("error"))
        return replace(revoked, admins_missed=True)
    return revoked
