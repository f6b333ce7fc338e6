"""Value types of an alert's drivers (what `bot/spend/drivers.py` computes and `blocks_drivers.py` renders),
and the Mark as planned button's payload.

Money is exact `Decimal` dollars. Labels are raw text as the Admin API gave them (typed by anyone with Console
access): the builders escape and clip them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel


class DriverKind(StrEnum):
    """The four dimensions an alert names its drivers in (all from one grouped cost call)."""

    KEY = "keys"
    MODEL = "models"
    WORKSPACE = "workspaces"
    PERSON = "people"


class Basis(StrEnum):
    """How drivers are ranked: a day's change in dollars against the trailing daily mean, or share of a period."""

    CHANGE = "change"
    SHARE = "share"


@dataclass(frozen=True)
class Driver:
    """One key, model, workspace or person and its figures.

    CHANGE: `amount` is the day's spend and `baseline` the trailing daily mean. SHARE: `amount` is the period's
    spend and `share` its fraction of the scope's total.
    """

    label: str
    amount: Decimal
    detail: str | None = None  # a key's partial hint, a person's email
    slack_user_id: str | None = None  # a person matched in the stored directory
    baseline: Decimal | None = None
    share: Decimal | None = None

    @property
    def change(self) -> Decimal:
        """The day's spend minus the trailing daily mean (CHANGE basis; the amount itself otherwise)."""
        return self.amount - (self.baseline or Decimal(0))


@dataclass(frozen=True)
class Drivers:
    """What drove an alert: up to `TOP` drivers per kind, ranked by `basis`."""

    basis: Basis
    total: Decimal  # the day's spend (CHANGE) or the period's (SHARE)
    by_kind: dict[DriverKind, tuple[Driver, ...]] = field(default_factory=dict)
    day: date | None = None  # CHANGE: the day compared
    baseline_days: int = 0  # CHANGE: how many days the mean is over (planned days left out)
    baseline_total: Decimal = Decimal(0)  # CHANGE: the scope's trailing daily mean
    data_as_of: datetime | None = None

    @property
    def empty(self) -> bool:
        """True when no dimension has a driver to name."""
        return not any(self.by_kind.values())


class PlannedPayload(BaseModel):
    """The Mark as planned button's value: which budget scope and which local day (ISO)."""

    s: str
    d: str


@dataclass(frozen=True)
class PlannedOutcome:
    """What a Mark as planned click did: `already` when someone had marked that day before."""

    scope_label: str  # plain text: "org" or "workspace <name>"
    day: date
    by_slack_id: str
    at: datetime
    already: bool
