"""What the key services hand the builders: plain values (names and emails as given, never mrkdwn), and the typed
payloads the key buttons carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

KEYS_PER_PAGE = 20  # one section per key: well under 50 blocks and Slack's ~13k characters of block text
LISTED_PER_MESSAGE = 20  # reminders, stale rows, digests
REASON_LIMIT = 500  # keeps a revoke button's value far below Slack's 2,000 characters

# --------------------------------------------------------------------------------------------------
# Typed payloads carried by buttons: ids only; everything else is re-read when the click arrives.
# --------------------------------------------------------------------------------------------------

KeyScope = Literal["mine", "all", "user"]


class KeysPageRef(BaseModel):
    """A page of `/claude-key keys`: whose keys, and which page."""

    s: KeyScope
    u: str | None = None
    p: int = 0


class KeyRef(BaseModel):
    """One API key."""

    k: str


class RevokeRef(BaseModel):
    """A confirmed revoke: the key and the reason given with the command."""

    k: str
    r: str = ""


KeyMenuChoice = Literal["rotate", "revoke", "check"]


class KeyMenuRef(BaseModel):
    """A choice in a key's overflow menu in `/claude-key keys` (an option value: at most 150 characters)."""

    a: KeyMenuChoice
    k: str


class StaleDmRef(BaseModel):
    """A key in an owner's stale-key DM, and the week of the report it belongs to."""

    k: str
    w: str


class RotationRef(BaseModel):
    """One rotation (a row of key_rotation)."""

    r: int


# --------------------------------------------------------------------------------------------------
# Keys and their people
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """A key's creator: no `user_id` when none was recorded, no `email` when they are no longer a member."""

    user_id: str | None
    email: str | None = None


@dataclass(frozen=True)
class KeyView:
    """A key as shown in Slack; dates are in the configured time zone."""

    id: str
    name: str
    hint: str | None
    workspace: str | None  # a workspace name, or None for an organization-scoped key
    status: str  # active | inactive | archived | expired (expired also when expires_at has passed)
    created: date
    age_days: int
    expires: date | None
    rotation_due: date
    days_to_rotation: int  # negative: overdue by that many days
    rotating: bool = False
    last_used: date | None = None
    usage_known: bool = False  # False: activity was not looked up or is unavailable
    owner: Owner | None = None  # shown in admins' lists only


@dataclass(frozen=True)
class Tally:
    """A count per label (workspace, owner) for summaries."""

    label: str
    count: int


# --------------------------------------------------------------------------------------------------
# keys, revoke
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyList:
    """One page of `/claude-key keys`; `person` is the email of the `@user` whose keys these are."""

    scope: KeyScope
    views: list[KeyView]
    page: int
    pages: int
    total: int  # keys shown over all pages (archived ones are not)
    archived_hidden: int
    nav: KeysPageRef
    activity_as_of: datetime | None
    activity_window_days: int
    console_url: str
    person: str | None = None


@dataclass(frozen=True)
class RevokeRequest:
    """The confirm step of a revoke."""

    key: KeyView
    reason: str


@dataclass(frozen=True)
class Revoked:
    """A key deactivated by `by` (a Slack user id); `admins_missed` when the admin channel couldn't be told."""

    key: KeyView
    by: str
    reason: str
    admins_missed: bool = False


# --------------------------------------------------------------------------------------------------
# rotate
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationSteps:
    """What the person rotating a key (or its owner) is told to do."""

    key: KeyView
    suggested_name: str
    console_url: str
    grace_hours: int
    for_owner: bool


@dataclass(frozen=True)
class RotationStarted:
    """The answer to `rotate`: a new rotation, or one already running since `running_since` (local time)."""

    steps: RotationSteps
    running_since: datetime | None = None
    owner_told: str | None = None  # the owner's Slack id, when they were sent the steps
    owner_unreachable: bool = False  # someone else's key whose owner has no reachable Slack account


@dataclass(frozen=True)
class Replacement:
    """A rotation whose new key was seen; `grace_until` is local time."""

    rotation_id: int
    old_key_id: str
    old_key_name: str
    new_key_id: str
    new_key_name: str
    grace_until: datetime


@dataclass(frozen=True)
class RotationDone:
    """How a rotation ended: the old key deactivated by a person (`by`) or after the grace period, or found off."""

    old_key_id: str
    how: Literal["by_person", "after_grace", "already_off"]
    by: str | None = None


# --------------------------------------------------------------------------------------------------
# rotation-reminders, stale-keys
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One reminder: a key, why (rotation due or expiry), and how many days are left (0: today)."""

    key: KeyView
    kind: Literal["rotation", "expiry"]
    days_left: int


@dataclass(frozen=True)
class StaleRow:
    """A key in the stale-key report: a leaver's key or a key without usage."""

    key: KeyView
    leaver: bool
    owner: Owner | None = None


@dataclass(frozen=True)
class StaleDeactivated:
    """A Deactivate click in the stale-key report; `status` is the key's status before it."""

    key_id: str
    name: str
    status: str
    by: str

    @property
    def deactivated(self) -> bool:
        """Whether this click turned the key off (it was active)."""
        return self.status == "active"


# --------------------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------------------

Severity = Literal["fail", "warn", "ok", "info"]
FindingKind = Literal[
    "archived",  # the key is archived
    "expired",  # `on`: the expiry date, if known
    "deactivated",  # `by`, `on`, `note`: from the revoke's audit row, if any
    "active",
    "expires_soon",  # `days`, `on`
    "rotation_overdue",  # `key_id`
    "workspace_archived",  # `name`, `on`
    "spend_limits_unreadable",
    "spend_limit_reached",  # `scope`, `spent`, `limit`, `currency`
    "spend_limit_near",  # `scope`, `spent`, `limit`, `currency`
    "spend_limit_other_currency",  # `scope`, `limit`, `currency`: a limit not in the reports' currency
    "rate_limit_hit",  # `name`: model group, `note`: limiter label, `at`, `used`, `cap`, `scope`, `override`
    "rate_limit_near",  # the same, at 80 % or more of the limit
    "lookup_failed",  # `name`: what could not be checked, `note`: why
    "how_to_send",  # nothing found: how to send the key
]


@dataclass(frozen=True)
class Finding:
    """One line of a `check` diagnosis: its kind and the facts its sentence needs (see FindingKind)."""

    severity: Severity
    kind: FindingKind
    key_id: str = ""
    name: str = ""
    note: str = ""
    by: str | None = None
    on: date | None = None
    at: datetime | None = None  # local time
    days: int = 0
    scope: Literal["workspace", "organization"] = "organization"
    spent: Decimal = Decimal(0)
    limit: Decimal = Decimal(0)
    currency: str = "USD"  # of `spent` and `limit` (the org's billing currency)
    used: int = 0  # rate limits: the busiest minute's count of what the limiter counts
    cap: int = 0  # rate limits: the enforced per-minute limit
    override: bool = False  # rate limits: the cap is the workspace's own override


@dataclass(frozen=True)
class Diagnosis:
    """The answer to `check`: the key, what was found, and how fresh the usage and cost data were."""

    key: KeyView
    findings: list[Finding] = field(default_factory=list)
    as_of: datetime | None = None
    console_url: str = ""


@dataclass(frozen=True)
class Snoozed:
    """A key's reminders paused by a Snooze click: until when, and by whom."""

    key: KeyView
    until: datetime
    by: str


@dataclass(frozen=True)
class StillInUse:
    """An owner's Still in use click on a stale-key DM; `admins_told`: the admin channel got the line."""

    key: KeyView
    by: str
    admins_told: bool
