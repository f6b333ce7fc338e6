"""SQLModel tables. Every timestamp is timezone-aware UTC (`UTCDateTime`).

Migrations in `storage/migrations` are the source of truth for the schema; a test checks that
these models and the migrated schema agree. `core` holds the shared tables and helpers, `domains` the tables
of budgets, key hygiene and leavers, `claude_code` the stored finished days of the Claude Code report;
everything is imported from here.
"""

from storage.models.claude_code import ClaudeCodeActorDay, ClaudeCodeDayRead
from storage.models.core import (
    CLIPPED,
    AccessRequest,
    AdminWrite,
    AdminWriteState,
    AuditEvent,
    IdentityLink,
    JobLease,
    JobRun,
    LedgerEntry,
    ProcessedEvent,
    RequestKind,
    RequestState,
    SlackUser,
    WorkItem,
    WorkState,
    clip_to_columns,
)
from storage.models.domains import (
    Budget,
    KeyReport,
    KeyRotation,
    LeaverCase,
    LeaverState,
    RotationState,
    SpendLimitRequestPost,
    SpendRequestState,
)

__all__ = [
    "CLIPPED",
    "AccessRequest",
    "AdminWrite",
    "AdminWriteState",
    "AuditEvent",
    "Budget",
    "ClaudeCodeActorDay",
    "ClaudeCodeDayRead",
    "IdentityLink",
    "JobLease",
    "JobRun",
    "KeyReport",
    "KeyRotation",
    "LeaverCase",
    "LeaverState",
    "LedgerEntry",
    "ProcessedEvent",
    "RequestKind",
    "RequestState",
    "RotationState",
    "SlackUser",
    "SpendLimitRequestPost",
    "SpendRequestState",
    "WorkItem",
    "WorkState",
    "clip_to_columns",
]
