"""What the leaver sweep finds and what its buttons carry (the case id only: everything is re-read on the click)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from bot.team.offboard import OffboardPlan


class LeaverRef(BaseModel):
    """The Offboard / Not a leaver buttons of a leaver proposal: the case's id."""

    c: int


@dataclass(frozen=True)
class Leaver:
    """A person deactivated in Slack who still has something offboarding would undo."""

    slack_user_id: str
    name: str | None
    plan: OffboardPlan


@dataclass(frozen=True)
class NoSlackMember:
    """An org member whose email no Slack account has."""

    email: str
    name: str
    role: str
