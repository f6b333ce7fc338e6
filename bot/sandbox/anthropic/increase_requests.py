"""Spend limit increase requests: list, get, approve (writes a user limit) and deny."""

from __future__ import annotations

from typing import Any

from bot.sandbox.anthropic.convert import rfc3339, utcnow
from bot.sandbox.anthropic.errors import bad
from bot.sandbox.anthropic.paging import cursor_slice
from bot.sandbox.anthropic.records import IncreaseRequest
from bot.sandbox.anthropic.render import user_actor
from bot.sandbox.anthropic.request import Req
from bot.sandbox.anthropic.spend_limits import effective_rows, limit_json, upsert_limit
from bot.sandbox.anthropic.state import AdminState
from bot.sandbox.anthropic.vocab import INCREASE_STATUSES, PERIODS

# Each handler runs under the state lock and returns a JSON-ready object or raises ApiError.


def require_enterprise(org: AdminState) -> None:
    """Increase requests exist only for Claude Enterprise organizations; a Console org gets a 400."""
    if org.org_type != "enterprise":
        raise bad(
            "Spend limit increase requests are only available to Claude Enterprise organizations",
            "organization_type_not_supported",
        )


def increase_json(org: AdminState, r: IncreaseRequest) -> dict[str, Any]:
    """An increase request as served, with the member's current spend while it is pending."""
    summary = None
    if r.status == "pending":
        rows = effective_rows(org, r.user_id, [r.period])
        summary = rows[0] if rows else None
    return {
        "id": r.id,
        "type": "spend_limit_increase_request",
        "actor": user_actor(org, r.user_id),
        "created_at": rfc3339(r.created_at),
        "period": r.period,
        "status": r.status,
        "resolved_at": rfc3339(r.resolved_at),
        "resolved_by": r.resolved_by,
        "spend_summary": summary,
    }


def increase_list(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /spend_limit_increase_requests, newest first (removed members' requests hidden)."""
    require_enterprise(org)
    limit = req.integer("limit", 20, 1, 1000)
    statuses, actor_ids = req.many("status"), req.many("actor_ids")
    if statuses and set(statuses) - INCREASE_STATUSES:
        raise bad(f"status: must be among {sorted(INCREASE_STATUSES)}")
    rows = [
        r
        for r in org._increase.values()
        if r.user_id in org._users
        and (not statuses or r.status in statuses)
        and (not actor_ids or r.user_id in actor_ids)
    ]
    rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    page, next_page = cursor_slice(req, rows, limit)
    return {"data": [increase_json(org, r) for r in page], "next_page": next_page}


def increase_get(org: AdminState, req: Req, req_id: str) -> dict[str, Any]:
    """GET /spend_limit_increase_requests/{req_id}."""
    require_enterprise(org)
    return increase_json(org, org._get(org._increase, req_id, "Spend limit increase request"))


def resolver(org: AdminState) -> dict[str, Any]:
    """Who resolves requests through the API: the admin key."""
    return {"type": "scoped_api_key_actor", "scoped_api_key_id": org.admin_key_id}


def increase_approve(org: AdminState, req: Req, req_id: str) -> dict[str, Any]:
    """POST .../approve: write the user limit and mark the request approved."""
    require_enterprise(org)
    item = org._get(org._increase, req_id, "Spend limit increase request")
    body = req.json_body()
    amount, period = body.get("amount"), body.get("period") or item.period
    if not isinstance(amount, str) or not amount.isdigit():
        raise bad("amount: required, a non-negative integer string in minor units")
    if period not in PERIODS:
        raise bad(f"period: must be one of {list(PERIODS)}")
    if item.status != "pending":
        raise bad(f"Only pending requests can be approved (this one is {item.status})")
    spend_limit = upsert_limit(org, {"type": "user", "user_id": item.user_id}, amount, period)
    item.status, item.resolved_at, item.resolved_by = "approved", utcnow(), resolver(org)
    return {**increase_json(org, item), "spend_limit": limit_json(spend_limit)}


def increase_deny(org: AdminState, req: Req, req_id: str) -> dict[str, Any]:
    """POST .../deny (denying twice is a no-op; an approved request cannot be denied)."""
    require_enterprise(org)
    item = org._get(org._increase, req_id, "Spend limit increase request")
    if item.status == "approved":
        raise bad("An approved request cannot be denied")
    if item.status == "pending":
        item.status, item.resolved_at, item.resolved_by = "denied", utcnow(), resolver(org)
    return increase_json(org, item)
