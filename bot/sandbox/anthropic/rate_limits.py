"""GET /rate_limits and GET /workspaces/{id}/rate_limits: the org's limits per group and a workspace's overrides.

Shapes follow the SDK's `BetaOrganizationRateLimit` and `BetaWorkspaceRateLimit`. Every org starts with the
seed below (three model groups, the Message Batches API and the Token Count API); `set_rate_limit` and
`set_workspace_rate_limit` change it. Without `limit` everything comes in one page (`next_page` null), as the
API documents; with it, pages follow the opaque cursor. An unknown `model` is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.anthropic.errors import ApiError, bad
from bot.sandbox.anthropic.paging import cursor_slice
from bot.sandbox.anthropic.request import Req
from bot.sandbox.anthropic.state import AdminState

GROUP_TYPES = ("batch", "files", "model_group", "skills", "token_count", "web_search")
LIMITER_TYPES = (
    "fast_itpmca",
    "fast_otpm",
    "input_tokens_per_minute",
    "input_tokens_per_minute_cache_aware",
    "output_tokens_per_minute",
    "requests_per_minute",
    "tokens_per_day",
    "tokens_per_minute",
    "tool_uses_per_second",
)


@dataclass
class RateLimitEntry:
    """One org rate-limit entry: its group, the models it covers and the limiter values."""

    id: str
    group_id: str
    group_type: str
    display_name: str | None
    models: list[str] | None
    limits: dict[str, int]
    overrides: dict[str, dict[str, int]] = field(default_factory=dict)  # workspace id -> limiter type -> value


def _seed() -> list[RateLimitEntry]:
    # A mid-tier Console org: enough for tests to reach 80 % with a few seeded minutes.
    def model_group(n: int, name: str, models: list[str], rpm: int, itpm: int, otpm: int) -> RateLimitEntry:
        return RateLimitEntry(
            id=f"ratelimit_01STANDIN{n:016d}",
            group_id=f"rlg_01STANDINGROUP{n:010d}",
            group_type="model_group",
            display_name=name,
            models=models,
            limits={
                "requests_per_minute": rpm,
                "input_tokens_per_minute_cache_aware": itpm,
                "output_tokens_per_minute": otpm,
            },
        )

    return [
        model_group(
            1,
            "Claude Opus 4.x",
            ["claude-opus-4-5", "claude-opus-4-1", "claude-opus-4-1-20250805", "claude-opus-4", "claude-opus-4-0"],
            1000,
            450_000,
            90_000,
        ),
        model_group(
            2,
            "Claude Sonnet 4.x",
            ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4", "claude-sonnet-4-0"],
            1000,
            450_000,
            90_000,
        ),
        model_group(
            3,
            "Claude Haiku 4.x",
            ["claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-haiku-4", "claude-3-5-haiku-latest"],
            2000,
            1_000_000,
            200_000,
        ),
        RateLimitEntry(
            id="ratelimit_01STANDIN0000000000000004",
            group_id="rlg_01STANDINGROUP0000000004",
            group_type="batch",
            display_name=None,
            models=None,
            limits={"requests_per_minute": 1000},
        ),
        RateLimitEntry(
            id="ratelimit_01STANDIN0000000000000005",
            group_id="rlg_01STANDINGROUP0000000005",
            group_type="token_count",
            display_name=None,
            models=None,
            limits={"requests_per_minute": 2000},
        ),
    ]


def entries(org: AdminState) -> list[RateLimitEntry]:
    """The org's rate-limit entries (seeded on first use)."""
    if org._rate_limit_entries is None:
        org._rate_limit_entries = _seed()
    return org._rate_limit_entries


def entry_for(org: AdminState, rate_limit_id: str) -> RateLimitEntry:
    """One entry by its id (KeyError otherwise)."""
    for entry in entries(org):
        if entry.id == rate_limit_id:
            return entry
    raise KeyError(rate_limit_id)


def _group_json(entry: RateLimitEntry) -> dict[str, Any]:
    group: dict[str, Any] = {"id": entry.group_id, "type": entry.group_type}
    if entry.group_type == "model_group":
        group["display_name"] = entry.display_name
    return group


