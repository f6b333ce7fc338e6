"""Users, invites, workspaces, members and API keys as the Admin API serves them."""

from __future__ import annotations

from typing import Any

from bot.sandbox.anthropic.convert import rfc3339, utcnow
from bot.sandbox.anthropic.records import ApiKey, Invite, User, Workspace
from bot.sandbox.anthropic.state import AdminState


def user_json(u: User) -> dict[str, Any]:
    """A user as served."""
    return {
        "id": u.id,
        "type": "user",
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "added_at": rfc3339(u.added_at),
    }


def invite_status(inv: Invite) -> str:
    """The status served: a pending invite past its expiry reads ``expired``."""
    if inv.status == "pending" and inv.expires_at <= utcnow():
        return "expired"
    return inv.status


def invite_json(inv: Invite) -> dict[str, Any]:
    """An invite as served."""
    return {
        "id": inv.id,
        "type": "invite",
        "email": inv.email,
        "role": inv.role,
        "status": invite_status(inv),
        "invited_at": rfc3339(inv.invited_at),
        "expires_at": rfc3339(inv.expires_at),
        "accepted_at": rfc3339(inv.accepted_at),
        "rbac_group_ids": list(inv.rbac_group_ids),
    }


def workspace_json(w: Workspace) -> dict[str, Any]:
    """A workspace as served."""
    return {
        "id": w.id,
        "type": "workspace",
        "name": w.name,
        "created_at": rfc3339(w.created_at),
        "archived_at": rfc3339(w.archived_at),
        "display_color": w.display_color,
        "tags": dict(w.tags),
        "compartment_id": "compartment_" + w.id.removeprefix("wrkspc_"),
        "data_residency": dict(w.data_residency),
        "external_key_id": w.external_key_id,
        "user_profile_id": w.user_profile_id,
    }


def member_json(workspace_id: str, user_id: str, role: str) -> dict[str, Any]:
    """A workspace membership as served."""
    return {"type": "workspace_member", "user_id": user_id, "workspace_id": workspace_id, "workspace_role": role}


def key_status(k: ApiKey) -> str:
    """The status served: an active key past its expiry reads ``expired``."""
    if k.status == "active" and k.expires_at is not None and k.expires_at <= utcnow():
        return "expired"
    return k.status


def key_json(k: ApiKey) -> dict[str, Any]:
    """An API key as served."""
    scope = {"type": "workspace", "workspace_id": k.workspace_id} if k.workspace_id else {"type": "organization"}
    return {
        "id": k.id,
        "type": "api_key",
        "name": k.name,
        "created_at": rfc3339(k.created_at),
        "created_by": {"id": k.created_by, "type": "user"} if k.created_by else None,
        "expires_at": rfc3339(k.expires_at),
        "partial_key_hint": k.partial_key_hint,
        "principal": {"type": "user_actor", "user_id": k.created_by} if k.created_by else None,
        "scope": scope,
        "status": key_status(k),
    }


def user_actor(org: AdminState, user_id: str) -> dict[str, Any]:
    """A ``user_actor`` object for ``user_id`` (``deleted`` once the member was removed)."""
    user = org._users.get(user_id)
    deleted = user is None
    user = user or org._removed_users.get(user_id)
    return {
        "type": "user_actor",
        "user_id": user_id,
        "deleted": deleted,
        "email_address": user.email if user else None,
        "name": user.name if user else None,
    }
