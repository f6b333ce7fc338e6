"""Tasks of team management: org roles, offboarding, members and invites, leavers."""

from __future__ import annotations

import logging

from bot.deps import Deps
from bot.slack.reply import Reply

# rate limits
from bot.team import blocks as team_blocks
from bot.team import invites as team_invites
from bot.team import leavers, members, members_blocks, offboard, roles
from bot.team.members_model import AdminsOnly, MembersFilter
from bot.team.roles import RoleChange
from bot.team.target import email_of
from handlers.tasks.base import task

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------
# Team: org roles, offboarding, members and invites, leavers
# ----------------------------------------------------------------------------------------------------------


@task("team.role.propose")
def team_role_propose(deps: Deps, *, slack_user_id: str, target: str, role: str, usage: str) -> Reply:
    email = email_of(deps, target, usage)
    return team_blocks.role_confirm(roles.propose(deps, slack_user_id=slack_user_id, email=email, role=role))


@task("team.role.change")
def team_role_change(deps: Deps, *, slack_user_id: str, email: str, old: str, new: str) -> Reply:
    proposed = RoleChange(email=email, user_id="", old=old, new=new)
    return team_blocks.role_done(roles.change(deps, slack_user_id=slack_user_id, proposed=proposed))


@task("team.offboard.propose")
def team_offboard_propose(deps: Deps, *, slack_user_id: str, target: str, reason: str, usage: str) -> Reply:
    email = email_of(deps, target, usage)
    return team_blocks.offboard_confirm(
        offboard.propose_offboard(deps, slack_user_id=slack_user_id, email=email), reason
    )


@task("team.offboard.run")
def team_offboard_run(deps: Deps, *, slack_user_id: str, email: str, reason: str) -> Reply:
    done = offboard.run_offboard(deps, slack_user_id=slack_user_id, email=email, reason=reason)
    return team_blocks.offboard_done(done)


# ----------------------------------------------------------------------------------------------------------
# Members and invites (`/claude-key members`)
# ----------------------------------------------------------------------------------------------------------


@task("team.members.list")
def team_members_list(
    deps: Deps, *, slack_user_id: str, which: MembersFilter, workspace: str | None = None, page: int = 0
) -> Reply:
    tz = deps.settings.tz
    if which == "invites":
        invites = team_invites.list_invites(deps, slack_user_id=slack_user_id, page=page)
        if isinstance(invites, AdminsOnly):
            return members_blocks.admins_only_reply(invites)
        return members_blocks.invite_page_reply(invites, tz)
    listing = members.list_members(deps, slack_user_id=slack_user_id, which=which, workspace=workspace, page=page)
    if isinstance(listing, AdminsOnly):
        return members_blocks.admins_only_reply(listing)
    return members_blocks.member_page_reply(listing, tz)


@task("team.invite.withdraw")
def team_invite_withdraw(deps: Deps, *, slack_user_id: str, invite_id: str, email: str) -> Reply:
    done = team_invites.withdraw(deps, slack_user_id=slack_user_id, invite_id=invite_id, email=email)
    return members_blocks.withdrawn_reply(done)


@task("team.invite.reinvite")
def team_invite_reinvite(deps: Deps, *, slack_user_id: str, invite_id: str, email: str) -> Reply:
    done = team_invites.reinvite(deps, slack_user_id=slack_user_id, invite_id=invite_id, email=email)
    return members_blocks.reinvited_reply(done, deps.settings.tz)


# --- leaver-sweep ------------------------------------------------------------------------------------------------


@task("team.leaver.check")
def team_leaver_check(deps: Deps, *, slack_user_id: str) -> None:
    leavers.check_person(deps, slack_user_id=slack_user_id)


@task("team.leaver.offboard")
def team_leaver_offboard(deps: Deps, *, slack_user_id: str, case_id: int) -> Reply:
    return leavers.offboard_leaver(deps, slack_user_id=slack_user_id, case_id=case_id)


@task("team.leaver.not_a_leaver")
def team_leaver_not_a_leaver(deps: Deps, *, slack_user_id: str, case_id: int) -> Reply:
    return leavers.not_a_leaver(deps, slack_user_id=slack_user_id, case_id=case_id)
