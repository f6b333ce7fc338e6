"""Value types of access requests: typed button and modal payloads, and what services hand the builders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from storage.models import AccessRequest, RequestState

S = RequestState
# States in which a request still counts as open: a second request for the same thing is refused.
OPEN_STATES = (S.PENDING, S.APPROVED, S.INVITED, S.GRANTED, S.FAILED)
# States in which a request still waits on someone (an admin, an invitee, a retry); a person may have at most
# MAX_OPEN_REQUESTS of them at once, so one person can't flood the admin channel.
WAITING_STATES = (S.PENDING, S.APPROVED, S.INVITED, S.FAILED)
MAX_OPEN_REQUESTS = 3
# Reasons are shown in full up to here; Slack's section text limit is 3,000 characters.
REASON_LIMIT = 1000

WORKSPACE_ROLES: dict[str, str] = {
    "workspace_developer": "Developer (can create API keys)",
    "workspace_restricted_developer": "Restricted developer",
    "workspace_user": "User (Console access, no keys)",
}

Which = Literal["mine", "pending"]


class RequestRef(BaseModel):
    """What a button or modal carries: only the id; state is re-read from the database."""

    r: int


class DenyMeta(RequestRef):
    """The deny modal's private_metadata: the request, and whether Deny was clicked on the App Home tab."""

    home: bool = False


class RequestFormMeta(BaseModel):
    """The request modal's private_metadata: where the command was typed, for the receipt."""

    channel: str | None = None
    home: bool = False  # opened from the App Home tab: the Home is re-published after the request is filed


@dataclass(frozen=True)
class RequesterContext:
    """What admins see about the requester, when the Admin API could tell."""

    org_role: str | None
    keys: list[tuple[str, str | None]] | None  # (name, partial hint); None: unknown
    month_to_date_usd: Decimal | None
    data_as_of: datetime | None


@dataclass(frozen=True)
class Filed:
    """A request just filed: where it was posted (`link`, None when the post or the permalink failed)."""

    request: AccessRequest
    link: str | None

    @property
    def posted(self) -> bool:
        """True when the admin channel has the request's message."""
        return bool(self.request.admin_message_ts)


@dataclass(frozen=True)
class Invited:
    """An admin's immediate invite."""

    email: str
    role: str
    expires_at: datetime
    tz: tzinfo = UTC


@dataclass(frozen=True)
class RequestList:
    """`requests mine` or `requests pending`: the requests, newest first, and their threads' links."""

    which: Which
    requests: list[AccessRequest]
    links: dict[int, str]


@dataclass(frozen=True)
class AuditExport:
    """An audit-log export sent to an admin's DM."""

    days: int
    rows: int


# What a grant did, step by step, for the thread reply.
@dataclass(frozen=True)
class RoleRaised:
    """The org role was raised to one that creates keys (the old role could not)."""

    from_role: str
    to_role: str = "developer"


@dataclass(frozen=True)
class AddedToWorkspace:
    """The requester became a member of the workspace."""

    workspace: str
    role: str


@dataclass(frozen=True)
class WorkspaceRoleChanged:
    """A lesser workspace role was upgraded to the requested one."""

    from_role: str
    to_role: str


@dataclass(frozen=True)
class AlreadyMember:
    """The requester already had an equal or better workspace role: left as it was."""

    role: str
    workspace: str


GrantStep = RoleRaised | AddedToWorkspace | WorkspaceRoleChanged | AlreadyMember


class GrantChanges(BaseModel):
    """What a grant changed at Anthropic (`access_request.grant_changes`): its expiry undoes this and only this.

    A later grant of the same person that relies on a change takes it over when this one ends (its record then
    holds the change, and `keys_since` moves back to the earlier grant's time).
    """

    org_role_from: str | None = None  # the org role raised to developer; None: the org role was not touched
    workspace_added: bool = False  # the grant created the workspace membership
    workspace_role_from: str | None = None  # the lesser workspace role it upgraded; None: not upgraded
    keys_since: datetime | None = None  # keys in the workspace by the person from here on were made under it

    @property
    def changed(self) -> bool:
        """True when the grant gave anything the person did not have."""
        return bool(self.org_role_from or self.workspace_added or self.workspace_role_from)


@dataclass(frozen=True)
class GrantKey:
    """A key the person created in the workspace under a grant."""

    id: str
    name: str
    hint: str | None
    active: bool


@dataclass(frozen=True)
class ExpiryPlan:
    """What ending a time-bound grant does, read from the Admin API now: the DM a day before, a dry run and the
    expiry itself show and do the same. `kept` are sentences about what stays and why."""

    keys: list[GrantKey]  # made under the grant; the active ones are deactivated
    remove_membership: bool
    workspace_role_to: str | None  # the workspace role put back
    org_role_to: str | None  # the org role put back
    handed: dict[int, GrantChanges]  # still-active requests of the same person that take over changes they need
    kept: list[str]

    @property
    def undoes_anything(self) -> bool:
        """True when the expiry changes something at Anthropic."""
        active = any(key.active for key in self.keys)
        return active or self.remove_membership or bool(self.workspace_role_to or self.org_role_to)
