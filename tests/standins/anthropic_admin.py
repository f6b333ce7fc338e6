"""A stateful stand-in of the Anthropic organization Admin API, served over real HTTP on loopback.

The real ``anthropic.Anthropic(api_key=..., base_url=standin.base_url, _strict_response_validation=True)``
client talks to it; nothing in the SDK is mocked. Shapes, paths, pagination and error bodies follow
/work/shared/reference/anthropic-admin-api.md (§1.5, §2, §3, §6) and the SDK 2.13.0 models.

Quick use::

    with AnthropicStandIn() as standin:
        standin.seed_basic()
        client = anthropic.Anthropic(api_key=standin.admin_key, base_url=standin.base_url)
        client.beta.organization.users.list()

Public API: ``start()``/``stop()``/context manager, ``base_url``, ``port``, ``admin_key``; records
(``requests``, ``matching``, ``count``, ``wait_for``, ``reset_requests``); faults (``inject``, ``clear_faults``,
``latency``); knobs (``org_type``, ``allowed_email_domains``, ``member_limit``, ``workspace_member_limit``,
``org_api_key_limit``, ``workspace_api_key_limit``, ``spend_limit_writes_enabled``, ``usage_tier_amount``,
``data_refreshed_at``, ``org_name``); seeding (``add_user``, ``add_invite``, ``accept_invite``,
``add_workspace``, ``add_member``, ``add_api_key``, ``add_cost``, ``add_usage``, ``add_spend_limit``,
``add_increase_request``, ``set_period_spend``, ``seed_basic``, ``seed_scale``), each returning API JSON.
CLI: ``python -m tests.standins.anthropic_admin --port 0 [--latency S] [--seed-scale U,W,K]`` prints
``READY <base_url>`` and serves until SIGTERM/SIGINT.

Behaviour worth knowing (the real API does not document all of it; choices here are marked):

* Auth: only ``Authorization: Bearer <admin_key>`` is accepted; anything else is 401 authentication_error.
* Every request is recorded (``requests``, ``count``, ``wait_for``), including unauthenticated and faulted ones.
* Ordering (stand-in choice, stable): every ID-cursor list (users, invites, workspaces, workspace members,
  api_keys) is ascending by ID, which is creation order (IDs are monotonic). Workspace members are keyed and
  ordered by ``user_id``. ``after_id``/``before_id`` are mutually exclusive (400 if both).
  spend_limits: Console newest first (created_at, then ID); Enterprise grouped organization, seat_tier,
  rbac_group, organization_service, user. Increase requests newest first. Effective rows by user ID.
  Analytics rows by the ``order_by`` metric (default amount / total_tokens, desc), ties by time then group.
* Computed statuses: a ``pending`` invite or an ``active`` key whose ``expires_at`` has passed reads
  ``expired``.
* Archiving a workspace archives its keys (inferred). Removing a user drops their workspace memberships and
  hides their increase requests from the list; their keys are untouched.
* Spend limits: ``org_type`` decides the scopes (Console: organization/workspace, monthly, amount required;
  Enterprise: user). retrieve/set/delete need ``spend_limit_writes_enabled`` (default True) else 403
  ``spend_limits_admin_api_writes_not_enabled``. A Console org lists a read-only ``usage_tier`` limit
  (``usage_tier_amount``; None hides it). Approving an increase request writes a user limit in any org type.
* Analytics: needs ``anthropic-beta: analytics-usage-cost-2026-08-24`` (else 400). ``starting_at`` must be
  tz-aware and >= 2026-01-01; the "within the last 365 days" rule is not enforced. Rows are attributed to
  buckets by their ``starting_at``. ``order_by=time`` without a bucket width is a 400 (stand-in choice).
  ``actor`` groups are a ``user_actor`` when the row has ``actor_user_id``, else an ``api_actor`` when it has
  ``api_key_id``. cost_type/token_type do not count toward the 5 group_by dimensions.
* Faults: ``inject()`` queues faults matched by method + ``re.search`` on the path; the first matching fault
  is consumed. ``status=None`` makes a pass-through fault (delay only, then the real handler runs).
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import hashlib
import itertools
import json
import re
import signal
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

try:  # the fixture is optional so `python -m` works without pytest
    import pytest
except ImportError:  # pragma: no cover
    pytest = None  # type: ignore[assignment]

__all__ = [
    "ANALYTICS_BETA",
    "SPEND_LIMIT_READS_BETA",
    "AdminRequest",
    "AnthropicStandIn",
    "anthropic_standin",
]

ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
SPEND_LIMIT_READS_BETA = "spend-limit-reads-2026-09-26"
DEFAULT_ADMIN_KEY = "sk-ant-admin01-standin-key"

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


# --------------------------------------------------------------------------------------------- helpers


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime | None) -> str | None:
    """RFC 3339 with a ``Z`` suffix."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _dt(value: datetime | str | None, default: datetime | None = None) -> datetime | None:
    """Seeding input -> aware UTC datetime (naive values are taken as UTC)."""
    if value is None:
        return default
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _dec_str(value: Decimal) -> str:
    """Decimal -> plain decimal string without exponent or trailing zeros ("1234.567", "0")."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def _norm_email(email: str) -> str:
    return email.strip().casefold()


class ApiError(Exception):
    """Raised by handlers; rendered as the documented error body."""

    def __init__(self, status: int, error_type: str, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.error_code = error_code


def _bad(message: str, code: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request_error", message, code)


def _not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, "not_found_error", f"{kind} not found: {ident}")


# ----------------------------------------------------------------------------------------------- records


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
class _User:
    id: str
    email: str
    name: str
    role: str
    added_at: datetime


@dataclass(slots=True)
class _Invite:
    id: str
    email: str
    role: str
    status: str  # stored: pending | accepted | deleted | expired
    invited_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    rbac_group_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Workspace:
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


@dataclass(slots=True)
class _ApiKey:
    id: str
    name: str
    workspace_id: str | None  # None -> organization scope
    created_at: datetime
    created_by: str | None
    status: str  # stored: active | inactive | archived | expired
    expires_at: datetime | None
    partial_key_hint: str | None


@dataclass(slots=True)
class _SpendLimit:
    id: str
    scope: dict[str, str]
    amount: str | None
    period: str
    created_at: datetime
    updated_at: datetime
    is_enabled: bool = True
    currency: str = "USD"


@dataclass(slots=True)
class _IncreaseRequest:
    id: str
    user_id: str
    period: str
    status: str
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: dict[str, Any] | None = None


@dataclass(slots=True)
class _CostRow:
    starting_at: datetime
    ending_at: datetime
    amount: Decimal
    list_amount: Decimal
    requests: int | None
    dims: dict[str, Any]


@dataclass(slots=True)
class _UsageRow:
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


@dataclass(slots=True)
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int | None
    headers: dict[str, str]
    error_type: str | None
    error_code: str | None
    delay: float
    times: int
    reset_connection: bool
    malformed_json: bool
    content_type: str | None


@dataclass(slots=True)
class _Req:
    """What a route handler sees."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any

    def one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def many(self, name: str) -> list[str] | None:
        """Array params arrive in brackets form (``roles[]=a&roles[]=b``); plain repeats are accepted too."""
        values = self.query.get(f"{name}[]", []) + self.query.get(name, [])
        return values or None

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.one(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _bad(f"{name}: expected an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise _bad(f"{name}: must be between {low} and {high}, got {value}")
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        raw = self.one(name)
        if raw is None:
            return default
        if raw.lower() in {"true", "1"}:
            return True
        if raw.lower() in {"false", "0"}:
            return False
        raise _bad(f"{name}: expected a boolean, got {raw!r}")

    def json_body(self) -> dict[str, Any]:
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise _bad("Request body must be a JSON object")
        return self.body

    def betas(self) -> set[str]:
        return {b.strip() for b in self.headers.get("anthropic-beta", "").split(",") if b.strip()}


def _parse_query_dt(req: _Req, name: str) -> datetime | None:
    raw = req.one(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise _bad(f"{name}: not an RFC 3339 datetime: {raw!r}") from None
    if value.tzinfo is None:
        raise _bad(f"{name}: must include a UTC offset (RFC 3339)")
    return value.astimezone(UTC)


# ------------------------------------------------------------------------------------------------ server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections are dropped after this
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):  # headers and body are two writes: avoid Nagle/delayed-ACK stalls
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()
        self.server.track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.standin._serve(self)

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    # -- low-level writers used by AnthropicStandIn._serve
    def write(self, status: int, payload: bytes, headers: dict[str, str], content_type: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def reset(self) -> None:
        """Abort the TCP connection with a RST and no response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, standin: AnthropicStandIn, port: int = 0) -> None:
        self.standin = standin
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conns_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def close_all(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
            self._conns.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients dropping connections is normal here


# -------------------------------------------------------------------------------------------- the stand-in

Route = tuple[str, re.Pattern[str], str]


def _routes(table: Iterable[tuple[str, str, str]]) -> list[Route]:
    return [(method, re.compile(f"/v1/organizations{path}"), handler) for method, path, handler in table]


_ID = r"(?P<{}>[^/]+)"
ROUTES = _routes(
    [
        ("GET", "/me", "_h_me"),
        ("GET", "/users", "_h_users_list"),
        ("GET", "/users/" + _ID.format("user_id"), "_h_user_get"),
        ("POST", "/users/" + _ID.format("user_id"), "_h_user_update"),
        ("DELETE", "/users/" + _ID.format("user_id"), "_h_user_remove"),
        ("GET", "/invites", "_h_invites_list"),
        ("POST", "/invites", "_h_invite_create"),
        ("GET", "/invites/" + _ID.format("invite_id"), "_h_invite_get"),
        ("DELETE", "/invites/" + _ID.format("invite_id"), "_h_invite_delete"),
        ("GET", "/workspaces", "_h_workspaces_list"),
        ("POST", "/workspaces", "_h_workspace_create"),
        ("GET", "/workspaces/" + _ID.format("workspace_id"), "_h_workspace_get"),
        ("POST", "/workspaces/" + _ID.format("workspace_id"), "_h_workspace_update"),
        ("POST", "/workspaces/" + _ID.format("workspace_id") + "/archive", "_h_workspace_archive"),
        ("GET", "/workspaces/" + _ID.format("workspace_id") + "/members", "_h_members_list"),
        ("POST", "/workspaces/" + _ID.format("workspace_id") + "/members", "_h_member_add"),
        (
            "GET",
            "/workspaces/{w}/members/{u}".format(w=_ID.format("workspace_id"), u=_ID.format("user_id")),
            "_h_member_get",
        ),
        (
            "POST",
            "/workspaces/{w}/members/{u}".format(w=_ID.format("workspace_id"), u=_ID.format("user_id")),
            "_h_member_update",
        ),
        (
            "DELETE",
            "/workspaces/{w}/members/{u}".format(w=_ID.format("workspace_id"), u=_ID.format("user_id")),
            "_h_member_remove",
        ),
        ("GET", "/api_keys", "_h_keys_list"),
        ("GET", "/api_keys/" + _ID.format("key_id"), "_h_key_get"),
        ("POST", "/api_keys/" + _ID.format("key_id"), "_h_key_update"),
        ("GET", "/spend_limits", "_h_spend_limits_list"),
        ("POST", "/spend_limits", "_h_spend_limit_set"),
        ("GET", "/spend_limits/effective", "_h_effective_list"),
        ("GET", "/spend_limits/" + _ID.format("limit_id"), "_h_spend_limit_get"),
        ("DELETE", "/spend_limits/" + _ID.format("limit_id"), "_h_spend_limit_delete"),
        ("GET", "/spend_limit_increase_requests", "_h_increase_list"),
        ("GET", "/spend_limit_increase_requests/" + _ID.format("req_id"), "_h_increase_get"),
        ("POST", "/spend_limit_increase_requests/" + _ID.format("req_id") + "/approve", "_h_increase_approve"),
        ("POST", "/spend_limit_increase_requests/" + _ID.format("req_id") + "/deny", "_h_increase_deny"),
        ("GET", "/analytics/cost", "_h_analytics_cost"),
        ("GET", "/analytics/usage", "_h_analytics_usage"),
    ]
)


class AnthropicStandIn:
    """Stateful Admin API stand-in. See the module docstring for the behaviour it implements."""

    def __init__(self, *, admin_key: str = DEFAULT_ADMIN_KEY, latency: float = 0.0, port: int = 0) -> None:
        self.admin_key = admin_key
        self._port = port
        self.latency = latency  # seconds slept (outside the lock) before every response; settable at runtime
        # organization-level knobs (settable at any time)
        self.org_id = "a1b2c3d4-0000-4000-8000-5a7d1e000001"
        self.org_name = "Stand-in Org"
        self.org_type = "console"  # "console" | "enterprise"
        self.allowed_email_domains: set[str] | None = None  # None: any domain
        self.member_limit: int | None = None  # members + pending invites
        self.workspace_member_limit: int | None = None
        self.org_api_key_limit: int | None = None  # active keys, checked on reactivation
        self.workspace_api_key_limit: int | None = None
        self.spend_limit_writes_enabled = True
        self.usage_tier_amount: str | None = "500000"
        self.currency = "USD"
        self.invite_ttl = timedelta(days=21)
        self.data_refreshed_at: datetime | None = None  # None: "now" on each analytics page
        self.admin_key_id = "apikey_01STANDINADMINKEY000000000"
        self.seeded: dict[str, dict[str, Any]] = {}
        self.created_at = datetime(2025, 6, 1, tzinfo=UTC)

        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self._req_seq = itertools.count(1)
        self._requests: deque[AdminRequest] = deque(maxlen=200_000)
        self._faults: list[_Fault] = []
        self._users: dict[str, _User] = {}
        self._removed_users: dict[str, _User] = {}
        self._invites: dict[str, _Invite] = {}
        self._workspaces: dict[str, _Workspace] = {}
        self._members: dict[str, dict[str, str]] = {}  # workspace_id -> user_id -> role
        self._keys: dict[str, _ApiKey] = {}
        self._limits: dict[str, _SpendLimit] = {}
        self._increase: dict[str, _IncreaseRequest] = {}
        self._period_spend: dict[tuple[str, str], str] = {}
        self._costs: list[_CostRow] = []
        self._usage: list[_UsageRow] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> AnthropicStandIn:
        if self._server is not None:
            return self
        self._server = _Server(self, self._port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="anthropic-standin",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_all()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AnthropicStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("stand-in is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------------ request records

    @property
    def requests(self) -> list[AdminRequest]:
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def matching(self, method: str | None = None, path: str | re.Pattern[str] | None = None) -> list[AdminRequest]:
        """Recorded requests with this method and a path that fully matches ``path`` (a literal or regex)."""
        pattern = re.compile(path) if isinstance(path, str) else path
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (pattern is None or pattern.fullmatch(r.path) is not None)
        ]

    def count(self, method: str | None = None, path: str | re.Pattern[str] | None = None) -> int:
        return len(self.matching(method, path))

    def wait_for(
        self,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[AdminRequest], bool] | None = None,
    ) -> list[AdminRequest]:
        """Poll until at least ``count`` matching requests were recorded; TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.matching(method, path) if predicate is None or predicate(r)]
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"saw {len(found)}/{count} requests for {method} {path} within {timeout}s")
            time.sleep(0.01)

    # ------------------------------------------------------------------------- fault injection

    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: int | None = 429,
        headers: dict[str, str] | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
        delay: float = 0.0,
        times: int = 1,
        reset_connection: bool = False,
        malformed_json: bool = False,
        content_type: str | None = None,
    ) -> None:
        """Queue a fault for the next ``times`` requests whose method matches and path ``re.search``-es.

        ``status=None`` is a pass-through fault: sleep ``delay`` and then serve normally.
        ``malformed_json`` sends a truncated JSON body with ``status`` (use ``status=200`` for a "success").
        ``reset_connection`` aborts the TCP connection (RST) without any response.
        ``content_type`` overrides the response Content-Type (e.g. "text/html" for a proxy error page).
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    method=method.upper(),
                    pattern=re.compile(path_regex),
                    status=status,
                    headers=dict(headers or {}),
                    error_type=error_type,
                    error_code=error_code,
                    delay=delay,
                    times=times,
                    reset_connection=reset_connection,
                    malformed_json=malformed_json,
                    content_type=content_type,
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method in (method, "*") and fault.pattern.search(path):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------------------- dispatch

    def _serve(self, http: _Handler) -> None:
        split = urlsplit(http.path)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in http.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = http.rfile.read(length) if length else b""
        body: Any = None
        body_error = False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body, body_error = raw.decode("utf-8", "replace"), True
        method = http.command.upper()
        with self._lock:
            self._requests.append(AdminRequest(method, path, query, headers, body, time.time()))
            request_id = f"req_standin_{next(self._req_seq):010d}"
            fault = self._take_fault(method, path)
        extra = {"request-id": request_id}

        pause = self.latency + (fault.delay if fault else 0.0)
        if pause > 0:
            time.sleep(pause)
        if fault is not None and fault.reset_connection:
            http.reset()
            return
        if fault is not None and fault.status is not None:
            if fault.malformed_json:
                payload = b'{"type": "error", "error": {"type": "api_er'
            else:
                error_type = fault.error_type or STATUS_ERROR_TYPES.get(fault.status, "api_error")
                err = ApiError(fault.status, error_type, f"Injected fault ({fault.status})", fault.error_code)
                payload = self._error_payload(err, request_id)
            http.write(fault.status, payload, {**extra, **fault.headers}, fault.content_type)
            return

        status, payload = self._respond(method, path, query, headers, body, body_error, request_id)
        http.write(status, payload, extra)

    def _respond(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
        body_error: bool,
        request_id: str,
    ) -> tuple[int, bytes]:
        try:
            if headers.get("authorization") != f"Bearer {self.admin_key}":
                raise ApiError(401, "authentication_error", "invalid bearer token")
            if body_error:
                raise _bad("Request body is not valid JSON")
            handler, params = self._route(method, path)
            req = _Req(method, path, query, headers, body)
            with self._lock:
                result = handler(req, **params)
            return 200, json.dumps(result).encode()
        except ApiError as err:
            return err.status, self._error_payload(err, request_id)

    def _route(self, method: str, path: str) -> tuple[Callable[..., Any], dict[str, str]]:
        path_known = False
        for route_method, pattern, name in ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            path_known = True
            if route_method == method:
                return getattr(self, name), match.groupdict()
        if path_known:
            raise ApiError(405, "invalid_request_error", f"Method {method} not allowed for {path}")
        raise ApiError(404, "not_found_error", f"Unknown path: {path}")

    @staticmethod
    def _error_payload(err: ApiError, request_id: str) -> bytes:
        error: dict[str, Any] = {"type": err.error_type, "message": err.message}
        if err.error_code:
            error["details"] = {"error_code": err.error_code}
        return json.dumps({"type": "error", "error": error, "request_id": request_id}).encode()

    # ----------------------------------------------------------------------------- pagination

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_01{next(self._seq):024X}"

    @staticmethod
    def _id_page(
        req: _Req,
        records: list[Any],
        to_json: Callable[[Any], dict[str, Any]],
        key: Callable[[Any], str] = lambda r: r.id,
    ) -> dict[str, Any]:
        """ID-cursor envelope over ``records`` already sorted ascending by ``key``."""
        limit = req.integer("limit", 20, 1, 1000)
        after, before = req.one("after_id"), req.one("before_id")
        if after and before:
            raise _bad("after_id and before_id are mutually exclusive")
        if after:
            start = bisect.bisect_right(records, after, key=key)
            page = records[start : start + limit]
            has_more = start + limit < len(records)
        elif before:
            end = bisect.bisect_left(records, before, key=key)
            start = max(0, end - limit)
            page = records[start:end]
            has_more = start > 0
        else:
            page = records[:limit]
            has_more = len(records) > limit
        return {
            "data": [to_json(r) for r in page],
            "has_more": has_more,
            "first_id": key(page[0]) if page else None,
            "last_id": key(page[-1]) if page else None,
        }

    @staticmethod
    def _fingerprint(req: _Req) -> str:
        items = sorted((k, tuple(v)) for k, v in req.query.items() if k not in {"page", "limit"})
        return hashlib.sha256(repr((req.path, items)).encode()).hexdigest()[:12]

    def _cursor_slice(self, req: _Req, items: list[Any], limit: int) -> tuple[list[Any], str | None]:
        """Opaque-cursor slice: the cursor encodes an offset and a fingerprint of the other params."""
        offset = 0
        token = req.one("page")
        fingerprint = self._fingerprint(req)
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                offset, seen = int(decoded["o"]), decoded["f"]
            except (ValueError, KeyError, TypeError):
                raise _bad("page: invalid cursor") from None
            if seen != fingerprint or offset < 0:
                raise _bad("page: cursor does not belong to this query")
        page = items[offset : offset + limit]
        next_page = None
        if offset + limit < len(items):
            raw = json.dumps({"o": offset + limit, "f": fingerprint}).encode()
            next_page = base64.urlsafe_b64encode(raw).decode()
        return page, next_page

    # ------------------------------------------------------------------------ JSON renderers

    def _user_json(self, u: _User) -> dict[str, Any]:
        return {
            "id": u.id,
            "type": "user",
            "email": u.email,
            "name": u.name,
            "role": u.role,
            "added_at": _ts(u.added_at),
        }

    @staticmethod
    def _invite_status(inv: _Invite) -> str:
        if inv.status == "pending" and inv.expires_at <= _now():
            return "expired"
        return inv.status

    def _invite_json(self, inv: _Invite) -> dict[str, Any]:
        return {
            "id": inv.id,
            "type": "invite",
            "email": inv.email,
            "role": inv.role,
            "status": self._invite_status(inv),
            "invited_at": _ts(inv.invited_at),
            "expires_at": _ts(inv.expires_at),
            "accepted_at": _ts(inv.accepted_at),
            "rbac_group_ids": list(inv.rbac_group_ids),
        }

    def _workspace_json(self, w: _Workspace) -> dict[str, Any]:
        return {
            "id": w.id,
            "type": "workspace",
            "name": w.name,
            "created_at": _ts(w.created_at),
            "archived_at": _ts(w.archived_at),
            "display_color": w.display_color,
            "tags": dict(w.tags),
            "compartment_id": "compartment_" + w.id.removeprefix("wrkspc_"),
            "data_residency": dict(w.data_residency),
            "external_key_id": w.external_key_id,
            "user_profile_id": w.user_profile_id,
        }

    @staticmethod
    def _member_json(workspace_id: str, user_id: str, role: str) -> dict[str, Any]:
        return {"type": "workspace_member", "user_id": user_id, "workspace_id": workspace_id, "workspace_role": role}

    @staticmethod
    def _key_status(k: _ApiKey) -> str:
        if k.status == "active" and k.expires_at is not None and k.expires_at <= _now():
            return "expired"
        return k.status

    def _key_json(self, k: _ApiKey) -> dict[str, Any]:
        scope = {"type": "workspace", "workspace_id": k.workspace_id} if k.workspace_id else {"type": "organization"}
        return {
            "id": k.id,
            "type": "api_key",
            "name": k.name,
            "created_at": _ts(k.created_at),
            "created_by": {"id": k.created_by, "type": "user"} if k.created_by else None,
            "expires_at": _ts(k.expires_at),
            "partial_key_hint": k.partial_key_hint,
            "principal": {"type": "user_actor", "user_id": k.created_by} if k.created_by else None,
            "scope": scope,
            "status": self._key_status(k),
        }

    @staticmethod
    def _limit_json(s: _SpendLimit) -> dict[str, Any]:
        return {
            "id": s.id,
            "type": "spend_limit",
            "amount": s.amount,
            "currency": s.currency,
            "is_enabled": s.is_enabled,
            "period": s.period,
            "scope": dict(s.scope),
            "created_at": _ts(s.created_at),
            "updated_at": _ts(s.updated_at),
        }

    def _user_actor(self, user_id: str) -> dict[str, Any]:
        user = self._users.get(user_id)
        deleted = user is None
        user = user or self._removed_users.get(user_id)
        return {
            "type": "user_actor",
            "user_id": user_id,
            "deleted": deleted,
            "email_address": user.email if user else None,
            "name": user.name if user else None,
        }

    def _increase_json(self, r: _IncreaseRequest) -> dict[str, Any]:
        summary = None
        if r.status == "pending":
            rows = self._effective_rows(r.user_id, [r.period])
            summary = rows[0] if rows else None
        return {
            "id": r.id,
            "type": "spend_limit_increase_request",
            "actor": self._user_actor(r.user_id),
            "created_at": _ts(r.created_at),
            "period": r.period,
            "status": r.status,
            "resolved_at": _ts(r.resolved_at),
            "resolved_by": r.resolved_by,
            "spend_summary": summary,
        }

    # ------------------------------------------------------------------------ lookups

    def _get(self, table: dict[str, Any], ident: str, kind: str) -> Any:
        try:
            return table[ident]
        except KeyError:
            raise _not_found(kind, ident) from None

    def _user_by_email(self, email: str) -> _User | None:
        wanted = _norm_email(email)
        return next((u for u in self._users.values() if _norm_email(u.email) == wanted), None)

    # ==================================================================================== handlers
    # Each handler runs under the state lock and returns a JSON-ready object or raises ApiError.

    def _h_me(self, req: _Req) -> dict[str, Any]:
        return {"id": self.org_id, "name": self.org_name, "type": "organization"}

    # -- users

    def _h_users_list(self, req: _Req) -> dict[str, Any]:
        email, roles = req.one("email"), req.many("roles")
        if roles:
            unknown = set(roles) - FILTERABLE_ROLES[self.org_type]
            if unknown:
                raise _bad(f"roles: not valid for this organization: {sorted(unknown)}")
        records = [
            u
            for u in self._users.values()
            if (email is None or _norm_email(u.email) == _norm_email(email)) and (not roles or u.role in roles)
        ]
        return self._id_page(req, records, self._user_json)

    def _h_user_get(self, req: _Req, user_id: str) -> dict[str, Any]:
        return self._user_json(self._get(self._users, user_id, "User"))

    def _h_user_update(self, req: _Req, user_id: str) -> dict[str, Any]:
        user = self._get(self._users, user_id, "User")
        role = req.json_body().get("role")
        if role == "admin":
            raise _bad("role: the admin role cannot be assigned through the API")
        if role not in ASSIGNABLE_ROLES[self.org_type]:
            raise _bad(f"role: must be one of {sorted(ASSIGNABLE_ROLES[self.org_type])}, got {role!r}")
        user.role = role
        return self._user_json(user)

    def _h_user_remove(self, req: _Req, user_id: str) -> dict[str, Any]:
        self._get(self._users, user_id, "User")
        if len(self._users) == 1:
            raise _bad("Cannot remove the last member of the organization", "cannot_remove_last_member")
        self._removed_users[user_id] = self._users.pop(user_id)
        for members in self._members.values():
            members.pop(user_id, None)
        return {"id": user_id, "type": "user_deleted"}

    # -- invites

    def _h_invites_list(self, req: _Req) -> dict[str, Any]:
        email, roles, statuses = req.one("email"), req.many("roles"), req.many("statuses")
        if statuses and set(statuses) - INVITE_STATUSES:
            raise _bad(f"statuses: must be among {sorted(INVITE_STATUSES)}")
        wanted = set(statuses) if statuses else INVITE_STATUSES
        records = [
            inv
            for inv in self._invites.values()
            if self._invite_status(inv) in wanted
            and (email is None or _norm_email(inv.email) == _norm_email(email))
            and (not roles or inv.role in roles)
        ]
        return self._id_page(req, records, self._invite_json)

    def _h_invite_create(self, req: _Req) -> dict[str, Any]:
        body = req.json_body()
        email, role = body.get("email"), body.get("role")
        if not isinstance(email, str) or "@" not in email.strip():
            raise _bad("email: a valid email address is required")
        if role == "admin" or role not in ASSIGNABLE_ROLES[self.org_type]:
            raise _bad(f"role: must be one of {sorted(ASSIGNABLE_ROLES[self.org_type])}, got {role!r}")
        rbac = body.get("rbac_group_ids")
        if rbac and self.org_type != "enterprise":
            raise _bad("rbac_group_ids: only supported for Claude Enterprise organizations")
        email = email.strip()
        if self._user_by_email(email) is not None:
            raise _bad(f"{email} is already a member of this organization", "already_member")
        if any(
            _norm_email(i.email) == _norm_email(email) and self._invite_status(i) == "pending"
            for i in self._invites.values()
        ):
            raise _bad(f"An invite for {email} already exists", "invite_already_exists")
        domain = email.rsplit("@", 1)[1].casefold()
        if self.allowed_email_domains is not None and domain not in {d.casefold() for d in self.allowed_email_domains}:
            raise _bad(f"The email domain {domain} is not allowed", "email_domain_not_allowed")
        if self.member_limit is not None and self._seats_used() >= self.member_limit:
            raise _bad("The organization has reached its member limit", "org_member_limit_exceeded")
        return self._invite_json(self._store_invite(email, role=role, rbac_group_ids=list(rbac or [])))

    def _seats_used(self) -> int:
        pending = sum(1 for i in self._invites.values() if self._invite_status(i) == "pending")
        return len(self._users) + pending

    def _h_invite_get(self, req: _Req, invite_id: str) -> dict[str, Any]:
        inv = self._get(self._invites, invite_id, "Invite")
        if inv.status == "deleted":
            raise _not_found("Invite", invite_id)
        return self._invite_json(inv)

    def _h_invite_delete(self, req: _Req, invite_id: str) -> dict[str, Any]:
        inv = self._get(self._invites, invite_id, "Invite")
        if inv.status == "deleted":
            raise _not_found("Invite", invite_id)
        if self._invite_status(inv) != "pending":
            raise _bad(f"Only pending invites can be deleted (this one is {self._invite_status(inv)})")
        inv.status = "deleted"
        return {"id": invite_id, "type": "invite_deleted"}

    # -- workspaces

    def _h_workspaces_list(self, req: _Req) -> dict[str, Any]:
        ids = req.many("ids")
        if ids and len(ids) > 100:
            raise _bad("ids: at most 100 entries")
        include_archived = req.boolean("include_archived")
        req.boolean("include_default")  # validated; the stand-in has no default workspace
        wanted = set(ids) if ids else None
        records = [
            w
            for w in self._workspaces.values()
            if (include_archived or w.archived_at is None) and (wanted is None or w.id in wanted)
        ]
        return self._id_page(req, records, self._workspace_json)

    def _h_workspace_create(self, req: _Req) -> dict[str, Any]:
        body = req.json_body()
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 40:
            raise _bad("name: required, 1-40 characters")
        if body.get("inference_data_privacy") is not None:
            raise _bad("inference_data_privacy: an Admin API key can't set this field")
        tags = self._check_tags(body.get("tags") or {})
        ws = self._store_workspace(name)
        ws.tags = {k: v for k, v in tags.items() if v is not None}
        if body.get("display_color"):
            ws.display_color = body["display_color"]
        for attr in ("external_key_id", "user_profile_id"):
            if body.get(attr):
                setattr(ws, attr, body[attr])
        if body.get("data_residency"):
            ws.data_residency.update({k: v for k, v in body["data_residency"].items() if v is not None})
        return self._workspace_json(ws)

    @staticmethod
    def _check_tags(tags: Any) -> dict[str, Any]:
        if not isinstance(tags, dict):
            raise _bad("tags: must be an object")
        if any(str(k).lower().startswith("anthropic") for k in tags):
            raise _bad("tags: keys may not begin with 'anthropic'")
        return tags

    def _h_workspace_get(self, req: _Req, workspace_id: str) -> dict[str, Any]:
        return self._workspace_json(self._get(self._workspaces, workspace_id, "Workspace"))

    def _h_workspace_update(self, req: _Req, workspace_id: str) -> dict[str, Any]:
        ws = self._get(self._workspaces, workspace_id, "Workspace")
        if ws.archived_at is not None:
            raise _bad("Archived workspaces cannot be updated")
        body = req.json_body()
        if body.get("inference_data_privacy") is not None:
            raise _bad("inference_data_privacy: an Admin API key can't set this field")
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not name.strip() or len(name) > 40:
                raise _bad("name: 1-40 characters")
            ws.name = name
        if body.get("display_color"):
            ws.display_color = body["display_color"]
        for attr in ("external_key_id", "user_profile_id"):  # write-once
            value = body.get(attr)
            if value and getattr(ws, attr) not in (None, value):
                raise _bad(f"{attr}: is write-once and already set")
            if value:
                setattr(ws, attr, value)
        if body.get("tags") is not None:
            for k, v in self._check_tags(body["tags"]).items():
                if v is None:
                    ws.tags.pop(k, None)
                else:
                    ws.tags[k] = v
        if body.get("data_residency"):
            ws.data_residency.update({k: v for k, v in body["data_residency"].items() if v is not None})
        return self._workspace_json(ws)

    def _h_workspace_archive(self, req: _Req, workspace_id: str) -> dict[str, Any]:
        ws = self._get(self._workspaces, workspace_id, "Workspace")
        if ws.archived_at is None:
            ws.archived_at = _now()
            for key in self._keys.values():
                if key.workspace_id == workspace_id:
                    key.status = "archived"
        return self._workspace_json(ws)

    # -- workspace members

    def _workspace_for_members(self, workspace_id: str) -> dict[str, str]:
        self._get(self._workspaces, workspace_id, "Workspace")
        return self._members.setdefault(workspace_id, {})

    def _h_members_list(self, req: _Req, workspace_id: str) -> dict[str, Any]:
        members = self._workspace_for_members(workspace_id)
        records = sorted(members.items())
        return self._id_page(
            req, records, lambda item: self._member_json(workspace_id, item[0], item[1]), key=lambda item: item[0]
        )

    def _h_member_add(self, req: _Req, workspace_id: str) -> dict[str, Any]:
        members = self._workspace_for_members(workspace_id)
        body = req.json_body()
        user_id, role = body.get("user_id"), body.get("workspace_role")
        if self._workspaces[workspace_id].archived_at is not None:
            raise _bad("Cannot add members to an archived workspace")
        if role == "workspace_billing":
            raise _bad("workspace_role: workspace_billing cannot be granted through this endpoint")
        if role not in WORKSPACE_ROLES:
            raise _bad(f"workspace_role: invalid value {role!r}")
        if not isinstance(user_id, str) or user_id not in self._users:
            raise _not_found("User", str(user_id))
        if user_id in members:
            raise _bad(f"User {user_id} is already a member of workspace {workspace_id}")
        if self.workspace_member_limit is not None and len(members) >= self.workspace_member_limit:
            raise _bad("The workspace has reached its member limit", "workspace_member_limit_exceeded")
        members[user_id] = role
        return self._member_json(workspace_id, user_id, role)

    def _h_member_get(self, req: _Req, workspace_id: str, user_id: str) -> dict[str, Any]:
        members = self._workspace_for_members(workspace_id)
        if user_id not in members:
            raise _not_found("Workspace member", user_id)
        return self._member_json(workspace_id, user_id, members[user_id])

    def _h_member_update(self, req: _Req, workspace_id: str, user_id: str) -> dict[str, Any]:
        members = self._workspace_for_members(workspace_id)
        if user_id not in members:
            raise _not_found("Workspace member", user_id)
        role = req.json_body().get("workspace_role")
        if role not in WORKSPACE_ROLES:
            raise _bad(f"workspace_role: invalid value {role!r}")
        members[user_id] = role
        return self._member_json(workspace_id, user_id, role)

    def _h_member_remove(self, req: _Req, workspace_id: str, user_id: str) -> dict[str, Any]:
        members = self._workspace_for_members(workspace_id)
        if user_id not in members:
            raise _not_found("Workspace member", user_id)
        del members[user_id]
        return {"type": "workspace_member_deleted", "user_id": user_id, "workspace_id": workspace_id}

    # -- api keys

    def _h_keys_list(self, req: _Req) -> dict[str, Any]:
        status, workspace_id, creator = req.one("status"), req.one("workspace_id"), req.one("created_by_user_id")
        if status is not None and status not in KEY_STATUSES:
            raise _bad(f"status: must be one of {sorted(KEY_STATUSES)}")
        records = [
            k
            for k in self._keys.values()
            if (status is None or self._key_status(k) == status)
            and (workspace_id is None or k.workspace_id == workspace_id)
            and (creator is None or k.created_by == creator)
        ]
        return self._id_page(req, records, self._key_json)

    def _h_key_get(self, req: _Req, key_id: str) -> dict[str, Any]:
        return self._key_json(self._get(self._keys, key_id, "API key"))

    def _h_key_update(self, req: _Req, key_id: str) -> dict[str, Any]:
        key = self._get(self._keys, key_id, "API key")
        body = req.json_body()
        current = self._key_status(key)
        if current == "archived":
            raise _bad("Archived API keys cannot be modified")
        status = body.get("status")
        name = body.get("name", "unchanged")
        if not isinstance(name, str) or not name.strip() or len(name) > 500:
            raise _bad("name: must be a non-empty string")
        if status is not None:
            if status == "expired":
                raise _bad("status: 'expired' cannot be set")
            if status not in {"active", "inactive", "archived"}:
                raise _bad(f"status: invalid value {status!r}")
            if current == "expired" and status == "active":
                raise _bad("An expired API key cannot be reactivated")
            if status == "active" and current != "active":
                self._check_key_limits(key)
        if "name" in body:
            key.name = body["name"]
        if status is not None:
            key.status = status
        return self._key_json(key)

    def _check_key_limits(self, key: _ApiKey) -> None:
        active = [k for k in self._keys.values() if self._key_status(k) == "active"]
        if self.org_api_key_limit is not None and len(active) >= self.org_api_key_limit:
            raise _bad("The organization has reached its API key limit", "org_api_key_limit_exceeded")
        in_ws = sum(1 for k in active if k.workspace_id == key.workspace_id)
        if self.workspace_api_key_limit is not None and in_ws >= self.workspace_api_key_limit:
            raise _bad("The workspace has reached its API key limit", "workspace_api_key_limit_exceeded")

    # -- spend limits

    def _require_writes(self) -> None:
        if not self.spend_limit_writes_enabled:
            raise ApiError(
                403,
                "permission_error",
                "Spend limit management through the Admin API is not enabled for this organization",
                "spend_limits_admin_api_writes_not_enabled",
            )

    def _usage_tier_limit(self) -> _SpendLimit | None:
        if self.org_type != "console" or self.usage_tier_amount is None:
            return None
        return _SpendLimit(
            id="spl_01USAGETIER0000000000000000",
            scope={"type": "usage_tier"},
            amount=self.usage_tier_amount,
            period="monthly",
            created_at=self.created_at,
            updated_at=self.created_at,
            currency=self.currency,
        )

    def _all_limits(self) -> list[_SpendLimit]:
        tier = self._usage_tier_limit()
        return list(self._limits.values()) + ([tier] if tier else [])

    def _h_spend_limits_list(self, req: _Req) -> dict[str, Any]:
        if SPEND_LIMIT_READS_BETA not in req.betas():
            raise _bad(f"This endpoint requires the anthropic-beta header {SPEND_LIMIT_READS_BETA}")
        limit = req.integer("limit", 20, 1, 1000)
        scope_types, workspace_id = req.many("scope_type"), req.one("workspace_id")
        allowed = SPEND_SCOPE_TYPES[self.org_type]
        if scope_types and set(scope_types) - set(allowed):
            raise _bad(f"scope_type: not applicable to this organization: {sorted(set(scope_types) - set(allowed))}")
        if workspace_id is not None and self.org_type != "console":
            raise _bad("workspace_id: only supported for Console organizations")
        rows = [
            s
            for s in self._all_limits()
            if (not scope_types or s.scope["type"] in scope_types)
            and (workspace_id is None or s.scope.get("workspace_id") == workspace_id)
        ]
        if self.org_type == "console":
            rows.sort(key=lambda s: (s.created_at, s.id), reverse=True)
        else:
            order = {t: i for i, t in enumerate(allowed)}
            rows.sort(key=lambda s: (order.get(s.scope["type"], 99), s.id))
        page, next_page = self._cursor_slice(req, rows, limit)
        return {"data": [self._limit_json(s) for s in page], "next_page": next_page}

    def _find_limit(self, limit_id: str) -> _SpendLimit:
        tier = self._usage_tier_limit()
        if tier is not None and limit_id == tier.id:
            return tier
        return self._get(self._limits, limit_id, "Spend limit")

    def _h_spend_limit_get(self, req: _Req, limit_id: str) -> dict[str, Any]:
        self._require_writes()
        return self._limit_json(self._find_limit(limit_id))

    def _h_spend_limit_delete(self, req: _Req, limit_id: str) -> dict[str, Any]:
        self._require_writes()
        found = self._find_limit(limit_id)
        if found.scope["type"] == "usage_tier":
            raise _bad("The usage_tier spend limit cannot be deleted")
        del self._limits[limit_id]
        return {"id": limit_id, "type": "spend_limit_deleted"}

    def _h_spend_limit_set(self, req: _Req) -> dict[str, Any]:
        self._require_writes()
        body = req.json_body()
        if "amount" not in body or not isinstance(body.get("scope"), dict):
            raise _bad("amount and scope are required")
        amount, scope, period = body["amount"], body["scope"], body.get("period") or "monthly"
        scope_type = scope.get("type")
        settable = {"console": {"organization", "workspace"}, "enterprise": {"user"}}[self.org_type]
        if scope_type not in settable:
            raise _bad(f"scope.type {scope_type!r} cannot be set for this organization")
        if period not in PERIODS:
            raise _bad(f"period: must be one of {list(PERIODS)}")
        if amount is not None and (not isinstance(amount, str) or not amount.isdigit()):
            raise _bad("amount: must be a non-negative integer string in minor units, or null")
        if self.org_type == "console":
            if period != "monthly":
                raise _bad("period: Console spend limits are monthly")
            if amount is None:
                raise _bad("amount: Console spend limits always carry an amount")
        if scope_type == "workspace":
            self._get(self._workspaces, str(scope.get("workspace_id")), "Workspace")
            scope = {"type": "workspace", "workspace_id": scope["workspace_id"]}
        elif scope_type == "user":
            self._get(self._users, str(scope.get("user_id")), "User")
            scope = {"type": "user", "user_id": scope["user_id"]}
        else:
            scope = {"type": "organization"}
        return self._limit_json(self._upsert_limit(scope, amount, period))

    def _upsert_limit(
        self,
        scope: dict[str, str],
        amount: str | None,
        period: str,
        created_at: datetime | None = None,
        is_enabled: bool = True,
    ) -> _SpendLimit:
        for existing in self._limits.values():
            if existing.scope == scope and existing.period == period:
                existing.amount, existing.updated_at = amount, _now()
                return existing
        when = created_at or _now()
        limit = _SpendLimit(
            id=self._new_id("spl"),
            scope=dict(scope),
            amount=amount,
            period=period,
            created_at=when,
            updated_at=when,
            is_enabled=is_enabled,
            currency=self.currency,
        )
        self._limits[limit.id] = limit
        return limit

    # -- effective spend (Enterprise)

    def _period_start(self, period: str, now: datetime) -> datetime:
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if period == "daily":
            return day
        if period == "weekly":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    def _period_to_date(self, user_id: str, period: str) -> str:
        override = self._period_spend.get((user_id, period))
        if override is not None:
            return override
        start = self._period_start(period, _now())
        total = sum(
            (c.amount for c in self._costs if c.dims.get("actor_user_id") == user_id and c.starting_at >= start),
            Decimal(0),
        )
        return _dec_str(total.quantize(Decimal("0.001")))

    def _effective_rows(self, user_id: str, periods: Iterable[str]) -> list[dict[str, Any]]:
        rows = []
        for period in periods:
            source = next(
                (
                    s
                    for s in self._limits.values()
                    if s.period == period and s.scope == {"type": "user", "user_id": user_id}
                ),
                None,
            ) or next(
                (s for s in self._limits.values() if s.period == period and s.scope["type"] == "organization"),
                None,
            )
            if source is None:
                continue
            rows.append(
                {
                    "actor": self._user_actor(user_id),
                    "amount": source.amount,
                    "currency": source.currency,
                    "period": period,
                    "period_to_date_spend": self._period_to_date(user_id, period),
                    "scope": {"type": "user", "user_id": user_id},
                    "source": dict(source.scope),
                    "spend_limit_id": source.id,
                }
            )
        return rows

    def _h_effective_list(self, req: _Req) -> dict[str, Any]:
        if self.org_type != "enterprise":
            raise _bad(
                "Effective spend limits are only available to Claude Enterprise organizations",
                "organization_type_not_supported",
            )
        limit = req.integer("limit", 20, 1, 1000)
        periods, user_ids = req.many("period"), req.many("user_ids")
        if periods and set(periods) - set(PERIODS):
            raise _bad(f"period: must be among {list(PERIODS)}")
        if user_ids and len(user_ids) > 100:
            raise _bad("user_ids: at most 100 entries")
        wanted_periods = [p for p in PERIODS if not periods or p in periods]
        members = [u for u in sorted(self._users) if not user_ids or u in user_ids]
        grouped = [rows for rows in (self._effective_rows(u, wanted_periods) for u in members) if rows]
        page, next_page = self._cursor_slice(req, grouped, limit)
        return {"data": [row for rows in page for row in rows], "next_page": next_page}

    # -- increase requests

    def _h_increase_list(self, req: _Req) -> dict[str, Any]:
        limit = req.integer("limit", 20, 1, 1000)
        statuses, actor_ids = req.many("status"), req.many("actor_ids")
        if statuses and set(statuses) - INCREASE_STATUSES:
            raise _bad(f"status: must be among {sorted(INCREASE_STATUSES)}")
        rows = [
            r
            for r in self._increase.values()
            if r.user_id in self._users
            and (not statuses or r.status in statuses)
            and (not actor_ids or r.user_id in actor_ids)
        ]
        rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        page, next_page = self._cursor_slice(req, rows, limit)
        return {"data": [self._increase_json(r) for r in page], "next_page": next_page}

    def _h_increase_get(self, req: _Req, req_id: str) -> dict[str, Any]:
        return self._increase_json(self._get(self._increase, req_id, "Spend limit increase request"))

    def _resolver(self) -> dict[str, Any]:
        return {"type": "scoped_api_key_actor", "scoped_api_key_id": self.admin_key_id}

    def _h_increase_approve(self, req: _Req, req_id: str) -> dict[str, Any]:
        item = self._get(self._increase, req_id, "Spend limit increase request")
        body = req.json_body()
        amount, period = body.get("amount"), body.get("period") or item.period
        if not isinstance(amount, str) or not amount.isdigit():
            raise _bad("amount: required, a non-negative integer string in minor units")
        if period not in PERIODS:
            raise _bad(f"period: must be one of {list(PERIODS)}")
        if item.status != "pending":
            raise _bad(f"Only pending requests can be approved (this one is {item.status})")
        spend_limit = self._upsert_limit({"type": "user", "user_id": item.user_id}, amount, period)
        item.status, item.resolved_at, item.resolved_by = "approved", _now(), self._resolver()
        return {**self._increase_json(item), "spend_limit": self._limit_json(spend_limit)}

    def _h_increase_deny(self, req: _Req, req_id: str) -> dict[str, Any]:
        item = self._get(self._increase, req_id, "Spend limit increase request")
        if item.status == "approved":
            raise _bad("An approved request cannot be denied")
        if item.status == "pending":
            item.status, item.resolved_at, item.resolved_by = "denied", _now(), self._resolver()
        return self._increase_json(item)

    # -- analytics

    def _h_analytics_cost(self, req: _Req) -> dict[str, Any]:
        return self._analytics(req, kind="cost")

    def _h_analytics_usage(self, req: _Req) -> dict[str, Any]:
        return self._analytics(req, kind="usage")

    def _analytics(self, req: _Req, *, kind: str) -> dict[str, Any]:
        if ANALYTICS_BETA not in req.betas():
            raise _bad(f"This endpoint requires the anthropic-beta header {ANALYTICS_BETA}")
        dims_allowed = COST_DIMS if kind == "cost" else USAGE_DIMS
        order_allowed = COST_ORDER_BY if kind == "cost" else USAGE_ORDER_BY
        start = _parse_query_dt(req, "starting_at")
        if start is None:
            raise _bad("starting_at: required")
        end = _parse_query_dt(req, "ending_at")
        width_name = req.one("time_bucket_width")
        if width_name is not None and width_name not in BUCKET_WIDTHS:
            raise _bad(f"time_bucket_width: must be one of {sorted(BUCKET_WIDTHS)}")
        width = BUCKET_WIDTHS[width_name] if width_name else None
        if width is not None and end is None:
            raise _bad("ending_at: required when time_bucket_width is set")
        if start < ANALYTICS_FLOOR:
            raise _bad("starting_at: must be no earlier than 2026-01-01T00:00:00Z")
        end = end or min(_now(), start + timedelta(days=31))
        if end <= start:
            raise _bad("ending_at: must be after starting_at")
        max_range = timedelta(hours=24) if width_name == "1m" else timedelta(days=31)
        if end - start > max_range:
            raise _bad(f"The time range may span at most {max_range}")
        group_by = req.many("group_by") or []
        bad_dims = [d for d in group_by if d not in dims_allowed]
        if bad_dims:
            raise _bad(f"group_by: unknown dimension(s) {bad_dims}")
        if len(set(group_by)) != len(group_by):
            raise _bad("group_by: duplicate dimension")
        if len([d for d in group_by if d not in FANOUT_DIMS]) > 5:
            raise _bad("group_by: at most 5 dimensions")
        order_by = req.one("order_by") or ("amount" if kind == "cost" else "total_tokens")
        if order_by not in order_allowed:
            raise _bad(f"order_by: must be one of {sorted(order_allowed)}")
        if order_by == "time" and width is None:
            raise _bad("order_by=time requires time_bucket_width")
        order = req.one("order") or "desc"
        if order not in {"asc", "desc"}:
            raise _bad("order: must be asc or desc")
        limit = req.integer("limit", 20, 1, 1000)
        if req.boolean("exclude_deleted_users") and "actor" not in group_by:
            raise _bad("exclude_deleted_users requires grouping by actor")

        source: list[Any] = self._costs if kind == "cost" else self._usage
        rows = [r for r in source if start <= r.starting_at < end and self._row_matches(req, r)]
        if req.boolean("exclude_deleted_users"):
            rows = [r for r in rows if r.dims.get("actor_user_id") is None or r.dims["actor_user_id"] in self._users]
        buckets: dict[tuple[Any, ...], list[Any]] = {}
        for row in rows:
            bucket = self._bucket_start(row.starting_at, width_name) if width else None
            key = (bucket, tuple(self._dim_key(row, d) for d in group_by))
            buckets.setdefault(key, []).append(row)
        if not buckets and not group_by and width is None:
            buckets[(None, ())] = []
        out = []
        for (bucket, _), members in buckets.items():
            if bucket is None:
                lo, hi = self._bucket_start(start, "1h"), self._bucket_start(end, "1h")
            else:
                lo, hi = bucket, bucket + width  # type: ignore[operator]
            group = {d: self._dim_value(members[0], d) for d in group_by} if members else {}
            metrics = self._cost_metrics(members, group_by) if kind == "cost" else self._usage_metrics(members)
            item = {"starting_at": _ts(lo), "ending_at": _ts(hi), "group": group, kind: metrics}
            out.append(item)

        def metric(item: dict[str, Any]) -> Any:
            if order_by == "time":
                return item["starting_at"]
            value = item[kind][order_by]
            return Decimal(value) if kind == "cost" else (value or 0)

        out.sort(key=lambda i: (i["starting_at"], json.dumps(i["group"], sort_keys=True)))
        out.sort(key=metric, reverse=(order == "desc"))
        page, next_page = self._cursor_slice(req, out, limit)
        refreshed = self.data_refreshed_at or _now().replace(microsecond=0)
        return {
            "data": page,
            "has_more": next_page is not None,
            "next_page": next_page,
            "data_refreshed_at": _ts(refreshed),
        }

    def _row_matches(self, req: _Req, row: Any) -> bool:
        for param, dim in FILTER_DIMS.items():
            wanted = req.many(param)
            value = self._dim_key(row, dim)
            if dim == "inference_geo" and value is None:
                value = "not_available"
            if wanted and value not in wanted:
                return False
        api_key_ids = req.many("api_key_ids")
        if api_key_ids and (row.dims.get("api_key_id") or "") not in api_key_ids:
            return False
        actor_ids = req.many("actor_ids")
        return not (actor_ids and self._dim_key(row, "actor") not in actor_ids)

    @staticmethod
    def _bucket_start(when: datetime, width_name: str) -> datetime:
        if width_name == "1d":
            return when.replace(hour=0, minute=0, second=0, microsecond=0)
        if width_name == "1h":
            return when.replace(minute=0, second=0, microsecond=0)
        return when.replace(second=0, microsecond=0)

    @staticmethod
    def _dim_key(row: Any, dim: str) -> Any:
        dims = row.dims
        if dim == "actor":
            return dims.get("actor_user_id") or dims.get("api_key_id")
        if dim == "actor_type":
            if dims.get("actor_user_id"):
                return "user_actor"
            return "api_actor" if dims.get("api_key_id") else None
        return dims.get(dim)

    def _dim_value(self, row: Any, dim: str) -> Any:
        if dim == "actor":
            if row.dims.get("actor_user_id"):
                return self._user_actor(row.dims["actor_user_id"])
            if row.dims.get("api_key_id"):
                return {"type": "api_actor", "api_key_id": row.dims["api_key_id"]}
            return None
        return self._dim_key(row, dim)

    @staticmethod
    def _cost_metrics(rows: list[_CostRow], group_by: list[str]) -> dict[str, Any]:
        amount = sum((r.amount for r in rows), Decimal(0))
        list_amount = sum((r.list_amount for r in rows), Decimal(0))
        requests = None if FANOUT_DIMS & set(group_by) else sum(r.requests or 0 for r in rows)
        return {
            "amount": _dec_str(amount),
            "list_amount": _dec_str(list_amount),
            "currency": "USD",
            "requests": requests,
        }

    @staticmethod
    def _usage_metrics(rows: list[_UsageRow]) -> dict[str, Any]:
        uncached = sum(r.uncached for r in rows)
        output = sum(r.output for r in rows)
        cache_read = sum(r.cache_read for r in rows)
        c5m, c1h = sum(r.cache_5m for r in rows), sum(r.cache_1h for r in rows)
        return {
            "uncached_input_tokens": uncached,
            "output_tokens": output,
            "cache_read_input_tokens": cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": c5m, "ephemeral_1h_input_tokens": c1h},
            "server_tool_use": {"web_search_requests": sum(r.web_search for r in rows)},
            "total_tokens": uncached + output + cache_read + c5m + c1h,
            "requests": sum(r.requests or 0 for r in rows),
        }

    # ==================================================================================== seeding
    # All helpers are thread-safe and return the JSON dict the API would serve.

    def _store_user(self, email: str, *, name: str | None, role: str, added_at: datetime | None) -> _User:
        if role not in ALL_ORG_ROLES:
            raise ValueError(f"unknown organization role {role!r}")
        if self._user_by_email(email) is not None:
            raise ValueError(f"a user with email {email} already exists")
        local = email.split("@", 1)[0]
        user = _User(
            id=self._new_id("user"),
            email=email,
            name=name if name is not None else local.replace(".", " ").title(),
            role=role,
            added_at=_dt(added_at, _now()),  # type: ignore[arg-type]
        )
        self._users[user.id] = user
        return user

    def _store_invite(
        self,
        email: str,
        *,
        role: str,
        status: str = "pending",
        invited_at: datetime | None = None,
        expires_at: datetime | None = None,
        rbac_group_ids: list[str] | None = None,
    ) -> _Invite:
        when = _dt(invited_at, _now())
        assert when is not None
        inv = _Invite(
            id=self._new_id("invite"),
            email=email,
            role=role,
            status=status,
            invited_at=when,
            expires_at=_dt(expires_at, when + self.invite_ttl),  # type: ignore[arg-type]
            accepted_at=when + timedelta(hours=1) if status == "accepted" else None,
            rbac_group_ids=rbac_group_ids or [],
        )
        self._invites[inv.id] = inv
        return inv

    def _store_workspace(self, name: str, *, created_at: datetime | None = None) -> _Workspace:
        ws = _Workspace(id=self._new_id("wrkspc"), name=name, created_at=_dt(created_at, _now()))  # type: ignore[arg-type]
        self._workspaces[ws.id] = ws
        self._members[ws.id] = {}
        return ws

    def add_user(
        self, email: str, *, name: str | None = None, role: str = "developer", added_at: datetime | str | None = None
    ) -> dict[str, Any]:
        with self._lock:
            return self._user_json(self._store_user(email, name=name, role=role, added_at=_dt(added_at)))

    def add_invite(
        self,
        email: str,
        *,
        role: str = "developer",
        status: str = "pending",
        invited_at: datetime | str | None = None,
        expires_at: datetime | str | None = None,
    ) -> dict[str, Any]:
        if status not in {"pending", "accepted", "expired", "deleted"}:
            raise ValueError(f"unknown invite status {status!r}")
        with self._lock:
            inv = self._store_invite(
                email, role=role, status=status, invited_at=_dt(invited_at), expires_at=_dt(expires_at)
            )
            return self._invite_json(inv)

    def accept_invite(self, invite_id: str) -> dict[str, Any]:
        """Simulate the invitee accepting: the invite turns ``accepted`` and a user appears."""
        with self._lock:
            inv = self._invites[invite_id]
            if self._invite_status(inv) != "pending":
                raise ValueError(f"invite {invite_id} is {self._invite_status(inv)}, not pending")
            user = self._store_user(inv.email, name=None, role=inv.role, added_at=None)
            inv.status, inv.accepted_at = "accepted", user.added_at
            return self._user_json(user)

    def add_workspace(
        self, name: str, *, archived: bool = False, created_at: datetime | str | None = None
    ) -> dict[str, Any]:
        with self._lock:
            ws = self._store_workspace(name, created_at=_dt(created_at))
            if archived:
                ws.archived_at = _now()
            return self._workspace_json(ws)

    def add_member(self, workspace_id: str, user_id: str, role: str = "workspace_developer") -> dict[str, Any]:
        if role not in WORKSPACE_ROLES:
            raise ValueError(f"unknown workspace role {role!r}")
        with self._lock:
            if workspace_id not in self._workspaces or user_id not in self._users:
                raise KeyError(f"unknown workspace {workspace_id} or user {user_id}")
            self._members[workspace_id][user_id] = role
            return self._member_json(workspace_id, user_id, role)

    def add_api_key(
        self,
        *,
        name: str,
        workspace_id: str | None,
        created_by_user_id: str | None = None,
        created_at: datetime | str | None = None,
        status: str = "active",
        expires_at: datetime | str | None = None,
        partial_key_hint: str | None = None,
    ) -> dict[str, Any]:
        """``workspace_id=None`` gives an organization-scoped key."""
        if status not in KEY_STATUSES:
            raise ValueError(f"unknown key status {status!r}")
        with self._lock:
            if workspace_id is not None and workspace_id not in self._workspaces:
                raise KeyError(f"unknown workspace {workspace_id}")
            key_id = self._new_id("apikey")
            key = _ApiKey(
                id=key_id,
                name=name,
                workspace_id=workspace_id,
                created_at=_dt(created_at, _now()),  # type: ignore[arg-type]
                created_by=created_by_user_id,
                status=status,
                expires_at=_dt(expires_at),
                partial_key_hint=partial_key_hint or f"sk-ant-api03-{key_id[-4:]}...AA",
            )
            self._keys[key_id] = key
            return self._key_json(key)

    @staticmethod
    def _row_dims(
        model: str | None,
        workspace_id: str | None,
        api_key_id: str | None,
        actor_user_id: str | None,
        dims: dict[str, Any] | None,
    ) -> dict[str, Any]:
        out = {"model": model, "workspace_id": workspace_id, "api_key_id": api_key_id, "actor_user_id": actor_user_id}
        out.update(dims or {})
        return out

    def add_cost(
        self,
        *,
        starting_at: datetime | str,
        ending_at: datetime | str,
        amount_cents: str,
        model: str | None = None,
        workspace_id: str | None = None,
        api_key_id: str | None = None,
        actor_user_id: str | None = None,
        token_type: str | None = None,
        list_amount_cents: str | None = None,
        requests: int | None = None,
        cost_type: str = "tokens",
        dims: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store one cost row. Amounts are decimal strings of (fractional) cents, e.g. "1234.567"."""
        try:
            amount = Decimal(amount_cents)
            list_amount = Decimal(list_amount_cents) if list_amount_cents is not None else amount
        except InvalidOperation:
            raise ValueError(f"amount must be a decimal string, got {amount_cents!r}") from None
        if not amount.is_finite() or not list_amount.is_finite():
            raise ValueError("amount must be finite")
        if token_type is not None and token_type not in TOKEN_TYPES:
            raise ValueError(f"unknown token_type {token_type!r}")
        row = _CostRow(
            starting_at=_dt(starting_at),
            ending_at=_dt(ending_at),  # type: ignore[arg-type]
            amount=amount,
            list_amount=list_amount,
            requests=requests,
            dims={
                **self._row_dims(model, workspace_id, api_key_id, actor_user_id, dims),
                "token_type": token_type,
                "cost_type": cost_type,
            },
        )
        with self._lock:
            self._costs.append(row)
            return self._seed_row_json(row, "cost")

    def add_usage(
        self,
        *,
        starting_at: datetime | str,
        ending_at: datetime | str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read: int = 0,
        model: str | None = None,
        workspace_id: str | None = None,
        api_key_id: str | None = None,
        actor_user_id: str | None = None,
        requests: int | None = None,
        cache_creation_5m: int = 0,
        cache_creation_1h: int = 0,
        web_search_requests: int = 0,
        dims: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store one usage row (``input_tokens`` are uncached input tokens)."""
        row = _UsageRow(
            starting_at=_dt(starting_at),
            ending_at=_dt(ending_at),  # type: ignore[arg-type]
            uncached=input_tokens,
            output=output_tokens,
            cache_read=cache_read,
            cache_5m=cache_creation_5m,
            cache_1h=cache_creation_1h,
            web_search=web_search_requests,
            requests=requests,
            dims=self._row_dims(model, workspace_id, api_key_id, actor_user_id, dims),
        )
        with self._lock:
            self._usage.append(row)
            return self._seed_row_json(row, "usage")

    def _seed_row_json(self, row: Any, kind: str) -> dict[str, Any]:
        dims = COST_DIMS if kind == "cost" else USAGE_DIMS
        group = {d: self._dim_value(row, d) for d in dims if self._dim_key(row, d) is not None}
        metrics = self._cost_metrics([row], []) if kind == "cost" else self._usage_metrics([row])
        return {"starting_at": _ts(row.starting_at), "ending_at": _ts(row.ending_at), "group": group, kind: metrics}

    def add_spend_limit(
        self,
        scope: dict[str, str] | str = "organization",
        *,
        amount: str | None = "50000",
        period: str = "monthly",
        created_at: datetime | str | None = None,
        is_enabled: bool = True,
    ) -> dict[str, Any]:
        """Seed any scope regardless of org type, e.g. ``{"type": "user", "user_id": ...}`` or "organization".

        Upserts on (scope, period) like the API.
        """
        scope = {"type": scope} if isinstance(scope, str) else dict(scope)
        if period not in PERIODS:
            raise ValueError(f"unknown period {period!r}")
        with self._lock:
            limit = self._upsert_limit(scope, amount, period, created_at=_dt(created_at), is_enabled=is_enabled)
            return self._limit_json(limit)

    def add_increase_request(
        self,
        user_id: str,
        *,
        period: str = "monthly",
        status: str = "pending",
        created_at: datetime | str | None = None,
    ) -> dict[str, Any]:
        if status not in INCREASE_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._lock:
            if user_id not in self._users:
                raise KeyError(f"unknown user {user_id}")
            when = _dt(created_at, _now())
            item = _IncreaseRequest(
                id=self._new_id("silr"), user_id=user_id, period=period, status=status, created_at=when
            )  # type: ignore[arg-type]
            if status != "pending":
                item.resolved_at, item.resolved_by = when, self._resolver()
            self._increase[item.id] = item
            return self._increase_json(item)

    def set_period_spend(self, user_id: str, amount: str, *, period: str = "monthly") -> None:
        """Override ``period_to_date_spend`` for a member (else it is summed from their cost rows)."""
        with self._lock:
            self._period_spend[(user_id, period)] = amount

    def seed_basic(self) -> dict[str, dict[str, Any]]:
        """The fixture's light seed: admin@example.com (admin), dev@example.com (developer), "default-ws"."""
        with self._lock:
            self.seeded = {
                "admin": self.add_user("admin@example.com", name="Ada Admin", role="admin"),
                "developer": self.add_user("dev@example.com", name="Dev Eloper", role="developer"),
                "workspace": self.add_workspace("default-ws"),
            }
            return self.seeded

    def seed_scale(self, n_users: int, n_workspaces: int, n_keys: int) -> dict[str, list[str]]:
        """Build a big org fast. User i joins workspace i % n_workspaces; key j belongs to workspace
        j % n_workspaces and user j % n_users; every 10th key is inactive, every 25th archived and every 7th
        expires in 30 days. Returns the new IDs."""
        base = _now().replace(microsecond=0) - timedelta(days=400)
        with self._lock:
            start = len(self._users)
            users = []
            for i in range(n_users):
                user = _User(
                    id=self._new_id("user"),
                    email=f"scale-user-{start + i:06d}@example.com",
                    name=f"Scale User {start + i}",
                    role="developer" if i % 20 else "user",
                    added_at=base + timedelta(minutes=i),
                )
                self._users[user.id] = user
                users.append(user.id)
            workspaces = [self._store_workspace(f"scale-ws-{i:04d}", created_at=base).id for i in range(n_workspaces)]
            if workspaces:
                for i, uid in enumerate(users):
                    self._members[workspaces[i % len(workspaces)]][uid] = "workspace_developer"
            keys = []
            soon = _now() + timedelta(days=30)
            for j in range(n_keys):
                key_id = self._new_id("apikey")
                status = "archived" if j % 25 == 0 else "inactive" if j % 10 == 0 else "active"
                self._keys[key_id] = _ApiKey(
                    id=key_id,
                    name=f"scale-key-{j:06d}",
                    workspace_id=workspaces[j % len(workspaces)] if workspaces else None,
                    created_at=base + timedelta(minutes=j),
                    created_by=users[j % len(users)] if users else None,
                    status=status,
                    expires_at=soon if j % 7 == 0 else None,
                    partial_key_hint=f"sk-ant-api03-{key_id[-4:]}...AA",
                )
                keys.append(key_id)
            return {"users": users, "workspaces": workspaces, "api_keys": keys}


# --------------------------------------------------------------------------------------------- fixture

if pytest is not None:

    @pytest.fixture
    def anthropic_standin() -> Iterator[AnthropicStandIn]:
        """A started stand-in with org "Stand-in Org", admin@example.com (admin), dev@example.com
        (developer) and workspace "default-ws" (``standin.seeded`` holds their JSON)."""
        standin = AnthropicStandIn()
        standin.seed_basic()
        with standin:
            yield standin


# ------------------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the Anthropic Admin API stand-in on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (see the READY line)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--admin-key", default=DEFAULT_ADMIN_KEY)
    parser.add_argument("--seed-scale", default=None, help="users,workspaces,keys e.g. 2000,100,20000")
    args = parser.parse_args(argv)
    standin = AnthropicStandIn(admin_key=args.admin_key, latency=args.latency, port=args.port)
    standin.seed_basic()
    if args.seed_scale:
        n_users, n_workspaces, n_keys = (int(x) for x in args.seed_scale.split(","))
        standin.seed_scale(n_users, n_workspaces, n_keys)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with standin:
        print(f"READY {standin.base_url}", flush=True)
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
