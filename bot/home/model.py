"""What the App Home shows, as data: the service fills it, `bot.home.blocks` renders it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.keys.model import KeyView


@dataclass(frozen=True)
class RequestItem:
    """An access request as Home lists it."""

    id: int
    state: str
    workspace: str | None
    created: datetime
    requester_slack_id: str | None = None
    #: What it asks for, as plain text (an Approve confirm dialog shows it), and who asks (their handle).
    what: str = ""
    requester_handle: str | None = None


@dataclass(frozen=True)
class AdminHome:
    """The admin section: counts first, a few oldest items each."""

    pending: int
    pending_oldest: Sequence[RequestItem]
    active_keys: int | None = None  # None: the key scan failed (see `problem`)
    overdue: int = 0
    overdue_oldest: Sequence[KeyView] = ()
    stale: int = 0
    stale_oldest: Sequence[KeyView] = ()
    leavers: int = 0
    leavers_oldest: Sequence[KeyView] = ()
    stale_days: int = 30
    as_of: datetime | None = None
    problem: str | None = None


@dataclass(frozen=True)
class HomeData:
    """Everything one user's Home shows; None / empty sections are left out or explained."""

    updated: datetime
    problem: str | None = None  # shown first (e.g. we couldn't tell who you are)
    member: bool = True
    keys: Sequence[KeyView] = ()
    keys_total: int = 0
    keys_problem: str | None = None
    requests: Sequence[RequestItem] = ()
    requests_total: int = 0
    usage_line: str | None = None
    admin: AdminHome | None = None
    console_url: str = "https://platform.claude.com"
    tz_name: str = "UTC"
    notes: list[str] = field(default_factory=list)
