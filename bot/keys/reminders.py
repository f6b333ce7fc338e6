"""`rotation-reminders` (daily): owners are DM'd 7, 3 and 1 days before a key's rotation date and on the day (each
once), keys expiring within 7 days likewise; keys whose owner can't be reached go to the admin channel, keys past
their rotation date to a weekly admin digest. Every notice is ledger-backed (one commit per accepted message)."""

from __future__ import annotations

from typing import Literal

from bot.anthropic_admin import ApiKey
from bot.jobs.context import JobContext, JobResult
from bot.keys.blocks.reminders import overdue_digest, reminder_dm, unowned_reminders
from bot.keys.common import (
    EXPIRY_WARNING_DAYS,
    effective_status,
    iso_week,
    key_view,
    local_today,
    open_rotations,
    rotation_due,
    workspace_names,
)
from bot.keys.model import LISTED_PER_MESSAGE, Notice, Owner
from bot.keys.outbox import Outbox, already_done, tally
from bot.keys.owners import LookupsDeferred, Owners, deferred_note
from bot.keys.snooze import snoozed_keys

# Reminder stages: days before the rotation date / expiry (0: the day itself; rotation also when overdue).
REMINDER_DAYS = (7, 3, 1, 0)


def _stage(days_left: int) -> int | None:
    """The reminder stage (7, 3, 1 or 0 days before) `days_left` falls in; 0 also when overdue; None if > 7."""
    if days_left <= 0:
        return 0
    return next((stage for stage in sorted(REMINDER_DAYS) if stage > 0 and days_left <= stage), None)


def rotation_reminders(ctx: JobContext) -> JobResult:
    """DM owners at 7, 3 and 1 days before rotation is due and on the day (each once); keys expiring within
    7 days likewise; keys of owners out of reach to the admin channel; overdue keys in a weekly admin digest."""
    deps, now, session = ctx.deps, ctx.now, ctx.session
    result = JobResult()
    today = local_today(deps, now)
    rotating = open_rotations(session)
    snoozed = snoozed_keys(session, now)  # Snooze 7 days: nothing about these keys this week
    candidates: list[tuple[str, ApiKey, Literal["rotation", "expiry"], int]] = []  # (ledger key, key, kind, left)
    overdue: list[ApiKey] = []
    for key in deps.admin.iter_api_keys(status="active"):
        if effective_status(key, now) != "active":
            continue
        due = rotation_due(key, deps)
        days_left = (due - today).days
        if days_left <= 0:
            overdue.append(key)  # the admins' digest lists it, snoozed or not
        if key.id in snoozed:
            result.skipped += 1
            continue
        stage = _stage(days_left)
        if stage is not None and key.id not in rotating:
            candidates.append((f"rotation:{key.id}:{due}:{stage}", key, "rotation", days_left))
        if key.expires_at is not None:
            expiry = key.expires_at.astimezone(deps.settings.tz).date()
            left = (expiry - today).days
            if 0 <= left <= EXPIRY_WARNING_DAYS:
                candidates.append((f"expiry:{key.id}:{expiry}:{_stage(left)}", key, "expiry", left))
    done = already_done(ctx, (c[0] for c in candidates))
    pending = [c for c in candidates if c[0] not in done]
    result.skipped += len(candidates) - len(pending)
    outbox = Outbox(ctx, result)
    workspaces = workspace_names(deps) if pending or overdue else {}
    if pending:
        owners = Owners(deps, scan=True)
        by_owner: dict[str, list[tuple[str, Notice]]] = {}
        unowned: list[tuple[str, Notice, Owner]] = []
        deferred = 0
        for ledger_key, key, kind, left in pending:
            notice = Notice(key_view(key, deps, now, workspaces=workspaces), kind, left)
            try:
                slack_id = owners.slack_id(key.created_by_user_id)
            except LookupsDeferred:
                deferred += 1
                continue
            except Exception as exc:  # one key's failure never stops the others
                ctx.item_failed(result, f"owner of {key.id}", exc)
                continue
            if slack_id is None:
                unowned.append((ledger_key, notice, owners.owner(key.created_by_user_id)))
            else:
                by_owner.setdefault(slack_id, []).append((ledger_key, notice))
        if deferred:
            result.notes.append(deferred_note(deferred))
        for slack_id in sorted(by_owner):
            items = by_owner[slack_id]
            message = reminder_dm([n for _, n in items], max_age_days=deps.settings.key_max_age_days)
            outbox.send(slack_id, message, [k for k, _ in items], dm=True, about=[n.key for _, n in items])
        channel = deps.settings.admin_channel_id
        for i in range(0, len(unowned), LISTED_PER_MESSAGE):
            part = unowned[i : i + LISTED_PER_MESSAGE]
            if channel:
                message = unowned_reminders([(n, owner) for _, n, owner in part])
                outbox.send(channel, message, [k for k, _, _ in part], dm=False, about=[n.key for _, n, _ in part])
    _overdue_digest(ctx, outbox, overdue, workspaces)
    result.notes.append(f"{len(pending)} reminder(s) due, {len(overdue)} key(s) overdue")
    return result


def _overdue_digest(ctx: JobContext, outbox: Outbox, overdue: list[ApiKey], workspaces: dict[str, str]) -> None:
    deps, now = ctx.deps, ctx.now
    channel = deps.settings.admin_channel_id
    week = iso_week(deps, now)
    ledger_key = f"overdue-digest:{week}"
    if not overdue or channel is None or ctx.already_done(ledger_key):
        return
    oldest = sorted(overdue, key=lambda k: (k.created_at, k.id))[:LISTED_PER_MESSAGE]
    oldest_views = [key_view(k, deps, now, workspaces=workspaces) for k in oldest]
    message = overdue_digest(
        total=len(overdue),
        oldest=oldest_views,
        by_workspace=tally(workspaces.get(k.workspace_id or "", "organization-wide") for k in overdue),
        week=week,
        max_age_days=deps.settings.key_max_age_days,
    )
    outbox.send(channel, message, [ledger_key], dm=False, about=oldest_views)
