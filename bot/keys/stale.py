"""`stale-keys` (weekly), with the leaver sweep: one admin report (former members' keys first, then keys unused
for KEY_STALE_DAYS) with an Admin-only Deactivate button per key, and one DM per owner of a stale key.

One scan of active keys (pages of 1,000) and one usage call per 31 days, never one call per key.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.anthropic_admin import ApiKey
from bot.deps import Deps
from bot.identity import resolve_actor
from bot.jobs.context import JobContext, JobResult
from bot.keys.activity import keys_with_usage
from bot.keys.blocks.stale import stale_owner_dm, stale_root, stale_row_edit, stale_rows, still_in_use_notice
from bot.keys.common import (
    effective_status,
    get_key,
    iso_week,
    key_view,
    local_today,
    require_admin,
    require_owner_or_admin,
    rotation_due,
    workspace_names,
)
from bot.keys.model import LISTED_PER_MESSAGE, StaleDeactivated, StaleRow, StillInUse
from bot.keys.outbox import Outbox, already_done, mark_all, tally
from bot.keys.owners import LookupsDeferred, Owners, deferred_note
from bot.keys.revoke import deactivate_and_audit
from bot.slack.notifier import Posted
from storage import repositories as repo
from storage.db import session_scope

logger = logging.getLogger(__name__)

# At most this many keys listed (with buttons) per week; the rest next week.
STALE_LISTED_PER_WEEK = 200
_REPORT_KIND = "stale-keys"


@dataclass(frozen=True)
class KeyHealth:
    """The org's key hygiene at a glance: leavers' keys, stale keys, overdue keys (each oldest first)."""

    active: int
    leavers: list[ApiKey]
    stale: list[ApiKey]
    overdue: list[ApiKey]
    usage_as_of: datetime | None


def key_health(deps: Deps, now: datetime, members: set[str]) -> KeyHealth:
    """One scan of active keys (pages of 1,000) and one usage call per 31 days of KEY_STALE_DAYS."""
    keys = [k for k in deps.admin.iter_api_keys(status="active") if effective_status(k, now) == "active"]
    keys.sort(key=lambda k: (k.created_at, k.id))
    cutoff = now - timedelta(days=deps.settings.key_stale_days)
    old_enough = [k for k in keys if k.created_at <= cutoff]
    used, as_of = keys_with_usage(deps, cutoff, now) if old_enough else (set(), None)
    leavers = [k for k in keys if k.created_by_user_id is not None and k.created_by_user_id not in members]
    leaver_ids = {k.id for k in leavers}
    stale = [k for k in old_enough if k.id not in used and k.id not in leaver_ids]
    today = local_today(deps, now)
    overdue = [k for k in keys if (rotation_due(k, deps) - today).days <= 0]
    return KeyHealth(active=len(keys), leavers=leavers, stale=stale, overdue=overdue, usage_as_of=as_of)


def stale_keys(ctx: JobContext) -> JobResult:
    """Weekly: one admin report (former members' keys first, then keys unused for KEY_STALE_DAYS) with a
    Deactivate button per key, and one DM per owner of a stale key."""
    deps, now = ctx.deps, ctx.now
    result = JobResult()
    owners = Owners(deps, scan=True)
    health = key_health(deps, now, owners.members())
    week = iso_week(deps, now)
    outbox = Outbox(ctx, result)
    reported = [(k, True) for k in health.leavers] + [(k, False) for k in health.stale]
    result.notes.append(f"{len(health.leavers)} key(s) of former members, {len(health.stale)} stale")
    workspaces = workspace_names(deps) if reported else {}
    channel = deps.settings.admin_channel_id
    if reported and channel:
        _stale_report(ctx, outbox, channel, reported, health, workspaces, owners, week)
    _stale_owner_dms(ctx, outbox, health.stale, workspaces, owners, week)
    return result


def _stale_report(
    ctx: JobContext,
    outbox: Outbox,
    channel: str,
    reported: list[tuple[ApiKey, bool]],
    health: KeyHealth,
    workspaces: dict[str, str],
    owners: Owners,
    week: str,
) -> None:
    deps, now, session = ctx.deps, ctx.now, ctx.session
    row_keys = {k.id: f"report:{week}:{k.id}" for k, _ in reported}
    done = already_done(ctx, [*row_keys.values(), f"report:{week}:root"])
    listed = sum(1 for v in row_keys.values() if v in done)
    todo = [(k, leaver) for k, leaver in reported if row_keys[k.id] not in done]
    todo = todo[: max(0, STALE_LISTED_PER_WEEK - listed)]
    root = repo.report_root(session=session, kind=_REPORT_KIND, period=week)
    if f"report:{week}:root" not in done or root is None:
        message = stale_root(
            leavers=len(health.leavers),
            stale=len(health.stale),
            by_workspace=tally(workspaces.get(k.workspace_id or "", "organization-wide") for k, _ in reported),
            stale_days=deps.settings.key_stale_days,
            listed=min(len(reported), STALE_LISTED_PER_WEEK),
            week=week,
            as_of=health.usage_as_of.astimezone(deps.settings.tz) if health.usage_as_of else None,
        )
        posted = outbox.send(channel, message, [], dm=False)
        if posted is None:
            return
        if not ctx.dry_run:
            repo.add_report_root(
                session=session, kind=_REPORT_KIND, period=week, channel=posted.channel, ts=posted.ts, now=now
            )
            mark_all(ctx, [f"report:{week}:root"])
        thread_ts = posted.ts
    else:
        thread_ts = root.ts
    for i in range(0, len(todo), LISTED_PER_MESSAGE):
        part = todo[i : i + LISTED_PER_MESSAGE]
        rows = [
            StaleRow(
                key_view(k, deps, now, workspaces=workspaces), leaver=leaver, owner=owners.owner(k.created_by_user_id)
            )
            for k, leaver in part
        ]
        outbox.send(
            channel,
            stale_rows(rows),
            [row_keys[k.id] for k, _ in part],
            dm=False,
            thread_ts=thread_ts,
            about=[row.key for row in rows],
        )


def _stale_owner_dms(
    ctx: JobContext, outbox: Outbox, stale: list[ApiKey], workspaces: dict[str, str], owners: Owners, week: str
) -> None:
    deps, now = ctx.deps, ctx.now
    ledger = {k.id: f"dm:{week}:{k.id}" for k in stale}
    done = already_done(ctx, ledger.values())
    by_owner: dict[str, list[ApiKey]] = {}
    deferred = 0
    for key in stale:
        if ledger[key.id] in done:
            continue
        try:
            slack_id = owners.slack_id(key.created_by_user_id)
        except LookupsDeferred:
            deferred += 1
            continue
        except Exception as exc:  # one key's failure never stops the others
            ctx.item_failed(outbox.result, f"owner of {key.id}", exc)
            continue
        if slack_id is not None:  # keys without a reachable owner are in the admin report already
            by_owner.setdefault(slack_id, []).append(key)
    if deferred:
        outbox.result.notes.append(deferred_note(deferred))
    for slack_id in sorted(by_owner):
        keys = by_owner[slack_id]
        views = [key_view(k, deps, now, workspaces=workspaces) for k in keys]
        message = stale_owner_dm(views, stale_days=deps.settings.key_stale_days, week=week)
        outbox.send(slack_id, message, [ledger[k.id] for k in keys], dm=True, about=views)


def deactivate_from_report(
    deps: Deps,
    *,
    slack_user_id: str,
    key_id: str,
    channel: str | None,
    ts: str | None,
    blocks: Sequence[dict[str, Any]],
) -> StaleDeactivated:
    """A Deactivate click in the stale-key report: Admins only, re-checked; the row shows who did it."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id, privileged=True)
    require_admin(deps, actor, "deactivate keys from the stale-key report")
    key = get_key(deps, key_id)
    done = StaleDeactivated(key_id=key.id, name=key.name, status=effective_status(key, now), by=actor.slack_user_id)
    if done.deactivated:
        deactivate_and_audit(deps, key, actor, now, "stale-key report")
    if channel and ts and blocks:
        try:
            edit = stale_row_edit(done, blocks)
            deps.notifier.update(Posted(channel, ts), edit.text, edit.blocks)
        except SlackApiError as exc:
            logger.info("could not edit the report row: %s", exc.response.get("error"))
    return done


def still_in_use(deps: Deps, *, slack_user_id: str, key_id: str, week: str) -> StillInUse:
    """A Still in use click on the owner's stale-key DM: owner or Admin (re-checked); an audit row, and a line to
    the admins, in that week's stale-key report thread when it was posted."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    key = get_key(deps, key_id)
    require_owner_or_admin(deps, actor, key, "vouch for")
    with session_scope(deps.engine) as session:
        repo.append_audit(
            session=session,
            action="key.still_in_use",
            subject_type="api_key",
            subject_id=key.id,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            detail=f"stale-key DM {week}",
            at=now,
        )
        root = repo.report_root(session=session, kind=_REPORT_KIND, period=week)
    done = StillInUse(key_view(key, deps, now, workspaces=workspace_names(deps)), actor.slack_user_id, False)
    channel = root.channel if root is not None else deps.settings.admin_channel_id
    if not channel:
        return done
    notice = still_in_use_notice(done, stale_days=deps.settings.key_stale_days)
    try:
        deps.notifier.post(channel, notice.text, notice.blocks, thread_ts=root.ts if root is not None else None)
    except SlackApiError as exc:
        logger.warning("still-in-use line to the admin channel failed: %s", exc.response.get("error"))
        return done
    return StillInUse(done.key, done.by, admins_told=True)
