"""Spend limits (Console: organization and workspace; Enterprise: per user) and effective spend per member."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.sandbox.anthropic.convert import dec_str, rfc3339, utcnow
from bot.sandbox.anthropic.errors import ApiError, bad
from bot.sandbox.anthropic.paging import cursor_slice
from bot.sandbox.anthropic.records import SpendLimit
from bot.sandbox.anthropic.render import user_actor
from bot.sandbox.anthropic.request import Req
from bot.sandbox.anthropic.state import AdminState
from bot.sandbox.anthropic.vocab import PERIODS, SPEND_LIMIT_READS_BETA, SPEND_SCOPE_TYPES

# Each handler runs under the state lock and returns a JSON-ready object or raises ApiError.


def limit_json(s: SpendLimit) -> dict[str, Any]:
    """A spend limit as served."""
    return {
        "id": s.id,
        "type": "spend_limit",
        "amount": s.amount,
        "currency": s.currency,
        "is_enabled": s.is_enabled,
        "period": s.period,
        "scope": dict(s.scope),
        "created_at": rfc3339(s.created_at),
        "updated_at": rfc3339(s.updated_at),
    }


def require_writes(org: AdminState) -> None:
    """Refuse (403) unless spend limit writes are enabled for the organization."""
    if not org.spend_limit_writes_enabled:
        raise ApiError(
            403,
            "permission_error",
            "Spend limit management through the Admin API is not enabled for this organization",
            "spend_limits_admin_api_writes_not_enabled",
        )


def usage_tier_limit(org: AdminState) -> SpendLimit | None:
    """The read-only usage-tier limit a Console org lists (None when hidden)."""
    if org.org_type != "console" or org.usage_tier_amount is None:
        return None
    return SpendLimit(
        id="spl_01USAGETIER0000000000000000",
        scope={"type": "usage_tier"},
        amount=org.usage_tier_amount,
        period="monthly",
        created_at=org.created_at,
        updated_at=org.created_at,
        currency=org.currency,
    )


def all_limits(org: AdminState) -> list[SpendLimit]:
    """The stored limits and the usage-tier limit."""
    tier = usage_tier_limit(org)
    return list(org._limits.values()) + ([tier] if tier else [])


def spend_limits_list(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /spend_limits (needs the reads beta), ordered per org type."""
    if SPEND_LIMIT_READS_BETA not in req.betas():
        raise bad(f"This endpoint requires the anthropic-beta header {SPEND_LIMIT_READS_BETA}")
    limit = req.integer("limit", 20, 1, 1000)
    scope_types, workspace_id = req.many("scope_type"), req.one("workspace_id")
    allowed = SPEND_SCOPE_TYPES[org.org_type]
    if scope_types and set(scope_types) - set(allowed):
        raise bad(f"scope_type: not applicable to this organization: {sorted(set(scope_types) - set(allowed))}")
    if workspace_id is not None and org.org_type != "console":
        raise bad("workspace_id: only supported for Console organizations")
    rows = [
        s
        for s in all_limits(org)
        if (not scope_types or s.scope["type"] in scope_types)
        and (workspace_id is None or s.scope.get("workspace_id") == workspace_id)
    ]
    if org.org_type == "console":
        rows.sort(key=lambda s: (s.created_at, s.id), reverse=True)
    else:
        order = {t: i for i, t in enumerate(allowed)}
        rows.sort(key=lambda s: (order.get(s.scope["type"], 99), s.id))
    page, next_page = cursor_slice(req, rows, limit)
    return {"data": [limit_json(s) for s in page], "next_page": next_page}


def find_limit(org: AdminState, limit_id: str) -> SpendLimit:
    """A stored limit or the usage-tier limit by id (404 otherwise)."""
    tier = usage_tier_limit(org)
    if tier is not None and limit_id == tier.id:
        return tier
    return org._get(org._limits, limit_id, "Spend limit")


def spend_limit_get(org: AdminState, req: Req, limit_id: str) -> dict[str, Any]:
    """GET /spend_limits/{limit_id}."""
    require_writes(org)
    return limit_json(find_limit(org, limit_id))


def spend_limit_delete(org: AdminState, req: Req, limit_id: str) -> dict[str, Any]:
    """DELETE /spend_limits/{limit_id} (the usage-tier limit stays)."""
    require_writes(org)
    found = find_limit(org, limit_id)
    if found.scope["type"] == "usage_tier":
        raise bad("The usage_tier spend limit cannot be deleted")
    del org._limits[limit_id]
    return {"id": limit_id, "type": "spend_limit_deleted"}


