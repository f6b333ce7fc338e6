"""The `housekeeping` job: the tables that only ever grow are pruned to `KEEP`.

`processed_event` (Slack retries arrive within minutes), `job_run` (each job's latest run is kept for
`jobs list`) and finished `work_item` rows (done or given up) lose rows older than `KEEP`. The ledger
(`job_ledger`) is kept whole: its rows are what stops a notice from being sent twice, and nothing tells an old
key apart from one a job may still look up.
"""

from __future__ import annotations

from datetime import timedelta

from bot.jobs.context import JobContext, JobResult
from storage import repositories as repo

KEEP = timedelta(days=30)


def housekeeping(ctx: JobContext) -> JobResult:
    """Delete `processed_event`, `job_run` and finished `work_item` rows older than `KEEP`; a dry run counts them
    and keeps them."""
    before = ctx.now - KEEP
    events = repo.prune_processed_events(session=ctx.session, before=before)
    runs = repo.prune_job_runs(session=ctx.session, before=before)
    work = repo.prune_work(session=ctx.session, before=before)
    verb = "would delete" if ctx.dry_run else "deleted"
    line = (
        f"{verb} {events} processed_event, {runs} job_run and {work} finished work_item rows older than "
        f"{KEEP.days} days"
    )
    if ctx.dry_run:
        ctx.out(line)
    return JobResult(notes=[line])
