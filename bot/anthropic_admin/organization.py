"""Calls about who is in the organization: the organization itself, its users, invites, workspaces and members."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from anthropic import omit

from bot.anthropic_admin import convert
from bot.anthropic_admin.errors import (
    AdminAPIError,
    BadRequest,
    Conflict,
    InviteAlreadyPending,
    NotFound,
    RoleNotAssignable,
)
from bot.anthropic_admin.org_type import OrgTypeCalls
from bot.anthropic_admin.transport import PAGE_SIZE
from bot.anthropic_admin.types import (
    ASSIGNABLE_ORG_ROLES,
    AssignableOrgRole,
    Invite,
    InviteFilterStatus,
    NoBillingWorkspaceRole,
    Organization,
    OrgRole,
    OrgUser,
    Workspace,
    WorkspaceMember,
    WorkspaceRole,
)


class OrganizationCalls(OrgTypeCalls):
    """The organization, its users and invites, its workspaces and their members."""

    # -- organization and users --------------------------------------------------------------------

    def get_organization(self) -> Organization:
        """The organization the admin key belongs to."""
        return convert.organization(self._call("organization.retrieve", self._org.retrieve))

    def find_user_by_email(self, email: str) -> OrgUser | None:
        """The org member with this email (case-insensitive), or None."""
        wanted = email.strip().casefold()
        for page in self._pages("users.list", lambda: self._org.users.list(email=email.strip(), limit=PAGE_SIZE)):
            for user in page.data:
                # Require an exact match: linking a Slack user to the wrong org user would hand out rights.
                if user.email.casefold() == wanted:
                    return convert.user(user)
        return None

    def get_user(self, user_id: str) -> OrgUser:
        """One org member by id."""
        return convert.user(self._call("users.retrieve", lambda: self._org.users.retrieve(user_id)))

    def list_users(self, roles: Sequence[OrgRole] | None = None) -> list[OrgUser]:
        """All org members, optionally only those with one of `roles`."""
        first = lambda: self._org.users.list(limit=PAGE_SIZE, roles=list(roles) if roles else omit)  # noqa: E731
        return [convert.user(u) for page in self._pages("users.list", first) for u in page.data]

    def update_user_role(self, user_id: str, role: OrgRole) -> OrgUser:
        """Change a member's org role; `admin`, owner roles and roles this org type lacks are refused locally."""
        assignable = self.org_role_for(_assignable_org_role(role))
        return convert.user(self._call("users.update", lambda: self._org.users.update(user_id, role=assignable)))

    def remove_user(self, user_id: str) -> None:
        """Remove a member from the org (their API keys are not touched; deactivate them separately)."""
        self._call("users.remove", lambda: _done(self._org.users.remove(user_id)), recover=_gone_after_retry)

    # -- invites -----------------------------------------------------------------------------------

    def create_invite(self, email: str, role: OrgRole | None = None) -> Invite:
        """Invite an email to the org (default: the role that creates keys); roles it can't give are refused."""
        assignable = self.key_creating_role() if role is None else self.org_role_for(_assignable_org_role(role))
        address = email.strip()

        # invites.create has no idempotency key. If an attempt created the invite but its answer was lost
        # (timeout, reset, 5xx after commit), our retry meets our own invite as `invite_already_exists`.
        # Only then (attempt > 0) the pending invite is looked up and returned, so the call is idempotent.
        # A first-attempt `invite_already_exists` is a real duplicate and is raised.
        def pending_invite(error: AdminAPIError) -> Invite | None:
            if not isinstance(error, InviteAlreadyPending):
                return None
            return next(iter(self.list_invites(email=address, statuses=("pending",))), None)

        return self._call(
            "invites.create",
            lambda: convert.invite(self._org.invites.create(email=address, role=assignable)),
            recover=pending_invite,
        )

    def list_invites(
        self, email: str | None = None, statuses: Sequence[InviteFilterStatus] | None = None
    ) -> list[Invite]:
        """Invites, optionally for one email and/or with the given statuses (default: all)."""
        first = lambda: self._org.invites.list(  # noqa: E731
            limit=PAGE_SIZE,
            email=email.strip() if email is not None else omit,
            statuses=list(statuses) if statuses else omit,
        )
        invites = [convert.invite(i) for page in self._pages("invites.list", first) for i in page.data]
        if email is not None:
            invites = [i for i in invites if i.email.casefold() == email.strip().casefold()]
        return invites

    def delete_invite(self, invite_id: str) -> None:
        """Withdraw a pending invite."""
        self._call("invites.delete", lambda: _done(self._org.invites.delete(invite_id)), recover=_gone_after_retry)

    # -- workspaces and members --------------------------------------------------------------------

    def list_workspaces(self, include_archived: bool = False) -> list[Workspace]:
        """All workspaces, the org's Default Workspace included, archived ones only if asked."""
        # Without include_default the API leaves the Default Workspace out, yet keys and analytics rows carry
        # its id: the bot would show a raw `wrkspc_` id and count its keys as organization-wide.
        first = lambda: self._org.workspaces.list(  # noqa: E731
            limit=PAGE_SIZE, include_archived=include_archived, include_default=True
        )
        return [convert.workspace(w) for page in self._pages("workspaces.list", first) for w in page.data]

    def get_workspace(self, workspace_id: str) -> Workspace:
        """One workspace by id."""
        return convert.workspace(self._call("workspaces.retrieve", lambda: self._org.workspaces.retrieve(workspace_id)))

    def list_workspace_members(self, workspace_id: str) -> list[WorkspaceMember]:
        """Every member of a workspace."""
        first = lambda: self._org.workspaces.members.list(workspace_id, limit=PAGE_SIZE)  # noqa: E731
        return [convert.member(m) for page in self._pages("workspaces.members.list", first) for m in page.data]

    def get_workspace_member(self, workspace_id: str, user_id: str) -> WorkspaceMember | None:
        """A user's membership of a workspace, or None if they aren't a member."""
        try:
            member = self._call(
                "workspaces.members.retrieve",
                lambda: self._org.workspaces.members.retrieve(user_id, workspace_id=workspace_id),
            )
        except NotFound:
            return None
        return convert.member(member)

    def add_workspace_member(
        self, workspace_id: str, user_id: str, role: WorkspaceRole = "workspace_developer"
    ) -> WorkspaceMember:
        """Add an org member to a workspace (`workspace_billing` can't be given on add)."""
        if role == "workspace_billing":
            raise RoleNotAssignable(
                "The workspace billing role can't be given when adding a member; add them first, then change it."
            )
        no_billing_role = cast(NoBillingWorkspaceRole, role)

        # No idempotency key: if the first add landed but its answer was lost, the retry is refused as a
        # duplicate. The membership is then read back and returned if it is the one we asked for.
        def already_added(error: AdminAPIError) -> WorkspaceMember | None:
            if not isinstance(error, (BadRequest, Conflict)):
                return None
            member = self.get_workspace_member(workspace_id, user_id)
            return member if member is not None and member.workspace_role == role else None

        return self._call(
            "workspaces.members.add",
            lambda: convert.member(
                self._org.workspaces.members.add(workspace_id, user_id=user_id, workspace_role=no_billing_role)
            ),
            recover=already_added,
        )

    def update_workspace_member(self, workspace_id: str, user_id: str, role: WorkspaceRole) -> WorkspaceMember:
        """Change a member's workspace role."""
        return convert.member(
            self._call(
                "workspaces.members.update",
                lambda: self._org.workspaces.members.update(user_id, workspace_id=workspace_id, workspace_role=role),
            )
        )

    def remove_workspace_member(self, workspace_id: str, user_id: str) -> None:
        """Remove a user from a workspace (they stay in the org)."""
        self._call(
            "workspaces.members.remove",
            lambda: _done(self._org.workspaces.members.remove(user_id, workspace_id=workspace_id)),
            recover=_gone_after_retry,
        )


def _done(_: object) -> bool:
    return True


def _gone_after_retry(error: AdminAPIError) -> bool | None:
    # A delete whose first answer was lost: the retry's 404 means the first attempt did the work.
    return True if isinstance(error, NotFound) else None


def _assignable_org_role(role: str) -> AssignableOrgRole:
    if role not in ASSIGNABLE_ORG_ROLES:
        raise RoleNotAssignable(
            f"The {role} role can't be given through the API; an org admin must do it in the Claude Console."
            if role in {"admin", "owner", "primary_owner", "membership_admin"}
            else "That isn't an organization role the bot can give."
        )
    return cast(AssignableOrgRole, role)