def _org_json(entry: RateLimitEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "type": "rate_limit",
        "group": _group_json(entry),
        "limits": [{"type": t, "value": v} for t, v in entry.limits.items()],
        "models": list(entry.models) if entry.models is not None else None,
    }


def _group_type(req: Req) -> str | None:
    wanted = req.one("group_type")
    if wanted is not None and wanted not in GROUP_TYPES:
        raise bad(f"group_type: must be one of {list(GROUP_TYPES)}")
    return wanted


def _page(req: Req, items: list[dict[str, Any]]) -> dict[str, Any]:
    if req.one("limit") is None:
        if req.one("page"):
            raise bad("page: invalid cursor")
        return {"data": items, "next_page": None}
    limit = req.integer("limit", 1000, 1, 1000)
    page, next_page = cursor_slice(req, items, limit)
    return {"data": page, "next_page": next_page}


def rate_limits_list(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /rate_limits."""
    wanted = _group_type(req)
    chosen = [e for e in entries(org) if wanted is None or e.group_type == wanted]
    model = req.one("model")
    if model is not None:
        chosen = [e for e in chosen if e.models is not None and model in e.models]
        if not chosen:
            raise ApiError(404, "not_found_error", f"No rate limits found for model: {model}")
    return _page(req, [_org_json(e) for e in chosen])


def workspace_rate_limits_list(org: AdminState, req: Req, workspace_id: str) -> dict[str, Any]:
    """GET /workspaces/{workspace_id}/rate_limits: overrides only, or with `include_inherited` every group."""
    org._get(org._workspaces, workspace_id, "Workspace")
    wanted = _group_type(req)
    inherited = req.boolean("include_inherited")
    out = []
    for entry in entries(org):
        if wanted is not None and entry.group_type != wanted:
            continue
        overrides = entry.overrides.get(workspace_id, {})
        if not overrides and not inherited:
            continue
        values = []
        for kind in sorted(set(entry.limits) | set(overrides)):
            org_value = entry.limits.get(kind)
            if kind in overrides:
                values.append(
                    {"type": kind, "value": overrides[kind], "org_limit": org_value, "source": {"type": "workspace"}}
                )
            elif inherited and org_value is not None:
                values.append(
                    {"type": kind, "value": org_value, "org_limit": org_value, "source": {"type": "organization"}}
                )
        out.append(
            {
                "type": "workspace_rate_limit",
                "workspace_id": workspace_id,
                "rate_limit_id": entry.id,
                "group": _group_json(entry),
                "limits": values,
                "models": list(entry.models) if entry.models is not None else None,
            }
        )
    return _page(req, out)


class RateLimitSeed(AdminState):
    """Seeding rate limits: the org's values and a workspace's overrides."""

    def rate_limit_entries(self) -> list[dict[str, Any]]:
        """The org's rate-limit entries as the API serves them."""
        with self._lock:
            return [_org_json(e) for e in entries(self)]

    def set_rate_limit(self, group: str, limiter: str, value: int) -> None:
        """Set the org's `limiter` value for the group whose display name, type or id is `group`."""
        if limiter not in LIMITER_TYPES:
            raise ValueError(f"unknown limiter type {limiter!r}")
        with self._lock:
            self._entry(group).limits[limiter] = value

    def set_workspace_rate_limit(self, workspace_id: str, group: str, limiter: str, value: int | None) -> None:
        """Store (or with None clear) a workspace's override of `limiter` for `group`."""
        if limiter not in LIMITER_TYPES:
            raise ValueError(f"unknown limiter type {limiter!r}")
        with self._lock:
            if workspace_id not in self._workspaces:
                raise ValueError(f"unknown workspace {workspace_id}")
            overrides = self._entry(group).overrides.setdefault(workspace_id, {})
            if value is None:
                overrides.pop(limiter, None)
            else:
                overrides[limiter] = value

    def _entry(self, group: str) -> RateLimitEntry:
        for entry in entries(self):
            if group in {entry.id, entry.group_id, entry.display_name, entry.group_type}:
                return entry
        raise ValueError(f"unknown rate-limit group {group!r}")
