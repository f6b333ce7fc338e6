"""The `rate-limit-headroom` job (hourly): each workspace's busiest minute of the last hour per model group against
its rate limits, and the org's as a whole; at or above RATE_LIMIT_ALERT_PERCENT one alert to ALERT_CHANNEL_ID per
(scope, model group, day), naming the keys that drove it and what to do.

The fewest calls: one usage report (1m buckets by workspace and model); nothing more when the hour was quiet; then
the org's limits and, per workspace that had usage, its overrides; and only when an alert is due, one report by key
for the alerting workspaces and a name lookup for the few keys it names. The ledger key (scope, group, local day)
makes a rerun, a restart or a second replica send each alert once; it is recorded after Slack accepted it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from bot.anthropic_admin import AdminAPIError, RateLimitGroup, UsageRow
from bot.anthropic_admin.rate_limit_rules import MEASURES, group_for_model
from bot.jobs.context import JobContext, JobResult
from bot.spend import analytics, blocks_limits
from bot.spend.limits import GroupLimits, HeadroomAlert, KeyShare, LimitLine, group_lines

logger = logging.getLogger(__name__)

JOB = "rate-limit-headroom"
WINDOW = timedelta(hours=1)
ORG_SCOPE = "org"
TOP_KEYS = 5


def run_rate_limit_headroom(ctx: JobContext) -> JobResult:
    """Alert once a day per (workspace, model group) whose busiest minute of the last hour reached the threshold."""
    result = JobResult()
    deps, now = ctx.deps, ctx.now
    channel = deps.settings.alert_channel
    if channel is None:
        result.errors.append("no ALERT_CHANNEL_ID or ADMIN_CHANNEL_ID")
        return result
    start = max(now - WINDOW, analytics.floor(now))
    report = deps.admin.usage_report(
        starting_at=start, ending_at=now, bucket_width="1m", group_by=["workspace_id", "model"]
    )
    if not report.rows:
        result.notes.append("no usage in the last hour")
        return result
    org_groups = deps.admin.list_rate_limits()
    day = now.astimezone(deps.settings.tz).date().isoformat()
    threshold = deps.settings.rate_limit_alert_percent / 100
    # (scope, rate-limit id) -> rows; the org scope sums every workspace's rows.
    scoped: dict[tuple[str, str], list[UsageRow]] = defaultdict(list)
    for row in report.rows:
        group = group_for_model(row.model, org_groups)
        if group is None:
            continue
        scoped[(ORG_SCOPE, group.rate_limit_id)].append(row)
        scoped[(row.workspace_id or ORG_SCOPE + ":default", group.rate_limit_id)].append(row)
    overrides: dict[str, dict[str, RateLimitGroup]] = {}
    due: list[tuple[str, str | None, RateLimitGroup, GroupLimits, list[UsageRow]]] = []
    for (scope, rate_limit_id), rows in sorted(scoped.items()):
        org_group = next(g for g in org_groups if g.rate_limit_id == rate_limit_id)
        workspace_id = None if scope.startswith(ORG_SCOPE) else scope
        if scope == ORG_SCOPE + ":default":
            continue  # key-less or unattributed usage: counted in the org's total only
        ws_group = None
        if workspace_id is not None:
            if workspace_id not in overrides:
                try:
                    overrides[workspace_id] = {
                        g.rate_limit_id: g for g in deps.admin.list_workspace_rate_limits(workspace_id)
                    }
                except AdminAPIError as exc:  # one workspace's failure never stops the others
                    ctx.item_failed(result, workspace_id, exc)
                    overrides[workspace_id] = {}
            ws_group = overrides[workspace_id].get(rate_limit_id)
        limits = group_lines(org_group, ws_group, rows)
        hot = tuple(line for line in limits.lines if line.share is not None and line.share >= threshold)
        if not hot:
            continue
        key = f"{scope}:{org_group.group_id}:{day}"
        if ctx.already_done(key):
            result.skipped += 1
            continue
        due.append((key, workspace_id, org_group, GroupLimits(limits.name, hot), rows))
    if not due:
        return result
    names = {w.id: w.name for w in deps.workspaces()}
    drivers = _drivers(ctx, due, start, now)
    for key, workspace_id, _, hot_group, _ in due:
        alert = HeadroomAlert(
            ledger_key=key,
            scope=names.get(workspace_id, workspace_id) if workspace_id else "the organization",
            workspace_id=workspace_id,
            group=hot_group,
            keys=drivers.get(key, ()),
            percent=deps.settings.rate_limit_alert_percent,
            as_of=report.data_refreshed_at,
        )
        message = blocks_limits.headroom_alert(alert, deps.settings.tz)
        if ctx.dry_run:
            ctx.out(f"would post to {channel}: {message.text}")
            result.sent += 1
            continue
        try:
            deps.notifier.post(channel, message.text, message.blocks)
        except Exception as exc:  # one alert's failure never stops the others; the next run tries again
            ctx.item_failed(result, key, exc)
            continue
        ctx.mark_done(key)
        result.sent += 1
    return result


def _drivers(
    ctx: JobContext,
    due: list[tuple[str, str | None, RateLimitGroup, GroupLimits, list[UsageRow]]],
    start: datetime,
    end: datetime,
) -> dict[str, tuple[KeyShare, ...]]:
    """The keys with the most use of each alert's hottest limiter in its busiest minute: one report by key."""
    deps = ctx.deps
    workspaces = sorted({ws for _, ws, _, _, _ in due if ws is not None})
    org_wide = any(ws is None for _, ws, _, _, _ in due)
    try:
        report = deps.admin.usage_report(
            starting_at=start,
            ending_at=end,
            bucket_width="1m",
            group_by=["workspace_id", "model", "api_key_id"],
            workspace_ids=None if org_wide else workspaces,
        )
    except AdminAPIError as exc:  # the alert still goes out, without the keys
        logger.warning("rate-limit-headroom: the keys behind the alerts are unknown: %s", type(exc).__name__)
        return {}
    out: dict[str, tuple[KeyShare, ...]] = {}
    names: dict[str, tuple[str | None, str | None]] = {}
    for key, workspace_id, org_group, group, _ in due:
        hottest: LimitLine = max(group.lines, key=lambda line: line.share or 0)
        measure = MEASURES.get(hottest.type)
        if measure is None or hottest.peak.at is None:
            continue
        per_key: dict[str, int] = defaultdict(int)
        for row in report.rows:
            if row.starting_at != hottest.peak.at or row.api_key_id is None:
                continue
            if workspace_id is not None and row.workspace_id != workspace_id:
                continue
            if row.model not in org_group.models and group_for_model(row.model, [org_group]) is None:
                continue
            per_key[row.api_key_id] += measure(row)
        top = sorted(per_key.items(), key=lambda item: (-item[1], item[0]))[:TOP_KEYS]
        shares = []
        for key_id, used in top:
            if used <= 0:
                continue
            if key_id not in names:
                try:
                    found = deps.admin.get_api_key(key_id)
                    names[key_id] = (found.name, found.partial_key_hint)
                except AdminAPIError:
                    names[key_id] = (None, None)
            name, hint = names[key_id]
            shares.append(KeyShare(key_id, name, hint, used))
        out[key] = tuple(shares)
    return out
