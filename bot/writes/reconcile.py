"""The reconciler: intents still pending a few minutes after they were begun are checked against the API.

Each domain hands its jobs a `Check` per kind of write: it reads Anthropic's current state, records what the
interrupted write would have recorded when the change is in effect, and says what it found. Each finding is
one line in the admin channel (and a DM to whoever asked for the change).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.anthropic_admin import AdminAPIError
from bot.jobs.context import JobContext, JobResult
from bot.writes.intent import CHECK_AFTER_MINUTES
from storage import repositories as repo
from storage.models import AdminWrite, AdminWriteState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What a check found: `applied` (the change is in effect at Anthropic) and a sentence for the admins."""

    applied: bool
    found: str


# A check reads the API for one pending write (its decoded payload at hand) and, when the change is in effect,
# adds to `ctx.session` what the interrupted write would have recorded; it doesn't commit.
Check = Callable[[JobContext, AdminWrite, dict[str, Any]], Verdict]


def reconcile(ctx: JobContext, checks: Mapping[str, Check]) -> JobResult:
    """Check every stale pending intent of the kinds in `checks`; one admin line per finding."""
    result = JobResult()
    before = ctx.now - timedelta(minutes=CHECK_AFTER_MINUTES)
    writes = repo.pending_writes(session=ctx.session, kinds=list(checks), before=before)
    for write in writes:
        if ctx.dry_run:
            ctx.out(f"would check admin write #{write.id} ({write.kind} {write.target}) against the API")
            continue
        try:
            _one(ctx, checks[write.kind], write, result)
        except Exception as exc:  # one write's failure never stops the others; it stays pending for the next run
            ctx.item_failed(result, f"admin write #{write.id}", exc)
    return result


def _one(ctx: JobContext, check: Check, write: AdminWrite, result: JobResult) -> None:
    try:
        verdict = check(ctx, write, json.loads(write.payload or "{}"))
    except AdminAPIError as exc:
        ctx.session.rollback()
        result.errors.append(f"admin write #{write.id}: {exc.user_message}")
        return
    assert write.id is not None
    finished = repo.finish_write(
        session=ctx.session, write_id=write.id, to=AdminWriteState.RECONCILED, outcome=verdict.found, at=ctx.now
    )
    if not finished:  # completed meanwhile (a slow original call, or another run): nothing to add
        ctx.session.rollback()
        return
    ctx.session.commit()
    result.sent += 1
    result.notes.append(f"write #{write.id}: {'applied' if verdict.applied else 'not applied'}")
    _tell(ctx, write, verdict)


def _tell(ctx: JobContext, write: AdminWrite, verdict: Verdict) -> None:
    notifier, channel = ctx.deps.notifier, ctx.deps.settings.admin_channel_id
    asked = f" (asked by <@{write.actor_slack_id}>)" if write.actor_slack_id else ""
    line = f":mag: Checked a change whose outcome I hadn't recorded{asked}: {verdict.found}"
    for where, send in (
        ("admin channel", (lambda: notifier.post(channel, line)) if channel else None),
        ("DM", (lambda: notifier.dm(write.actor_slack_id or "", line)) if write.actor_slack_id else None),
    ):
        if send is None:
            continue
        try:
            send()
        except Exception as exc:  # recorded either way; only the telling is lost
            logger.warning("could not post a reconciled write to the %s: %s", where, type(exc).__name__)
