"""The organization the Admin API stand-in serves: its knobs and records, behind one lock, with the lookups
and stores the route handlers and the seeding helpers share."""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.sandbox.anthropic.convert import as_utc, norm_email, utcnow
from bot.sandbox.anthropic.errors import not_found
from bot.sandbox.anthropic.records import (
    ApiKey,
    CostRow,
    IncreaseRequest,
    Invite,
    SpendLimit,
    UsageRow,
    User,
    Workspace,
)
from bot.sandbox.anthropic.vocab import ALL_ORG_ROLES, DEFAULT_WORKSPACE_NAME


class AdminState:
    """What the stand-in knows; see :class:`bot.sandbox.anthropic.standin.AnthropicStandIn` for the public surface."""

    def __init__(self) -> None:
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
        self.clock_now: datetime | None = None  # "now" for the analytics 365-day window; None: the real time
        self.admin_key_id = "apikey_01STANDINADMINKEY000000000"
        self.seeded: dict[str, dict[str, Any]] = {}
        self.created_at = datetime(2025, 6, 1, tzinfo=UTC)

        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self._users: dict[str, User] = {}
        self._removed_users: dict[str, User] = {}
        self._invites: dict[str, Invite] = {}
        self._workspaces: dict[str, Workspace] = {}
        self._members: dict[str, dict[str, str]] = {}  # workspace_id -> user_id -> role
        self._keys: dict[str, ApiKey] = {}
        self._limits: dict[str, SpendLimit] = {}
        self._increase: dict[str, IncreaseRequest] = {}
        self._period_spend: dict[tuple[str, str], str] = {}
        self._costs: list[CostRow] = []
        self._usage: list[UsageRow] = []
        self._claude_code: dict[date, list[dict[str, Any]]] = {}  # Claude Code Analytics records per UTC day
        # Rate limits (bot/sandbox/anthropic/rate_limits.py): seeded on first use.
        self._rate_limit_entries: list[Any] | None = None
        # Recent analytics answers (buckets, and those ordered as asked), whose pages the next requests of the
        # same query are cut from, newest last; and the rows indexed by workspace and model, per kind.
        self._analytics_memo: OrderedDict[tuple[Any, ...], tuple[list[Any], dict[tuple[str, str], list[Any]]]] = (
            OrderedDict()
        )
        self._analytics_index: dict[str, tuple[list[Any], int, dict[str, dict[Any, list[Any]]]]] = {}
        # Every org has a Default Workspace with a real id; `workspaces.list` hides it unless include_default.
        self.default_workspace_id = "wrkspc_01" + "0" * 24  # sorts first, as the oldest workspace
        self._workspaces[self.default_workspace_id] = Workspace(
            id=self.default_workspace_id, name=DEFAULT_WORKSPACE_NAME, created_at=self.created_at, is_default=True
        )
        self._members[self.default_workspace_id] = {}

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_01{next(self._seq):024X}"

    def _get(self, table: dict[str, Any], ident: str, kind: str) -> Any:
        try:
            return table[ident]
        except KeyError:
            raise not_found(kind, ident) from None

    def _user_by_email(self, email: str) -> User | None:
        wanted = norm_email(email)
        return next((u for u in self._users.values() if norm_email(u.email) == wanted), None)

    def _store_user(self, email: str, *, name: str | None, role: str, added_at: datetime | None) -> User:
        if role not in ALL_ORG_ROLES:
            raise ValueError(f"unknown organization role {role!r}")
        if self._user_by_email(email) is not None:
            raise ValueError(f"a user with email {email} already exists")
        local = email.split("@", 1)[0]
        user = User(
            id=self._new_id("user"),
            email=email,
            name=name if name is not None else local.replace(".", " ").title(),
            role=role,
            added_at=as_utc(added_at, utcnow()),
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
    ) -> Invite:
        when = as_utc(invited_at, utcnow())
        assert when is not None
        inv = Invite(
            id=self._new_id("invite"),
            email=email,
            role=role,
            status=status,
            invited_at=when,
            expires_at=as_utc(expires_at, when + self.invite_ttl),
            accepted_at=when + timedelta(hours=1) if status == "accepted" else None,
            rbac_group_ids=rbac_group_ids or [],
        )
        self._invites[inv.id] = inv
        return inv

    def _store_workspace(self, name: str, *, created_at: datetime | None = None) -> Workspace:
        ws = Workspace(id=self._new_id("wrkspc"), name=name, created_at=as_utc(created_at, utcnow()))
        self._workspaces[ws.id] = ws
        self._members[ws.id] = {}
        return ws
