"""Which handler serves which path: every route of the Admin API the stand-in implements."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from bot.sandbox.anthropic import (
    analytics,
    api_keys,
    claude_code,
    increase_requests,
    rate_limits,
    spend_limits,
    users,
    workspaces,
)
from bot.sandbox.anthropic.errors import ApiError

#: ``handler(state, request, **path_ids)``, called with the state lock held.
RouteHandler = Callable[..., dict[str, Any]]
Route = tuple[str, re.Pattern[str], RouteHandler]


def _routes(table: Iterable[tuple[str, str, RouteHandler]]) -> list[Route]:
    return [(method, re.compile(f"/v1/organizations{path}"), handler) for method, path, handler in table]


_ID = r"(?P<{}>[^/]+)"
ROUTES = _routes(
    [
        ("GET", "/me", users.me),
        ("GET", "/users", users.users_list),
        ("GET", "/users/" + _ID.format("user_id"), users.user_get),
        ("POST", "/users/" + _ID.format("user_id"), users.user_update),
        ("DELETE", "/users/" + _ID.format("user_id"), users.user_remove),
        ("GET", "/invites", users.invites_list),
        ("POST", "/invites", users.invite_create),
        ("GET", "/invites/" + _ID.format("invite_id"), users.invite_get),
        ("DELETE", "/invites/" + _ID.format("invite_id"), users.invite_delete),
        ("GET", "/workspaces", workspaces.workspaces_list),
        ("POST", "/workspaces", workspaces.workspace_create),
        ("GET", "/workspaces/" + _ID.format("workspace_id"), workspaces.workspace_get),
        ("POST", "/workspaces/" + _ID.format("workspace_id"), workspaces.workspace_update),
        ("POST", "/workspaces/" + _ID.format("workspace_id") + "/archive", workspaces.workspace_archive),
        ("GET", "/workspaces/" + _ID.format("workspace_id") + "/members", workspaces.members_list),
        ("POST", "/workspaces/" + _ID.format("workspace_id") + "/members", workspaces.member_add),
        (
            "GET",
            "/workspaces/{w}/members/{u}".format(w=_ID.format("workspace_id"), u=_ID.format("user_id")),
            workspaces.member_get,
        ),
        (
            "POST",
            "/workspaces/{w}/members/{u}".format(w=_ID.format("workspace_id"), u=_ID.format("user_id")),
            workspaces.member_update,
        ),
        (
            "DELETE",
            "/workspaces/{w}/members/{u}".format(w=_ID.format("workspace_id"), u=_ID.format("user_id")),
            workspaces.member_remove,
        ),
        ("GET", "/api_keys", api_keys.keys_list),
        ("GET", "/api_keys/" + _ID.format("key_id"), api_keys.key_get),
        ("POST", "/api_keys/" + _ID.format("key_id"), api_keys.key_update),
        ("GET", "/spend_limits", spend_limits.spend_limits_list),
        ("POST", "/spend_limits", spend_limits.spend_limit_set),
        ("GET", "/spend_limits/effective", spend_limits.effective_list),
        ("GET", "/spend_limits/" + _ID.format("limit_id"), spend_limits.spend_limit_get),
        ("DELETE", "/spend_limits/" + _ID.format("limit_id"), spend_limits.spend_limit_delete),
        ("GET", "/spend_limit_increase_requests", increase_requests.increase_list),
        ("GET", "/spend_limit_increase_requests/" + _ID.format("req_id"), increase_requests.increase_get),
        (
            "POST",
            "/spend_limit_increase_requests/" + _ID.format("req_id") + "/approve",
            increase_requests.increase_approve,
        ),
        ("POST", "/spend_limit_increase_requests/" + _ID.format("req_id") + "/deny", increase_requests.increase_deny),
        ("GET", "/analytics/cost", analytics.analytics_cost),
        ("GET", "/analytics/usage", analytics.analytics_usage),
        ("GET", "/usage_report/claude_code", claude_code.claude_code_report),
        ("GET", "/rate_limits", rate_limits.rate_limits_list),
        ("GET", "/workspaces/" + _ID.format("workspace_id") + "/rate_limits", rate_limits.workspace_rate_limits_list),
    ]
)


def route(method: str, path: str) -> tuple[RouteHandler, dict[str, str]]:
    """The handler for ``method path`` and the ids in the path; 404 for an unknown path, 405 for a wrong method."""
    path_known = False
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        path_known = True
        if route_method == method:
            return handler, match.groupdict()
    if path_known:
        raise ApiError(405, "invalid_request_error", f"Method {method} not allowed for {path}")
    raise ApiError(404, "not_found_error", f"Unknown path: {path}")