def spend_limit_set(org: AdminState, req: Req) -> dict[str, Any]:
    """POST /spend_limits: create or update the limit of a scope and period."""
    require_writes(org)
    body = req.json_body()
    if "amount" not in body or not isinstance(body.get("scope"), dict):
        raise bad("amount and scope are required")
    amount, scope, period = body["amount"], body["scope"], body.get("period") or "monthly"
    scope_type = scope.get("type")
    settable = {"console": {"organization", "workspace"}, "enterprise": {"user"}}[org.org_type]
    if scope_type not in settable:
        kind = "Claude Enterprise" if org.org_type == "enterprise" else "Claude Console"
        raise bad(
            f"scope.type: {scope_type!r} spend limits cannot be set for a {kind} organization",
            "organization_type_not_supported",
        )
    if period not in PERIODS:
        raise bad(f"period: must be one of {list(PERIODS)}")
    if amount is not None and (not isinstance(amount, str) or not amount.isdigit()):
        raise bad("amount: must be a non-negative integer string in minor units, or null")
    if org.org_type == "console":
        if period != "monthly":
            raise bad("period: Console spend limits are monthly")
        if amount is None:
            raise bad("amount: Console spend limits always carry an amount")
    if scope_type == "workspace":
        org._get(org._workspaces, str(scope.get("workspace_id")), "Workspace")
        scope = {"type": "workspace", "workspace_id": scope["workspace_id"]}
    elif scope_type == "user":
        org._get(org._users, str(scope.get("user_id")), "User")
        scope = {"type": "user", "user_id": scope["user_id"]}
    else:
        scope = {"type": "organization"}
    return limit_json(upsert_limit(org, scope, amount, period))


def upsert_limit(
    org: AdminState,
    scope: dict[str, str],
    amount: str | None,
    period: str,
    created_at: datetime | None = None,
    is_enabled: bool = True,
) -> SpendLimit:
    """Update the limit of (scope, period) or create it."""
    for existing in org._limits.values():
        if existing.scope == scope and existing.period == period:
            existing.amount, existing.updated_at = amount, utcnow()
            return existing
    when = created_at or utcnow()
    limit = SpendLimit(
        id=org._new_id("spl"),
        scope=dict(scope),
        amount=amount,
        period=period,
        created_at=when,
        updated_at=when,
        is_enabled=is_enabled,
        currency=org.currency,
    )
    org._limits[limit.id] = limit
    return limit


# -- effective spend (Enterprise)


def period_start(period: str, now: datetime) -> datetime:
    """The start of the day, ISO week or month containing ``now``."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        return day
    if period == "weekly":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_to_date(org: AdminState, user_id: str, period: str) -> str:
    """A member's spend this period: the override if set, else the sum of their cost rows."""
    override = org._period_spend.get((user_id, period))
    if override is not None:
        return override
    start = period_start(period, utcnow())
    total = sum(
        (c.amount for c in org._costs if c.dims.get("actor_user_id") == user_id and c.starting_at >= start),
        Decimal(0),
    )
    return dec_str(total.quantize(Decimal("0.001")))


def effective_rows(org: AdminState, user_id: str, periods: Iterable[str]) -> list[dict[str, Any]]:
    """A member's effective limits per period: their own, else the organization's."""
    rows = []
    for period in periods:
        source = next(
            (s for s in org._limits.values() if s.period == period and s.scope == {"type": "user", "user_id": user_id}),
            None,
        ) or next(
            (s for s in org._limits.values() if s.period == period and s.scope["type"] == "organization"),
            None,
        )
        if source is None:
            continue
        rows.append(
            {
                "actor": user_actor(org, user_id),
                "amount": source.amount,
                "currency": source.currency,
                "period": period,
                "period_to_date_spend": period_to_date(org, user_id, period),
                "scope": {"type": "user", "user_id": user_id},
                "source": dict(source.scope),
                "spend_limit_id": source.id,
            }
        )
    return rows


def effective_list(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /spend_limits/effective (Enterprise only)."""
    if org.org_type != "enterprise":
        raise bad(
            "Effective spend limits are only available to Claude Enterprise organizations",
            "organization_type_not_supported",
        )
    limit = req.integer("limit", 20, 1, 1000)
    periods, user_ids = req.many("period"), req.many("user_ids")
    if periods and set(periods) - set(PERIODS):
        raise bad(f"period: must be among {list(PERIODS)}")
    if user_ids and len(user_ids) > 100:
        raise bad("user_ids: at most 100 entries")
    wanted_periods = [p for p in PERIODS if not periods or p in periods]
    members = [u for u in sorted(org._users) if not user_ids or u in user_ids]
    grouped = [rows for rows in (effective_rows(org, u, wanted_periods) for u in members) if rows]
    page, next_page = cursor_slice(req, grouped, limit)
    return {"data": [row for rows in page for row in rows], "next_page": next_page}
