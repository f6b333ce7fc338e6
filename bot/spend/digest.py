"""The `weekly-digest` job: last week's spend by workspace and model, the top 5 keys, week over week, and keys
due for rotation, and a Claude Code section (the week's UTC days, skipped without activity); posted once per
week (ledger key `digest:<monday>`), skipped at $0.

Weeks run Monday 00:00 to Monday 00:00 in TIMEZONE; "last week" is the one that ended before this run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from bot.anthropic_admin import AdminAPIError, ApiKey
from bot.core import periods
from bot.core.format import money
from bot.jobs.context import JobContext, JobResult
from bot.slack.reply import Reply
from bot.spend import analytics, blocks_claude_code, blocks_digest, claude_code
from bot.spend.model import ORG, Digest, KeyRef

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
        rows, as_of = analytics.cost_rows(
            deps, ORG, week_start, week_end, group_by=("workspace_id", "model"), use_cache=False, cache_end=True
        )
        total = sum((r.amount_usd for r in rows), Decimal(0))
        if total == 0:
            result.skipped += 1
            result.notes.append("no spend last week: digest skipped")
            return result
        by_key_rows, _ = analytics.cost_rows(
            deps, ORG, week_start, week_end, group_by=("api_key_id",), use_cache=False, cache_end=True
        )
        previous_rows, _ = (
            analytics.cost_rows(
                deps,
                ORG,
                max(previous_start, analytics.floor(ctx.now)),
                week_start,
                group_by=(),
                use_cache=False,
                cache_end=True,
            )
            if week_start > analytics.floor(ctx.now)
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
        # No id: an Enterprise org's analytics leave the Default Workspace's id out.
        name = workspaces.get(row.workspace_id, "an unlisted workspace") if row.workspace_id else "Default"
        by_workspace[name] = by_workspace.get(name, Decimal(0)) + row.amount_usd
        model = row.model or analytics.UNKNOWN_MODEL
        by_model[model] = by_model.get(model, Decimal(0)) + row.amount_usd
    by_key: dict[str | None, Decimal] = {}
    for row in by_key_rows:
        by_key[row.api_key_id] = by_key.get(row.api_key_id, Decimal(0)) + row.amount_usd
    top = sorted(by_key.items(), key=lambda item: -item[1])[:TOP_KEYS]
    digest = Digest(
        week_start=week_start,
        week_end=week_end,
        total=total,
        previous=sum((r.amount_usd for r in previous_rows), Decimal(0)),
        by_workspace=by_workspace,
        by_model=by_model,
        top_keys=[(_key_ref(keys.get(key_id or ""), key_id), amount) for key_id, amount in top],
        rotation_due=_rotation_due(keys.values(), ctx.now, deps.settings.key_max_age_days),
        data_as_of=as_of,
        tz=tz,
    )
    reply = _with_claude_code(ctx, blocks_digest.digest(digest), monday - timedelta(days=7), result)
    if ctx.dry_run:
        ctx.out(f"would post to {channel}: {reply.text}")
        result.sent += 1
        return result
    deps.notifier.post(channel, reply.text, reply.blocks)
    ctx.mark_done(key)
    result.sent += 1
    return result


def _with_claude_code(ctx: JobContext, reply: Reply, first_day: date, result: JobResult) -> Reply:
    """The digest with a Claude Code section before its "data as of" line; unchanged when the week had no
    Claude Code activity or the report is unavailable (the spend digest still goes out)."""
    try:
        section = claude_code.digest_section(ctx.deps, [first_day + timedelta(days=i) for i in range(7)])
    except AdminAPIError as exc:
        result.notes.append(f"Claude Code section left out: {exc.user_message}")
        return reply
    if section is None or not reply.blocks:
        return reply
    blocks = [*reply.blocks[:-1], *blocks_claude_code.digest_blocks(section), reply.blocks[-1]]
    return Reply(f"{reply.text} Claude Code: {money(section.total.cost, section.currency)} estimated.", blocks)


def _key_ref(key: ApiKey | None, key_id: str | None) -> KeyRef:
    if key is None:
        return KeyRef(key_id)
    return KeyRef(key_id, key.name, key.partial_key_hint)


def _rotation_due(keys: Iterable[ApiKey], now: datetime, max_age_days: int) -> list[tuple[KeyRef, int]]:
    """Active keys at or within a week of KEY_MAX_AGE_DAYS: (key, age in days)."""
    out: list[tuple[KeyRef, int]] = []
    for key in keys:
        if key.status != "active":
            continue
        age = now - key.created_at
        if age + ROTATION_WARNING >= timedelta(days=max_age_days):
            out.append((_key_ref(key, key.id), age.days))
    return out
