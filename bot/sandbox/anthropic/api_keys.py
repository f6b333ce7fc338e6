"""API keys: list, get, rename and change status (within the org's and the workspace's key limits)."""

from __future__ import annotations

from typing import Any

from bot.sandbox.anthropic.errors import bad
from bot.sandbox.anthropic.paging import id_page
from bot.sandbox.anthropic.records import ApiKey
from bot.sandbox.anthropic.render import key_json, key_status
from bot.sandbox.anthropic.request import Req
from bot.sandbox.anthropic.state import AdminState
from bot.sandbox.anthropic.vocab import KEY_STATUSES

# Each handler runs under the state lock and returns a JSON-ready object or raises ApiError.


def keys_list(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /api_keys, filtered by status, workspace and creator."""
    status, workspace_id, creator = req.one("status"), req.one("workspace_id"), req.one("created_by_user_id")
    if status is not None and status not in KEY_STATUSES:
        raise bad(f"status: must be one of {sorted(KEY_STATUSES)}")
    records = [
        k
        for k in org._keys.values()
        if (status is None or key_status(k) == status)
        and (workspace_id is None or k.workspace_id == workspace_id)
        and (creator is None or k.created_by == creator)
    ]
    return id_page(req, records, key_json)


def key_get(org: AdminState, req: Req, key_id: str) -> dict[str, Any]:
    """GET /api_keys/{key_id}."""
    return key_json(org._get(org._keys, key_id, "API key"))


def key_update(org: AdminState, req: Req, key_id: str) -> dict[str, Any]:
    """POST /api_keys/{key_id}: rename or change status (archived keys are frozen)."""
    key = org._get(org._keys, key_id, "API key")
    body = req.json_body()
    current = key_status(key)
    if current == "archived":
        raise bad("Archived API keys cannot be modified")
    status = body.get("status")
    name = body.get("name", "unchanged")
    if not isinstance(name, str) or not name.strip() or len(name) > 500:
        raise bad("name: must be a non-empty string")
    if status is not None:
        if status == "expired":
            raise bad("status: 'expired' cannot be set")
        if status not in {"active", "inactive", "archived"}:
            raise bad(f"status: invalid value {status!r}")
        if current == "expired" and status == "active":
            raise bad("An expired API key cannot be reactivated")
        if status == "active" and current != "active":
            check_key_limits(org, key)
    if "name" in body:
        key.name = body["name"]
    if status is not None:
        key.status = status
    return key_json(key)


def check_key_limits(org: AdminState, key: ApiKey) -> None:
    """Refuse reactivating a key past the org's or the workspace's active-key limit."""
    active = [k for k in org._keys.values() if key_status(k) == "active"]
    if org.org_api_key_limit is not None and len(active) >= org.org_api_key_limit:
        raise bad("The organization has reached its API key limit", "org_api_key_limit_exceeded")
    in_ws = sum(1 for k in active if k.workspace_id == key.workspace_id)
    if org.workspace_api_key_limit is not None and in_ws >= org.workspace_api_key_limit:
        raise bad("The workspace has reached its API key limit", "workspace_api_key_limit_exceeded")
