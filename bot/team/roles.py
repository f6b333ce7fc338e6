"""`/claude-key role <@user | email> <role>`: an org role change, confirmed first, made through an intent row.

Only roles the org type accepts; `admin` (and the owner roles) never, since the API can't assign them; nobody
changes their own role; the last org admin the bot can see is never demoted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.access.writes import set_org_role
from bot.anthropic_admin import OrgUser
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, resolve_admin
from bot.slack.text import escape

logger = logging.getLogger(__name__)

ADMIN_ROLES = {"admin", "owner", "primary_owner"}
ONLY_ADMINS = "Only admins can change org roles."


@dataclass(frozen=True)
class RoleChange:
    """What the confirm names, and what the click makes."""

    email: str
    user_id: str
    old: str
    new: str


def _target(deps: Deps, email: str) -> OrgUser:
    member = deps.admin.find_user_by_email(email.strip().lower())
    if member is None:
        raise UserError(f"{escape(email)} is not a member of the Anthropic organization.")
    return member


def _check(deps: Deps, actor: Actor, member: OrgUser, new: str) -> str:
    if new in ADMIN_ROLES:
        raise UserError("The Admin API can't make anyone an admin; an org admin must do it in the Claude Console.")
    role = deps.admin.org_role_for(new)  # a role this org type lacks is refused in a sentence
    if actor.anthropic_user_id is not None and actor.anthropic_user_id == member.id:
        raise UserError("You can't change your own org role; ask another admin.")
    if member.role == role:
        raise UserError(f"{escape(member.email)} is already `{role}`; nothing to change.")
    if member.role in ADMIN_ROLES:
        admins = [u for u in deps.admin.list_users() if u.role in ADMIN_ROLES]
        if len(admins) <= 1:
            raise UserError(f"{escape(member.email)} is the organization's last admin I can see; I won't demote them.")
    return role


def propose(deps: Deps, *, slack_user_id: str, email: str, role: str) -> RoleChange:
    """The confirm step: who, from what, to what (nothing written)."""
    actor = resolve_admin(deps, slack_user_id, ONLY_ADMINS)
    member = _target(deps, email)
    new = _check(deps, actor, member, role.strip().lower())
    return RoleChange(member.email, member.id, member.role, new)


def change(deps: Deps, *, slack_user_id: str, proposed: RoleChange) -> RoleChange:
    """The confirm click: everything re-checked (the role may have changed since), one `users.update` through an
    intent row with its audit row, and a DM to the person (best effort)."""
    actor = resolve_admin(deps, slack_user_id, ONLY_ADMINS)
    member = _target(deps, proposed.email)
    if member.role != proposed.old:
        raise UserError(
            f"{escape(member.email)}'s role changed to `{member.role}` since you asked; run the command again."
        )
    new = _check(deps, actor, member, proposed.new)
    set_org_role(
        deps,
        member,
        new,
        actor_slack_id=actor.slack_user_id,
        actor_anthropic_id=actor.anthropic_user_id,
        why=f"/claude-key role by <@{actor.slack_user_id}>",
    )
    done = RoleChange(member.email, member.id, member.role, new)
    try:
        slack_id = deps.notifier.user_by_email(member.email)
        if slack_id:
            deps.notifier.dm(
                slack_id, f"<@{actor.slack_user_id}> changed your Anthropic org role from `{done.old}` to `{new}`."
            )
    except Exception as exc:  # the change stands; only the DM is lost
        logger.info("could not DM about a role change: %s", type(exc).__name__)
    return done
