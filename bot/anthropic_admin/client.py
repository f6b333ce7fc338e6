"""`AdminGateway`: the one client of Anthropic's Admin API, made of the transport and one part per resource."""

from __future__ import annotations

from bot.anthropic_admin.analytics import AnalyticsCalls
from bot.anthropic_admin.api_keys import ApiKeyCalls
from bot.anthropic_admin.claude_code import ClaudeCodeCalls
from bot.anthropic_admin.org_type import OrgTypeCalls
from bot.anthropic_admin.organization import OrganizationCalls
from bot.anthropic_admin.rate_limits import RateLimitCalls
from bot.anthropic_admin.spend import SpendCalls


class AdminGateway(
    OrganizationCalls, ApiKeyCalls, AnalyticsCalls, SpendCalls, RateLimitCalls, OrgTypeCalls, ClaudeCodeCalls
):
    """Anthropic Admin API with bounded retries, explicit paging and domain errors."""
