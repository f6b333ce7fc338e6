"""`/claude-key members [admins | developers | viewers | workspace <name>]`: the org's people for admins and
billing viewers; everyone else is shown who the admins are.

The whole org is read in a fixed number of paged calls, never one per person: `users.list`, `workspaces.list`,
each workspace's member list (side by side on `deps.fanout`) and the active keys (`api_keys.list`), all in pages
of 1,000, kept for a couple of minutes so Previous/Next costs nothing more. Last use is one analytics call per
page shown (usage grouped by key, per day, for the page's active keys). Slack mentions come from the stored Slack
directory (`bot.directory`), not from one lookup per person.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from bot.anthropic_admin import AdminAPIError, OrgUser
from bot.core.errors import UserError
from bot.core.parallel import parallel
from bot.deps import Deps
from bot.identity import Actor, BotRole, bot_role, confirm_role, resolve_actor
from bot.keys.activity import LAST_USED_WINDOW_DAYS, last_used_dates
from bot.spend.analytics import find_workspace
from bot.team.members_model import (
    MEMBERS_PER_PAGE,
    ROLE_FILTERS,
    AdminsOnly,
    MemberPage,
    MembersFilter,
    MembersPageRef,
    MemberView,
)
from storage import repositories as repo
from storage.db import session_scope

logger = logging.getLogger(__name__)

ROSTER_TTL = timedelta(minutes=2)
# Key ids per analytics call (they travel in the query string).
KEY_IDS_PER_CALL = 100


@dataclass(frozen=True)
class Roster:
    """The org as the Admin API showed it at `read_at`."""

    users: list[OrgUser]
    memberships: dict[str, list[tuple[str, str, str]]]  # user id → [(workspace id, name, workspace role)]
    active_keys: dict[str, list[str]]  # user id → active key ids they created
    read_at: datetime


def may_see_members(actor: Actor) -> bool:
    """Admins and billing viewers see every member."""
    return actor.is_admin or actor.is_billing


def viewer(deps: Deps, slack_user_id: str) -> Actor:
    """The person asking; an admin or billing viewer with a role checked just now (others read the cache)."""
    actor = resolve_actor(deps, slack_user_id)
    return confirm_role(deps, actor) if may_see_members(actor) else actor


def roster(deps: Deps) -> Roster:
    """Users, workspace memberships and active keys, in pages of 1,000 (cached for ROSTER_TTL)."""

    def load() -> Roster:
        read_at = deps.clock()
        workspaces = deps.workspaces()
        calls: list[Callable[[], Any]] = [deps.admin.list_users, partial(deps.admin.list_api_keys, status="active")]
        calls += [partial(deps.admin.list_workspace_members, w.id) for w in workspaces]
        users, keys, *members = parallel(deps.fanout, *calls)
        memberships: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for workspace, listed in zip(workspaces, members, strict=True):
            for member in listed:
                memberships[member.user_id].append((workspace.id, workspace.name, member.workspace_role))
        active: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            if key.created_by_user_id:
                active[key.created_by_user_id].append(key.id)
        people = sorted(users, key=lambda u: ((u.name or u.email).casefold(), u.email.casefold()))
        return Roster(people, dict(memberships), dict(active), read_at)

    return deps.cache.get_or_load(("members-roster",), deps.clock(), load, ttl=ROSTER_TTL)


def _directory(deps: Deps, emails: list[str]) -> tuple[dict[str, str], bool]:
    with session_scope(deps.engine) as session:
        return repo.slack_ids_by_email(session=session, emails=emails), repo.directory_size(session=session) > 0


def _role_of(deps: Deps, user: OrgUser, slack_id: str | None) -> BotRole:
    return bot_role(user.role, slack_user_id=slack_id or "", extra_admins=deps.settings.admin_slack_user_ids)


def _last_used(deps: Deps, key_ids: list[str], now: datetime) -> tuple[dict[str, date] | None, datetime | None]:
    """The last day each key was used (None when analytics can't be read: the list still answers)."""
    last: dict[str, date] = {}
    as_of: list[datetime] = []
    try:
        for start in range(0, len(key_ids), KEY_IDS_PER_CALL):
            found, refreshed = last_used_dates(deps, key_ids[start : start + KEY_IDS_PER_CALL], now)
            last.update(found)
            if refreshed is not None:
                as_of.append(refreshed)
    except AdminAPIError as exc:
        logger.info("last-use lookup for the member list failed: %s", type(exc).__name__)
        return None, None
    return last, min(as_of, default=None)


def admins_only(deps: Deps, users: list[OrgUser]) -> AdminsOnly:
    """Who the admins are: org admins and ADMIN_SLACK_USER_IDS, names and Slack mentions only."""
    directory, _ = _directory(deps, [u.email for u in users])
    admins: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for user in sorted(users, key=lambda u: (u.name or u.email).casefold()):
        slack_id = directory.get(user.email.lower())
        if _role_of(deps, user, slack_id) is BotRole.ADMIN:
            admins.append((user.name, slack_id))
            seen.add(slack_id or "")
    for slack_id in deps.settings.admin_slack_user_ids:
        if slack_id not in seen:
            admins.append(("", slack_id))
    return AdminsOnly(admins)


def list_members(
    deps: Deps, *, slack_user_id: str, which: MembersFilter = "all", workspace: str | None = None, page: int = 0
) -> MemberPage | AdminsOnly:
    """A page of members (admins and billing viewers), or who the admins are (anyone else)."""
    actor = viewer(deps, slack_user_id)
    if not may_see_members(actor):
        return admins_only(deps, deps.admin.list_users())
    found = roster(deps)
    ws_id = ws_name = None
    if which == "workspace":
        chosen = find_workspace(deps, (workspace or "").strip())
        ws_id, ws_name = chosen.id, chosen.name
    elif which not in ("all", *ROLE_FILTERS):
        raise UserError("That isn't a member filter I know.")
    directory, directory_known = _directory(deps, [u.email for u in found.users])
    roles = {u.id: _role_of(deps, u, directory.get(u.email.lower())) for u in found.users}
    kept = found.users
    if which in ROLE_FILTERS:
        kept = [u for u in kept if roles[u.id] is ROLE_FILTERS[which]]
    elif ws_id is not None:
        kept = [u for u in kept if any(m[0] == ws_id for m in found.memberships.get(u.id, []))]
    pages = max(1, math.ceil(len(kept) / MEMBERS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = kept[page * MEMBERS_PER_PAGE : (page + 1) * MEMBERS_PER_PAGE]
    key_ids = [k for u in chunk for k in found.active_keys.get(u.id, [])]
    last, as_of = _last_used(deps, key_ids, deps.clock()) if key_ids else ({}, None)
    views = []
    for user in chunk:
        keys = found.active_keys.get(user.id, [])
        days = [last[k] for k in keys if last and k in last]
        views.append(
            MemberView(
                name=user.name,
                email=user.email,
                slack_id=directory.get(user.email.lower()),
                org_role=user.role,
                bot_role=roles[user.id],
                workspaces=[(name, role) for _, name, role in found.memberships.get(user.id, [])],
                active_keys=len(keys),
                last_used=max(days, default=None),
                usage_known=last is not None,
            )
        )
    return MemberPage(
        filter=which,
        workspace=ws_name,
        views=views,
        page=page,
        pages=pages,
        total=len(kept),
        counts=dict(Counter(roles.values())),
        pending_invites=_pending_invites(deps),
        nav=MembersPageRef(f=which, w=ws_id, p=page),
        read_at=found.read_at,
        usage_as_of=as_of,
        window_days=LAST_USED_WINDOW_DAYS,
        directory_known=directory_known,
    )


def _pending_invites(deps: Deps) -> int | None:
    try:
        return len(deps.admin.list_invites(statuses=["pending"]))
    except AdminAPIError as exc:  # a count at the top; the list still answers
        logger.info("pending invite count failed: %s", type(exc).__name__)
        return None
