"""Rate limits: the org's per rate-limit group and a workspace's overrides (read-only), and what counts toward them.

The calls page like every other (`Transport._pages`: bounded retries, a repeated cursor, too many pages or too
long all stop with `ListingIncomplete`). Without `limit` the API answers everything in one page, so one call
usually does. The pure helpers below say which usage counts toward which limiter (the SDK's
`BetaWorkspaceRateLimitType` docstring) and find the busiest minute of a model group in `1m` usage rows.
"""

from __future__ import annotations

from anthropic import omit

from bot.anthropic_admin import convert
from bot.anthropic_admin.rate_limit_rules import (  # noqa: F401  (re-exported)
    INPUT,
    INPUT_CACHE_AWARE,
    LABELS,
    MEASURES,
    OUTPUT,
    REQUESTS,
    SHOWN,
    TOKENS,
    Limit,
    Peak,
    group_for_model,
    limits_of,
    minute_peaks,
    share,
)
from bot.anthropic_admin.transport import Transport
from bot.anthropic_admin.types import RateLimitGroup, RateLimitGroupType


class RateLimitCalls(Transport):
    """`rate_limits.list` and `workspaces.rate_limits.list`."""

    def list_rate_limits(self, group_type: RateLimitGroupType | None = "model_group") -> list[RateLimitGroup]:
        """The org's rate limits per group (default: model groups only), every page."""
        first = lambda: self._org.rate_limits.list(group_type=group_type if group_type else omit)  # noqa: E731
        return [
            convert.rate_limit_group(entry) for page in self._pages("rate_limits.list", first) for entry in page.data
        ]

    def list_workspace_rate_limits(
        self,
        workspace_id: str,
        *,
        include_inherited: bool = True,
        group_type: RateLimitGroupType | None = "model_group",
    ) -> list[RateLimitGroup]:
        """A workspace's limits per group: its overrides, and with `include_inherited` the org's values it inherits
        (each value says which). NotFound for an unknown workspace."""
        if not workspace_id:
            raise ValueError("workspace_id is required")
        first = lambda: self._org.workspaces.rate_limits.list(  # noqa: E731
            workspace_id, include_inherited=include_inherited, group_type=group_type if group_type else omit
        )
        return [
            convert.rate_limit_group(entry)
            for page in self._pages("workspaces.rate_limits.list", first)
            for entry in page.data
        ]
