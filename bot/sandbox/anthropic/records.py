"""What the Admin API stand-in stores: recorded requests, the org's users, invites, workspaces, keys,
spend limits, increase requests and analytics rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class AdminRequest:
    """One recorded HTTP request (headers lower-cased; body is parsed JSON, raw text, or None)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    at: float = 0.0


@dataclass(slots=True)
class User:
    """An organization member."""

    id: str
    email: str
    name: str
    role: str
    added_at: datetime


@dataclass(slots=True)
class Invite:
    """An invitation (stored status: pending, accepted, deleted or expired)."""

    id: str
    email: str
    role: str
    status: str  # stored: pending | accepted | deleted | expired
    invited_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    rbac_group_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Workspace:
    """A workspace."""

    id: str
    name: str
    created_at: datetime
    archived_at: datetime | None = None
    display_color: str = "#6C5BB9"
    tags: dict[str, str] = field(default_factory=dict)
    data_residency: dict[str, Any] = field(
        default_factory=lambda: {
            "allowed_inference_geos": "unrestricted",
            "default_inference_geo": "global",
            "workspace_geo": "us",
        }
    )
    external_key_id: str | None = None
    user_profile_id: str | None = None
    is_default: bool = False  # the org's Default Workspace: listed only with include_default


@dataclass(slots=True)
class ApiKey:
    """An API key (``workspace_id`` None: organization scope)."""

    id: str
    name: str
    workspace_id: str | None  # None -> organization scope
    created_at: datetime
    created_by: str | None
    status: str  # stored: active | inactive | archived | expired
    expires_at: datetime | None
    partial_key_hint: str | None


@dataclass(slots=True)
class SpendLimit:
    """A spend limit on a scope for a period (amount in minor units, None: no limit)."""

    id: str
    scope: dict[str, str]
    amount: str | None
    period: str
    created_at: datetime
    updated_at: datetime
    is_enabled: bool = True
    currency: str = "USD"


@dataclass(slots=True)
class IncreaseRequest:
    """A member's request for a higher spend limit."""

    id: str
    user_id: str
    period: str
    status: str
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: dict[str, Any] | None = None


@dataclass(slots=True)
class CostRow:
    """A seeded cost row (amounts in cents)."""

    starting_at: datetime
    ending_at: datetime
    amount: Decimal
    list_amount: Decimal
    requests: int | None
    dims: dict[str, Any]


@dataclass(slots=True)
class UsageRow:
    """A seeded usage row (token counts)."""

    starting_at: datetime
    ending_at: datetime
    uncached: int
    output: int
    cache_read: int
    cache_5m: int
    cache_1h: int
    web_search: int
    requests: int | None
    dims: dict[str, Any]
