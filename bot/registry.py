"""The job registry: every scheduled job of the README's table, by name, with its function.

It imports the domains' job functions directly (no "module:function" strings), so it sits at the
composition root beside `app.py`: `bot.jobs` is the machinery below the domains, this is what uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.access import jobs as access_jobs
from bot.access.writes import CHECKS as ACCESS_WRITE_CHECKS
from bot.deps import Deps
from bot.directory import refresh_directory
from bot.jobs import runner
from bot.jobs.context import JobContext, JobResult
from bot.jobs.housekeeping import housekeeping
from bot.jobs.spec import JobSpec
from bot.keys.reminders import rotation_reminders
from bot.keys.rotation import adopt_rotation_keys
from bot.keys.stale import stale_keys
from bot.keys.writes import CHECKS as KEY_WRITE_CHECKS
from bot.spend.alerts import run_budget_alerts
from bot.spend.digest import run_weekly_digest
from bot.spend.headroom import run_rate_limit_headroom
from bot.spend.spend_limit_job import run_spend_limit_requests
from bot.team.leavers import leaver_sweep
from bot.writes import reconcile


def key_adoption(ctx: JobContext) -> JobResult:
    """Keys created by granted requesters fulfil their requests; replacement keys continue their rotations; key
    status changes whose outcome was never recorded are checked against the API."""
    result = access_jobs.key_adoption(ctx).absorb(adopt_rotation_keys(ctx))
    return result.absorb(reconcile(ctx, KEY_WRITE_CHECKS))


def invite_sync(ctx: JobContext) -> JobResult:
    """Invites, role and workspace changes whose outcome was never recorded are checked against the API first (so
    a resumed grant knows what it changed), then accepted invites continue their requests."""
    return reconcile(ctx, ACCESS_WRITE_CHECKS).absorb(access_jobs.invite_sync(ctx))


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "invite-sync",
            "accepted invites continue their requests",
            "every 15 min",
            {"trigger": "interval", "minutes": 15},
            invite_sync,
        ),
        JobSpec(
            "key-adoption",
            "keys created by granted requesters fulfil the request",
            "every 15 min",
            {"trigger": "interval", "minutes": 15},
            key_adoption,
        ),
        JobSpec(
            "rotation-reminders",
            "DM owners of keys due for rotation",
            "daily 09:00",
            {"trigger": "cron", "hour": 9, "minute": 0},
            rotation_reminders,
        ),
        JobSpec(
            "stale-keys",
            "report keys unused for KEY_STALE_DAYS",
            "Mondays 09:00",
            {"trigger": "cron", "day_of_week": "mon", "hour": 9, "minute": 0},
            stale_keys,
        ),
        JobSpec(
            "budget-alerts",
            "threshold, forecast and spike alerts",
            "every 15 min",
            {"trigger": "interval", "minutes": 15},
            run_budget_alerts,
        ),
        JobSpec(
            "weekly-digest",
            "spend by workspace and model, week over week",
            "Mondays 09:00",
            {"trigger": "cron", "day_of_week": "mon", "hour": 9, "minute": 0},
            run_weekly_digest,
        ),
        JobSpec(
            "request-nudges",
            "nudge, escalate and expire pending requests",
            "hourly",
            {"trigger": "interval", "hours": 1},
            access_jobs.request_nudges,
        ),
        JobSpec(
            "spend-limit-requests",
            "post new spend-limit increase requests",
            "every 5 min",
            {"trigger": "interval", "minutes": 5},
            run_spend_limit_requests,
        ),
        # rate limits
        JobSpec(
            "rate-limit-headroom",
            "busiest minute per workspace and model group vs its rate limit",
            "hourly",
            {"trigger": "interval", "hours": 1},
            run_rate_limit_headroom,
        ),
        JobSpec(
            "slack-directory",
            "store the Slack directory (users.list) for email lookups",
            "daily 05:00",
            {"trigger": "cron", "hour": 5, "minute": 0},
            refresh_directory,
        ),
        JobSpec(
            "leaver-sweep",
            "propose offboarding people deactivated in Slack; weekly list of members without Slack",
            "daily 08:00",
            {"trigger": "cron", "hour": 8, "minute": 0},
            leaver_sweep,
        ),
        JobSpec(
            "housekeeping",
            "prune processed_event, job_run and finished work_item rows older than 30 days",
            "daily 04:00",
            {"trigger": "cron", "hour": 4, "minute": 0},
            housekeeping,
        ),
    )
}


def run_job(
    name: str,
    deps: Deps,
    *,
    dry_run: bool = False,
    registry: Mapping[str, JobSpec] | None = None,
    holder: str | None = None,
    out: Callable[[str], None] = print,
) -> JobResult | None:
    """Run the job called `name` (from `registry`, by default every job here) under its lease."""
    return runner.run_job(
        name, deps, dry_run=dry_run, registry=JOBS if registry is None else registry, holder=holder, out=out
    )
