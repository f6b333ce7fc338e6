"""The Admin API's vocabulary as the stand-in serves it: betas, roles, statuses, analytics dimensions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
SPEND_LIMIT_READS_BETA = "spend-limit-reads-2026-09-26"
DEFAULT_ADMIN_KEY = "sk-ant-admin01-standin-key"
DEFAULT_WORKSPACE_NAME = "Default"

ASSIGNABLE_ROLES = {
    "console": {"user", "developer", "billing", "claude_code_user"},
    "enterprise": {"user", "managed"},
}
FILTERABLE_ROLES = {
    "console": {"user", "developer", "billing", "admin", "claude_code_user"},
    "enterprise": {"user", "owner", "primary_owner", "membership_admin", "managed"},
}
ALL_ORG_ROLES = FILTERABLE_ROLES["console"] | FILTERABLE_ROLES["enterprise"]
WORKSPACE_ROLES = {
    "workspace_admin",
    "workspace_billing",
    "workspace_developer",
    "workspace_restricted_developer",
    "workspace_user",
}
INVITE_STATUSES = {"accepted", "expired", "pending"}
KEY_STATUSES = {"active", "archived", "expired", "inactive"}
PERIODS = ("daily", "weekly", "monthly")
SPEND_SCOPE_TYPES = {
    "console": ("organization", "workspace", "usage_tier"),
    "enterprise": ("organization", "seat_tier", "rbac_group", "organization_service", "user"),
}
INCREASE_STATUSES = {"approved", "denied", "pending"}
ANALYTICS_FLOOR = datetime(2026, 1, 1, tzinfo=UTC)
ANALYTICS_LOOKBACK = timedelta(days=365)
BUCKET_WIDTHS = {"1d": timedelta(days=1), "1h": timedelta(hours=1), "1m": timedelta(minutes=1)}
USAGE_DIMS = (
    "actor",
    "actor_type",
    "agent_id",
    "api_key_id",
    "claude_tag_category",
    "claude_tag_user_id",
    "context_window",
    "deployment_id",
    "environment_id",
    "inference_geo",
    "model",
    "organization_id",
    "product",
    "rbac_group_id",
    "service_tier",
    "session_id",
    "slack_channel_id",
    "speed",
    "user_profile_id",
    "workspace_id",
)
COST_DIMS = (*USAGE_DIMS, "cost_type", "token_type")
FANOUT_DIMS = {"cost_type", "token_type"}
# analytics list filter -> row dimension (actor_ids and api_key_ids are handled specially)
FILTER_DIMS = {
    "workspace_ids": "workspace_id",
    "models": "model",
    "agent_ids": "agent_id",
    "deployment_ids": "deployment_id",
    "environment_ids": "environment_id",
    "rbac_group_ids": "rbac_group_id",
    "slack_channel_ids": "slack_channel_id",
    "claude_tag_user_ids": "claude_tag_user_id",
    "organization_ids": "organization_id",
    "user_profile_ids": "user_profile_id",
    "session_ids": "session_id",
    "products": "product",
    "service_tiers": "service_tier",
    "speeds": "speed",
    "inference_geos": "inference_geo",
    "context_windows": "context_window",
    "claude_tag_categories": "claude_tag_category",
    "actor_types": "actor_type",
}
COST_ORDER_BY = {"amount", "list_amount", "time"}
USAGE_ORDER_BY = {"total_tokens", "output_tokens", "requests", "uncached_input_tokens", "time"}
TOKEN_TYPES = {
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
}
STATUS_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}
