"""The `housekeeping` job: the tables that only ever grow are pruned to `KEEP`.

`processed_event` (Slack retries arrive within minutes) and `job_run` (each job's latest run is kept for
`jobs list`) lose rows older than `KEEP`. The ledger (`job_ledger`) is kept whole: its rows are what stops a
notice from being sent twice, and nothing tells an old key apart from one a job may still look up.
"""

from __future__ import annotations

from datetime import timedelta

from bot.jobs.context import JobContext, JobResult
from storage import repositories as repo

KEEP = timedelta(days=30)


def housekeeping(ctx: JobContext) -> JobResult:
    """Delete `processed_event` and `job_run` rows older than `KEEP`; a dry run counts them and keeps them."""
    before = ctx.now - KEEP
    events = repo.prune_processed_events(session=ctx.session, before=before)
    runs = repo.prune_job_runs(session=ctx.session, before=before)
    verb = "would delete" if ctx.dry_run else "deleted"
    line = f"{verb} {events} processed_event and {runs} job_run rows older than {KEEP.days} days"
    if ctx.dry_run:
        ctx.out(line)
    return JobResult(notes=[line])
