"""What `/claude-key members` hands its builders (plain values: names and emails as the org typed them, never
mrkdwn), the typed payloads of its buttons, and the pure parse of its arguments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from bot.identity import BotRole

MEMBERS_PER_PAGE = 20  # one section per member (or two blocks per invite): well under Slack's 50 blocks
MembersFilter = Literal["all", "admins", "developers", "viewers", "workspace", "invites"]
# The filter words and the bot role each keeps.
ROLE_FILTERS: dict[str, BotRole] = {
    "admins": BotRole.ADMIN,
    "developers": BotRole.DEVELOPER,
    "viewers": BotRole.VIEWER,
}


def parse_members(args: Sequence[str]) -> tuple[MembersFilter, str | None] | None:
    """`[admins | developers | viewers | workspace <name> | invites]` → (filter, workspace name); None when
    malformed (the listener answers with the usage line)."""
    if not args:
        return "all", None
    word = args[0].lower()
    if word == "workspace":
        name = " ".join(args[1:]).strip()
        return ("workspace", name) if name else None
    if len(args) != 1:
        return None
    if word in ROLE_FILTERS:
        return word, None  # type: ignore[return-value]
    if word in ("invites", "all"):
        return word, None  # type: ignore[return-value]
    return None


# --------------------------------------------------------------------------------------------------
# Typed payloads carried by buttons: what names the page or the invite; everything is re-read on the click.
# --------------------------------------------------------------------------------------------------


class MembersPageRef(BaseModel):
    """A page of `/claude-key members`: which filter (the workspace by id), and which page."""

    f: MembersFilter = "all"
    w: str | None = None
    p: int = 0


class InviteRef(BaseModel):
    """One invite: its id and email (the email finds it again: the API lists invites by email; empty when it
    doesn't fit the button, and then every invite is listed)."""

    i: str
    e: str


# --------------------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    """One org member as the list shows them."""

    name: str
    email: str
    slack_id: str | None  # None: the stored Slack directory has nobody with this email
    org_role: str
    bot_role: BotRole
    workspaces: list[tuple[str, str]]  # (workspace name, workspace role)
    active_keys: int
    last_used: date | None  # the last day any of their active keys was used within the window
    usage_known: bool  # False: the analytics lookup failed (or was not made)


@dataclass(frozen=True)
class MemberPage:
    """A page of members for admins and billing viewers."""

    filter: MembersFilter
    workspace: str | None  # the workspace's name for the `workspace` filter
    views: list[MemberView]
    page: int
    pages: int
    total: int  # members the filter keeps
    counts: dict[BotRole, int]  # the whole org by bot role
    pending_invites: int | None  # None: the invite count could not be read
    nav: MembersPageRef
    read_at: datetime  # when the member list was read from the Admin API
    usage_as_of: datetime | None
    window_days: int
    directory_known: bool  # False: the slack-directory job has not stored Slack's people yet


@dataclass(frozen=True)
class AdminsOnly:
    """What everyone else is shown: who the admins are, so they know whom to ask."""

    admins: list[tuple[str, str | None]]  # (name or email, Slack id when the directory has them)


# --------------------------------------------------------------------------------------------------
# Invites
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteView:
    """A pending or expired invite."""

    id: str
    email: str
    role: str
    status: str  # "pending" | "expired"
    invited_at: datetime
    expires_at: datetime
    age_days: int
    can_reinvite: bool  # the role is one this org's API gives (an `admin` invite can only be re-sent in the Console)


@dataclass(frozen=True)
class InvitePage:
    """A page of invites; `actions` only for admins (billing viewers see the list without buttons)."""

    views: list[InviteView]
    page: int
    pages: int
    pending: int
    expired: int
    actions: bool
    nav: MembersPageRef
    read_at: datetime


@dataclass(frozen=True)
class InviteOutcome:
    """What a Withdraw or Re-invite click did."""

    email: str
    role: str
    withdrawn: bool  # the old invite was withdrawn now (False: it was expired, or already gone)
    new_expires_at: datetime | None = None  # set for a re-invite
    notes: list[str] = field(default_factory=list)  # what else happened (a linked request cancelled, …)
