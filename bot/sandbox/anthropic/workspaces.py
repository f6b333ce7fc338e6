"""Workspaces and their members."""

from __future__ import annotations

from typing import Any

from bot.sandbox.anthropic.convert import utcnow
from bot.sandbox.anthropic.errors import bad, not_found
from bot.sandbox.anthropic.paging import id_page
from bot.sandbox.anthropic.render import member_json, workspace_json
from bot.sandbox.anthropic.request import Req
from bot.sandbox.anthropic.state import AdminState
from bot.sandbox.anthropic.vocab import WORKSPACE_ROLES

# Each handler runs under the state lock and returns a JSON-ready object or raises ApiError.


def workspaces_list(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /workspaces (archived ones on request)."""
    ids = req.many("ids")
    if ids and len(ids) > 100:
        raise bad("ids: at most 100 entries")
    include_archived = req.boolean("include_archived")
    include_default = req.boolean("include_default")
    wanted = set(ids) if ids else None
    records = [
        w
        for w in org._workspaces.values()
        if (include_archived or w.archived_at is None)
        and (include_default or not w.is_default)
        and (wanted is None or w.id in wanted)
    ]
    return id_page(req, records, workspace_json)


def workspace_create(org: AdminState, req: Req) -> dict[str, Any]:
    """POST /workspaces."""
    body = req.json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 40:
        raise bad("name: required, 1-40 characters")
    if body.get("inference_data_privacy") is not None:
        raise bad("inference_data_privacy: an Admin API key can't set this field")
    tags = check_tags(body.get("tags") or {})
    ws = org._store_workspace(name)
    ws.tags = {k: v for k, v in tags.items() if v is not None}
    if body.get("display_color"):
        ws.display_color = body["display_color"]
    for attr in ("external_key_id", "user_profile_id"):
        if body.get(attr):
            setattr(ws, attr, body[attr])
    if body.get("data_residency"):
        ws.data_residency.update({k: v for k, v in body["data_residency"].items() if v is not None})
    return workspace_json(ws)


def check_tags(tags: Any) -> dict[str, Any]:
    """Tags must be an object whose keys do not start with 'anthropic'."""
    if not isinstance(tags, dict):
        raise bad("tags: must be an object")
    if any(str(k).lower().startswith("anthropic") for k in tags):
        raise bad("tags: keys may not begin with 'anthropic'")
    return tags


def workspace_get(org: AdminState, req: Req, workspace_id: str) -> dict[str, Any]:
    """GET /workspaces/{workspace_id}."""
    return workspace_json(org._get(org._workspaces, workspace_id, "Workspace"))


def workspace_update(org: AdminState, req: Req, workspace_id: str) -> dict[str, Any]:
    """POST /workspaces/{workspace_id} (write-once ids, tag merges)."""
    ws = org._get(org._workspaces, workspace_id, "Workspace")
    if ws.archived_at is not None:
        raise bad("Archived workspaces cannot be updated")
    if ws.is_default and "name" in req.json_body():
        raise bad("The default Workspace cannot be renamed")
    body = req.json_body()
    if body.get("inference_data_privacy") is not None:
        raise bad("inference_data_privacy: an Admin API key can't set this field")
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 40:
            raise bad("name: 1-40 characters")
        ws.name = name
    if body.get("display_color"):
        ws.display_color = body["display_color"]
    for attr in ("external_key_id", "user_profile_id"):  # write-once
        value = body.get(attr)
        if value and getattr(ws, attr) not in (None, value):
            raise bad(f"{attr}: is write-once and already set")
        if value:
            setattr(ws, attr, value)
    if body.get("tags") is not None:
        for k, v in check_tags(body["tags"]).items():
            if v is None:
                ws.tags.pop(k, None)
            else:
                ws.tags[k] = v
    if body.get("data_residency"):
        ws.data_residency.update({k: v for k, v in body["data_residency"].items() if v is not None})
    return workspace_json(ws)


def workspace_archive(org: AdminState, req: Req, workspace_id: str) -> dict[str, Any]:
    """POST /workspaces/{workspace_id}/archive: archives its keys too."""
    ws = org._get(org._workspaces, workspace_id, "Workspace")
    if ws.is_default:
        raise bad("The default Workspace cannot be archived")
    if ws.archived_at is None:
        ws.archived_at = utcnow()
        for key in org._keys.values():
            if key.workspace_id == workspace_id:
                key.status = "archived"
    return workspace_json(ws)


# -- workspace members


def workspace_for_members(org: AdminState, workspace_id: str) -> dict[str, str]:
    """A workspace's members by user id (404 for an unknown workspace)."""
    org._get(org._workspaces, workspace_id, "Workspace")
    return org._members.setdefault(workspace_id, {})


def members_list(org: AdminState, req: Req, workspace_id: str) -> dict[str, Any]:
    """GET /workspaces/{workspace_id}/members, by user id."""
    members = workspace_for_members(org, workspace_id)
    records = sorted(members.items())
    return id_page(req, records, lambda item: member_json(workspace_id, item[0], item[1]), key=lambda item: item[0])


def member_add(org: AdminState, req: Req, workspace_id: str) -> dict[str, Any]:
    """POST /workspaces/{workspace_id}/members, within the workspace member limit."""
    members = workspace_for_members(org, workspace_id)
    body = req.json_body()
    user_id, role = body.get("user_id"), body.get("workspace_role")
    if org._workspaces[workspace_id].archived_at is not None:
        raise bad("Cannot add members to an archived workspace")
    if role == "workspace_billing":
        raise bad("workspace_role: workspace_billing cannot be granted through this endpoint")
    if role not in WORKSPACE_ROLES:
        raise bad(f"workspace_role: invalid value {role!r}")
    if not isinstance(user_id, str) or user_id not in org._users:
        raise not_found("User", str(user_id))
    if user_id in members:
        raise bad(f"User {user_id} is already a member of workspace {workspace_id}")
    if org.workspace_member_limit is not None and len(members) >= org.workspace_member_limit:
        raise bad("The workspace has reached its member limit", "workspace_member_limit_exceeded")
    members[user_id] = role
    return member_json(workspace_id, user_id, role)


def member_get(org: AdminState, req: Req, workspace_id: str, user_id: str) -> dict[str, Any]:
    """GET /workspaces/{workspace_id}/members/{user_id}."""
    members = workspace_for_members(org, workspace_id)
    if user_id not in members:
        raise not_found("Workspace member", user_id)
    return member_json(workspace_id, user_id, members[user_id])


def member_update(org: AdminState, req: Req, workspace_id: str, user_id: str) -> dict[str, Any]:
    """POST /workspaces/{workspace_id}/members/{user_id}: change the workspace role."""
    members = workspace_for_members(org, workspace_id)
    if user_id not in members:
        raise not_found("Workspace member", user_id)
    role = req.json_body().get("workspace_role")
    if role not in WORKSPACE_ROLES:
        raise bad(f"workspace_role: invalid value {role!r}")
    members[user_id] = role
    return member_json(workspace_id, user_id, role)


def member_remove(org: AdminState, req: Req, workspace_id: str, user_id: str) -> dict[str, Any]:
    """DELETE /workspaces/{workspace_id}/members/{user_id}."""
    members = workspace_for_members(org, workspace_id)
    if user_id not in members:
        raise not_found("Workspace member", user_id)
    del members[user_id]
    return {"type": "workspace_member_deleted", "user_id": user_id, "workspace_id": workspace_id}
