"""GET /me, users and invites."""

from __future__ import annotations

from typing import Any

from bot.sandbox.anthropic.convert import norm_email
from bot.sandbox.anthropic.errors import bad, not_found
from bot.sandbox.anthropic.paging import id_page
from bot.sandbox.anthropic.render import invite_json, invite_status, user_json
from bot.sandbox.anthropic.request import Req
from bot.sandbox.anthropic.state import AdminState
from bot.sandbox.anthropic.vocab import ASSIGNABLE_ROLES, FILTERABLE_ROLES, INVITE_STATUSES

# Each handler runs under the state lock and returns a JSON-ready object or raises ApiError.


def me(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /me: the organization."""
    return {"id": org.org_id, "name": org.org_name, "type": "organization"}


# -- users


def users_list(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /users, filtered by email and roles."""
    email, roles = req.one("email"), req.many("roles")
    if roles:
        unknown = set(roles) - FILTERABLE_ROLES[org.org_type]
        if unknown:
            raise bad(f"roles: not valid for this organization: {sorted(unknown)}")
    records = [
        u
        for u in org._users.values()
        if (email is None or norm_email(u.email) == norm_email(email)) and (not roles or u.role in roles)
    ]
    return id_page(req, records, user_json)


def user_get(org: AdminState, req: Req, user_id: str) -> dict[str, Any]:
    """GET /users/{user_id}."""
    return user_json(org._get(org._users, user_id, "User"))


def user_update(org: AdminState, req: Req, user_id: str) -> dict[str, Any]:
    """POST /users/{user_id}: change the role (never to admin)."""
    user = org._get(org._users, user_id, "User")
    role = req.json_body().get("role")
    if role == "admin":
        raise bad("role: the admin role cannot be assigned through the API")
    if role not in ASSIGNABLE_ROLES[org.org_type]:
        raise bad(f"role: must be one of {sorted(ASSIGNABLE_ROLES[org.org_type])}, got {role!r}")
    user.role = role
    return user_json(user)


def user_remove(org: AdminState, req: Req, user_id: str) -> dict[str, Any]:
    """DELETE /users/{user_id} (not the last member); drops their workspace memberships."""
    org._get(org._users, user_id, "User")
    if len(org._users) == 1:
        raise bad("Cannot remove the last member of the organization", "cannot_remove_last_member")
    org._removed_users[user_id] = org._users.pop(user_id)
    for members in org._members.values():
        members.pop(user_id, None)
    return {"id": user_id, "type": "user_deleted"}


# -- invites


def invites_list(org: AdminState, req: Req) -> dict[str, Any]:
    """GET /invites, filtered by email, roles and statuses."""
    email, roles, statuses = req.one("email"), req.many("roles"), req.many("statuses")
    if statuses and set(statuses) - INVITE_STATUSES:
        raise bad(f"statuses: must be among {sorted(INVITE_STATUSES)}")
    wanted = set(statuses) if statuses else INVITE_STATUSES
    records = [
        inv
        for inv in org._invites.values()
        if invite_status(inv) in wanted
        and (email is None or norm_email(inv.email) == norm_email(email))
        and (not roles or inv.role in roles)
    ]
    return id_page(req, records, invite_json)


def invite_create(org: AdminState, req: Req) -> dict[str, Any]:
    """POST /invites, within the member limit and the allowed email domains."""
    body = req.json_body()
    email, role = body.get("email"), body.get("role")
    if not isinstance(email, str) or "@" not in email.strip():
        raise bad("email: a valid email address is required")
    if role == "admin" or role not in ASSIGNABLE_ROLES[org.org_type]:
        raise bad(f"role: must be one of {sorted(ASSIGNABLE_ROLES[org.org_type])}, got {role!r}")
    rbac = body.get("rbac_group_ids")
    if rbac and org.org_type != "enterprise":
        raise bad("rbac_group_ids: only supported for Claude Enterprise organizations")
    email = email.strip()
    if org._user_by_email(email) is not None:
        raise bad(f"{email} is already a member of this organization", "already_member")
    if any(norm_email(i.email) == norm_email(email) and invite_status(i) == "pending" for i in org._invites.values()):
        raise bad(f"An invite for {email} already exists", "invite_already_exists")
    domain = email.rsplit("@", 1)[1].casefold()
    if org.allowed_email_domains is not None and domain not in {d.casefold() for d in org.allowed_email_domains}:
        raise bad(f"The email domain {domain} is not allowed", "email_domain_not_allowed")
    if org.member_limit is not None and seats_used(org) >= org.member_limit:
        raise bad("The organization has reached its member limit", "org_member_limit_exceeded")
    return invite_json(org._store_invite(email, role=role, rbac_group_ids=list(rbac or [])))


def seats_used(org: AdminState) -> int:
    """Members plus pending invites."""
    pending = sum(1 for i in org._invites.values() if invite_status(i) == "pending")
    return len(org._users) + pending


def invite_get(org: AdminState, req: Req, invite_id: str) -> dict[str, Any]:
    """GET /invites/{invite_id}."""
    inv = org._get(org._invites, invite_id, "Invite")
    if inv.status == "deleted":
        raise not_found("Invite", invite_id)
    return invite_json(inv)


def invite_delete(org: AdminState, req: Req, invite_id: str) -> dict[str, Any]:
    """DELETE /invites/{invite_id} (pending invites only)."""
    inv = org._get(org._invites, invite_id, "Invite")
    if inv.status == "deleted":
        raise not_found("Invite", invite_id)
    if invite_status(inv) != "pending":
        raise bad(f"Only pending invites can be deleted (this one is {invite_status(inv)})")
    inv.status = "deleted"
    return {"id": invite_id, "type": "invite_deleted"}
