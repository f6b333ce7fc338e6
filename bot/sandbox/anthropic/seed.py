"""Seeding the organization: users, invites (and accepting them), workspaces, members, API keys, spend
limits and increase requests; ``seed_basic`` and ``seed_scale``. Each helper is thread-safe and returns the
JSON the API would serve."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.sandbox.anthropic.convert import as_utc, utcnow
from bot.sandbox.anthropic.increase_requests import increase_json, resolver
from bot.sandbox.anthropic.records import ApiKey, IncreaseRequest, User
from bot.sandbox.anthropic.render import invite_json, invite_status, key_json, member_json, user_json, workspace_json
from bot.sandbox.anthropic.spend_limits import limit_json, upsert_limit
from bot.sandbox.anthropic.state import AdminState
from bot.sandbox.anthropic.vocab import INCREASE_STATUSES, KEY_STATUSES, PERIODS, WORKSPACE_ROLES


class AdminSeed(AdminState):
    """The seeding half of the stand-in's public surface."""

    def add_user(
        self, email: str, *, name: str | None = None, role: str = "developer", added_at: datetime | str | None = None
    ) -> dict[str, Any]:
        """Add an organization member."""
        with self._lock:
            return user_json(self._store_user(email, name=name, role=role, added_at=as_utc(added_at)))

    def add_invite(
        self,
        email: str,
        *,
        role: str = "developer",
        status: str = "pending",
        invited_at: datetime | str | None = None,
        expires_at: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Add an invitation in any status."""
        if status not in {"pending", "accepted", "expired", "deleted"}:
            raise ValueError(f"unknown invite status {status!r}")
        with self._lock:
            inv = self._store_invite(
                email, role=role, status=status, invited_at=as_utc(invited_at), expires_at=as_utc(expires_at)
            )
            return invite_json(inv)

    def accept_invite(self, invite_id: str) -> dict[str, Any]:
        """Simulate the invitee accepting: the invite turns ``accepted`` and a user appears."""
        with self._lock:
            inv = self._invites[invite_id]
            if invite_status(inv) != "pending":
                raise ValueError(f"invite {invite_id} is {invite_status(inv)}, not pending")
            user = self._store_user(inv.email, name=None, role=inv.role, added_at=None)
            inv.status, inv.accepted_at = "accepted", user.added_at
            return user_json(user)

    def add_workspace(
        self, name: str, *, archived: bool = False, created_at: datetime | str | None = None
    ) -> dict[str, Any]:
        """Add a workspace (optionally already archived)."""
        with self._lock:
            ws = self._store_workspace(name, created_at=as_utc(created_at))
            if archived:
                ws.archived_at = utcnow()
            return workspace_json(ws)

    def add_member(self, workspace_id: str, user_id: str, role: str = "workspace_developer") -> dict[str, Any]:
        """Add a user to a workspace."""
        if role not in WORKSPACE_ROLES:
            raise ValueError(f"unknown workspace role {role!r}")
        with self._lock:
            if workspace_id not in self._workspaces or user_id not in self._users:
                raise KeyError(f"unknown workspace {workspace_id} or user {user_id}")
            self._members[workspace_id][user_id] = role
            return member_json(workspace_id, user_id, role)

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
            key = ApiKey(
                id=key_id,
                name=name,
                workspace_id=workspace_id,
                created_at=as_utc(created_at, utcnow()),
                created_by=created_by_user_id,
                status=status,
                expires_at=as_utc(expires_at),
                partial_key_hint=partial_key_hint or f"sk-ant-api03-{key_id[-4:]}...AA",
            )
            self._keys[key_id] = key
            return key_json(key)

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
            limit = upsert_limit(self, scope, amount, period, created_at=as_utc(created_at), is_enabled=is_enabled)
            return limit_json(limit)

    def add_increase_request(
        self,
        user_id: str,
        *,
        period: str = "monthly",
        status: str = "pending",
        created_at: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Add a spend limit increase request (resolved by the admin key unless pending)."""
        if status not in INCREASE_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._lock:
            if user_id not in self._users:
                raise KeyError(f"unknown user {user_id}")
            when = as_utc(created_at, utcnow())
            item = IncreaseRequest(
                id=self._new_id("silr"), user_id=user_id, period=period, status=status, created_at=when
            )
            if status != "pending":
                item.resolved_at, item.resolved_by = when, resolver(self)
            self._increase[item.id] = item
            return increase_json(self, item)

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
        base = utcnow().replace(microsecond=0) - timedelta(days=400)
        with self._lock:
            start = len(self._users)
            users = []
            for i in range(n_users):
                user = User(
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
            soon = utcnow() + timedelta(days=30)
            for j in range(n_keys):
                key_id = self._new_id("apikey")
                status = "archived" if j % 25 == 0 else "inactive" if j % 10 == 0 else "active"
                self._keys[key_id] = ApiKey(
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
