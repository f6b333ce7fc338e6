"""The `weekly-digest` job (DESIGN.md §5): last week's spend by workspace and model, the top 5 keys, week
over week, and keys due for rotation; posted once per week (ledger key `digest:<monday>`), skipped at $0.

Weeks run Monday 00:00 to Monday 00:00 in TIMEZONE; "last week" is the one that ended before this run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from bot.anthropic_admin import AdminAPIError, ApiKey
from bot.core import periods
from bot.jobs.context import JobContext, JobResult
from bot.services import usage
from bot.slack import budget_blocks

logger = logging.getLogger(__name__)

TOP_KEYS = 5
ROTATION_WARNING = timedelta(days=7)


def run_weekly_digest(ctx: JobContext) -> JobResult:
    """Post last week's digest to the alert channel, once."""
    result = JobResult()
    deps, tz = ctx.deps, ctx.deps.settings.tz
    channel = deps.settings.alert_channel
    today = ctx.now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    week_start = periods.local_midnight(monday - timedelta(days=7), tz)
    week_end = periods.local_midnight(monday, tz)
    previous_start = periods.local_midnight(monday - timedelta(days=14), tz)
    key = f"digest:{(monday - timedelta(days=7)).isoformat()}"
    if ctx.already_done(key):
        result.skipped += 1
        return result
    if channel is None:
        result.errors.append("no ALERT_CHANNEL_ID or ADMIN_CHANNEL_ID")
        return result
    try:
        rows, as_of = usage.cost_rows(
            deps, usage.ORG, week_start, week_end, group_by=("workspace_id", "model"), use_cache=False, cache_end=True
        )
        total = sum((r.amount_usd for r in rows), Decimal(0))
        if total == 0:
            result.skipped += 1
            result.notes.append("no spend last week: digest skipped")
            return result
        by_key_rows, _ = usage.cost_rows(
            deps, usage.ORG, week_start, week_end, group_by=("api_key_id",), use_cache=False, cache_end=True
        )
        previous_rows, _ = (
            usage.cost_rows(
                deps,
                usage.ORG,
                max(previous_start, usage.ANALYTICS_FLOOR),
                week_start,
                group_by=(),
                use_cache=False,
                cache_end=True,
            )
            if week_start > usage.ANALYTICS_FLOOR
            else ([], None)
        )
        workspaces = {w.id: w.name for w in deps.admin.list_workspaces(include_archived=True)}
        keys = {k.id: k for k in deps.admin.iter_api_keys()}
    except AdminAPIError as exc:
        result.errors.append(f"digest: {exc.user_message}")
        return result

    by_workspace: dict[str, Decimal] = {}
    by_model: dict[str, Decimal] = {}
    for row in rows:
        name = workspaces.get(row.workspace_id or "", row.workspace_id or "default workspace")
        by_workspace[name] = by_workspace.get(name, Decimal(0)) + row.amount_usd
        model = row.model or usage.UNKNOWN_MODEL
        by_model[model] = by_model.get(model, Decimal(0)) + row.amount_usd
    by_key: dict[str | None, Decimal] = {}
    for row in by_key_rows:
        by_key[row.api_key_id] = by_key.get(row.api_key_id, Decimal(0)) + row.amount_usd
    top = sorted(by_key.items(), key=lambda item: -item[1])[:TOP_KEYS]
    top_keys = [(_key_label(keys.get(key_id or ""), key_id), amount) for key_id, amount in top]
    previous = sum((r.amount_usd for r in previous_rows), Decimal(0))
    due = _rotation_due(keys.values(), ctx, deps.settings.key_max_age_days)

    text, blocks = budget_blocks.build_digest(
        week_start=week_start,
        week_end=week_end,
        total=total,
        previous=previous,
        by_workspace=by_workspace,
        by_model=by_model,
        top_keys=top_keys,
        rotation_due=due,
        data_as_of=as_of,
        tz=tz,
    )
    if ctx.dry_run:
        ctx.out(f"would post to {channel}: {text}")
        result.sent += 1
        return result
    deps.notifier.post(channel, text, blocks)
    ctx.mark_done(key)
    result.sent += 1
    return result


def _key_label(key: ApiKey | None, key_id: str | None) -> str:
    if key_id is None:
        return "no API key (Console, Claude Code)"
    if key is None:
        return f"`{key_id}`"
    hint = f" ({budget_blocks.escape(key.partial_key_hint)})" if key.partial_key_hint else ""
    return f"`{budget_blocks.escape(key.name)}`{hint}"


def _rotation_due(keys: object, ctx: JobContext, max_age_days: int) -> list[tuple[str, int]]:
    """Active keys at or within a week of KEY_MAX_AGE_DAYS, oldest first: (label, age in days)."""
    out: list[tuple[int, str]] = []
    for key in keys:  # type: ignore[attr-defined]
        if key.status != "active":
            continue
        age = ctx.now - key.created_at
        if age + ROTATION_WARNING >= timedelta(days=max_age_days):
            out.append((age.days, _key_label(key, key.id)))
    out.sort(reverse=True)
    return [(label, days) for days, label in out]
