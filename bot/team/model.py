"""What the team buttons carry: only what names the change; everything is re-read and re-checked on the click."""

from __future__ import annotations

from pydantic import BaseModel

# A reason is kept to this many characters in the Offboard button (its value holds 2,000).
REASON_LIMIT = 500


class RoleRef(BaseModel):
    """The Change role button: whose email, from which role, to which."""

    e: str
    o: str
    n: str


class OffboardRef(BaseModel):
    """The Offboard button: whose email, and the reason typed."""

    e: str
    r: str = ""
