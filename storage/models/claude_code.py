"""Tables of finished UTC days of the Claude Code report (bot/spend/claude_code_store.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _ts() -> Column:
    return Column(UTCDateTime(), nullable=False)


class ClaudeCodeDayRead(SQLModel, table=True):
    """A finished UTC day of the Claude Code report, stored once (its actors in `claude_code_actor_day`): later
    answers in any process read it from here instead of the Admin API. Only days past the report's lag are
    stored (bot/spend/claude_code_store.py); the primary key makes a second writer's copy a no-op."""

    __tablename__ = "claude_code_day"

    day: date = Field(primary_key=True)
    actors: int = Field(default=0)
    read_at: datetime = Field(sa_column=_ts())


class ClaudeCodeActorDay(SQLModel, table=True):
    """One actor's sums on one finished UTC day: the same aggregates the answer uses. `actor` is the lower-cased
    email (kind "user") or the API key's name (kind "api_key"); `costs` is JSON `[[CURRENCY, model, "amount",
    uses], …]`, amounts exact Decimal strings in dollars."""

    __tablename__ = "claude_code_actor_day"

    day: date = Field(primary_key=True)
    actor_kind: str = Field(primary_key=True, max_length=16)
    actor: str = Field(primary_key=True, max_length=320)
    sessions: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    lines_added: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    lines_removed: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    commits: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    pull_requests: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    tool_accepted: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    tool_rejected: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    costs: str = Field(default="[]", sa_column=Column(Text, nullable=False))
