"""`/claude-key rotate <key-id>` and the rotation's later steps: the replacement is seen (run by key-adoption
through `adopt_rotation_keys`), the owner's "Deactivate old key" click, or the bot's deactivation after the grace
period once usage shows the old key unused."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.anthropic_admin import AdminAPIError, BadRequest, NotFound
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, confirm_admin, resolve_actor
from bot.jobs.context import JobContext, JobResult
from bot.keys import messages as msg
from bot.keys.activity import unused_for
from bot.keys.blocks.rotation import (
    owner_steps_dm,
    replaced_dm,
    replaced_done_edit,
    replaced_unreachable_post,
    rotation_done_text,
    still_used_text,
)
from bot.keys.common import (
    effective_status,
    get_key,
    key_view,
    local_today,
    open_rotations,
    owns,
    require_active,
    require_owner_or_admin,
    workspace_names,
)
from bot.keys.model import Replacement, RotationDone, RotationStarted, RotationSteps
from bot.keys.owners import reachable
from bot.slack.notifier import Posted
from storage import repositories as repo
from storage.db import session_scope
from storage.models import KeyRotation, RotationState

logger = logging.getLogger(__name__)

# The old key is deactivated this long after its replacement appears, once unused for a day.
ROTATION_GRACE = timedelta(hours=48)
UNUSED_BEFORE_DEACTIVATION = timedelta(hours=24)
# A replacement may be created a little before `rotate` is typed (clocks differ too).
REPLACEMENT_LEEWAY = timedelta(minutes=10)

_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def replacement_name(old_name: str, today: date) -> str:
    """The old name's stem plus today's date: `prod-bob-search-20261125` replaces `prod-bob-search`."""
    stem = _DATE_SUFFIX.sub("", old_name.strip()) or "key"
    return f"{stem[:80]}-{today:%Y%m%d}"


def rotate(deps: Deps, *, slack_user_id: str, key_id: str) -> RotationStarted:
    """Start a rotation: record it and tell the owner how to create the replacement."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    key = get_key(deps, key_id)
    require_owner_or_admin(deps, actor, key, "rotate")
    require_active(key, now, "rotate")
    steps = RotationSteps(
        key=key_view(key, deps, now, workspaces=workspace_names(deps)),
        suggested_name=replacement_name(key.name, local_today(deps, now)),
        console_url=deps.settings.console_url,
        grace_hours=int(ROTATION_GRACE.total_seconds() // 3600),
        for_owner=owns(actor, key),
    )
    with session_scope(deps.engine) as session:
        existing = open_rotations(session, [key.id]).get(key.id)
    if existing is not None:
        return RotationStarted(steps, running_since=existing.started_at.astimezone(deps.settings.tz))
    owner_slack = actor.slack_user_id if owns(actor, key) else reachable(deps, key.created_by_user_id)
    with session_scope(deps.engine) as session:
        rotation = KeyRotation(
            old_key_id=key.id,
            old_key_name=key.name[:500],
            workspace_id=key.workspace_id,
            owner_anthropic_id=key.created_by_user_id,
            owner_slack_id=owner_slack,
            started_by_slack_id=actor.slack_user_id,
            state=RotationState.WAITING,
            open_key_id=key.id,
            started_at=now,
        )
        if not repo.add_rotation(session=session, rotation=rotation):
            raise UserError(msg.rotation_race(key.id))
        repo.append_audit(
            session=session,
            action="rotation.started",
            subject_type="api_key",
            subject_id=key.id,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            after={"rotation_id": rotation.id, "state": RotationState.WAITING},
            at=now,
        )
    if owner_slack and owner_slack != actor.slack_user_id:
        dm = owner_steps_dm(steps, by=actor.slack_user_id)
        try:
            deps.notifier.direct_message(owner_slack, dm.text, dm.blocks)
            return RotationStarted(steps, owner_told=owner_slack)
        except SlackApiError as exc:
            logger.warning("rotation steps to the owner failed: %s", exc.response.get("error"))
        return RotationStarted(steps)
    return RotationStarted(steps, owner_unreachable=not owner_slack and not owns(actor, key))


def is_owner(actor: Actor, rotation: KeyRotation) -> bool:
    """Whether the actor is the rotation's recorded owner; never when either id is unknown."""
    owner = rotation.owner_anthropic_id
    return owner is not None and actor.anthropic_user_id is not None and actor.anthropic_user_id == owner


def deactivate_old_key(deps: Deps, *, slack_user_id: str, rotation_id: int) -> RotationDone:
    """The owner's "Deactivate old key" click: owner or admin, once, whatever the grace period says."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id, privileged=True)
    with session_scope(deps.engine) as session:
        rotation = repo.get_rotation(session=session, rotation_id=rotation_id)
    if rotation is None:
        raise UserError(msg.NO_SUCH_ROTATION)
    by_owner = is_owner(actor, rotation)
    if not by_owner:
        actor = confirm_admin(deps, actor, msg.OWNER_OR_ADMIN_DEACTIVATES)
    if rotation.state == RotationState.COMPLETED:
        raise UserError(msg.rotation_already_done(rotation.old_key_id))
    outcome = _deactivate(deps, rotation.old_key_id)
    if outcome == "deactivated":
        outcome = "deactivated_by_owner" if by_owner else "deactivated_by_admin"
    with session_scope(deps.engine) as session:
        completed = _complete(session, rotation, outcome=outcome, now=now, actor=actor)
    if not completed:
        raise UserError(msg.rotation_already_done(rotation.old_key_id))
    done = RotationDone(rotation.old_key_id, "by_person", by=actor.slack_user_id)
    _edit_notice(deps, rotation, now, done)
    return done


def _complete(
    session: Session, rotation: KeyRotation, *, outcome: str, now: datetime, actor: Actor | None = None
) -> bool:
    """Close a replaced (or waiting) rotation exactly once; False when another run or click did it."""
    assert rotation.id is not None
    if not repo.complete_rotation(session=session, rotation_id=rotation.id, outcome=outcome, now=now):
        return False
    repo.append_audit(
        session=session,
        action="rotation.completed",
        subject_type="api_key",
        subject_id=rotation.old_key_id,
        actor_slack_id=actor.slack_user_id if actor else None,
        actor_anthropic_id=actor.anthropic_user_id if actor else None,
        before={"rotation_id": rotation.id, "state": rotation.state},
        after={"state": RotationState.COMPLETED, "outcome": outcome, "new_key_id": rotation.new_key_id},
        at=now,
    )
    rotation.state, rotation.open_key_id, rotation.outcome, rotation.completed_at = (
        RotationState.COMPLETED,
        None,
        outcome,
        now,
    )  # the row as just written (the object may be detached)
    return True


def _deactivate(deps: Deps, key_id: str) -> str:
    """Set a key inactive; 'deactivated', or 'already_off' when it was already gone, inactive or archived."""
    try:
        key = deps.admin.get_api_key(key_id)
    except NotFound:
        return "already_off"
    if key.status != "active":
        return "already_off"
    try:
        deps.admin.update_api_key(key_id, status="inactive")
    except (NotFound, BadRequest):
        return "already_off"
    return "deactivated"


def _replacement(deps: Deps, rotation: KeyRotation, now: datetime) -> Replacement:
    """The rotation row as the "Deactivate old key" DM shows it."""
    return Replacement(
        rotation_id=rotation.id or 0,
        old_key_id=rotation.old_key_id,
        old_key_name=rotation.old_key_name,
        new_key_id=rotation.new_key_id or "",
        new_key_name=rotation.new_key_name or "",
        grace_until=(rotation.grace_until or now).astimezone(deps.settings.tz),
    )


def _edit_notice(deps: Deps, rotation: KeyRotation, now: datetime, done: RotationDone) -> None:
    if rotation.notice_channel and rotation.notice_ts:
        edit = replaced_done_edit(_replacement(deps, rotation, now), done)
        try:
            deps.notifier.update(Posted(rotation.notice_channel, rotation.notice_ts), edit.text, edit.blocks)
        except SlackApiError as exc:
            logger.info("could not edit the rotation DM: %s", exc.response.get("error"))


# --------------------------------------------------------------------------------------------------
# The steps key-adoption runs every 15 minutes
# --------------------------------------------------------------------------------------------------


def adopt_rotation_keys(ctx: JobContext) -> JobResult:
    """For key-adoption: find replacements of open rotations, DM the button, deactivate after the grace period."""
    result = JobResult()
    for rotation in repo.unfinished_rotations(session=ctx.session):
        try:
            if rotation.state == RotationState.WAITING:
                _find_replacement(ctx, rotation)
            if rotation.state == RotationState.REPLACED:
                _tell_owner_replaced(ctx, rotation, result)
                _finish_after_grace(ctx, rotation, result)
        except (AdminAPIError, SlackApiError) as exc:  # each step commits on its own: nothing half-done to undo
            result.errors.append(f"rotation {rotation.id} of {rotation.old_key_id}: {_error_text(exc)}")
    return result


def _error_text(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"Slack {exc.response.get('error')}"
    return type(exc).__name__


def _find_replacement(ctx: JobContext, rotation: KeyRotation) -> None:
    deps, now, session = ctx.deps, ctx.now, ctx.session
    assert rotation.id is not None
    try:
        old = deps.admin.get_api_key(rotation.old_key_id)
        old_status = effective_status(old, now)
    except NotFound:
        old_status = "gone"
    if old_status != "active":  # revoked by hand, archived or expired: nothing left to rotate
        if ctx.dry_run:
            ctx.out(f"would close rotation {rotation.id}: old key {rotation.old_key_id} is {old_status}")
        else:
            _complete(session, rotation, outcome="already_off", now=now)
            session.commit()
        return
    if rotation.owner_anthropic_id is None:
        return  # a key with no recorded creator: nobody's new key can be matched to it
    candidates = [
        k
        for k in deps.admin.list_api_keys(
            status="active", created_by_user_id=rotation.owner_anthropic_id, workspace_id=rotation.workspace_id
        )
        if k.id != rotation.old_key_id
        and k.created_at >= rotation.started_at - REPLACEMENT_LEEWAY
        and k.workspace_id == rotation.workspace_id
    ]
    if not candidates:
        return
    new = min(candidates, key=lambda k: (k.created_at, k.id))
    if ctx.dry_run:
        ctx.out(f"would record {new.id} as the replacement of {rotation.old_key_id} (rotation {rotation.id})")
        return
    moved = repo.record_replacement(
        session=session,
        rotation_id=rotation.id,
        new_key_id=new.id,
        new_key_name=new.name[:500],
        now=now,
        grace_until=now + ROTATION_GRACE,
    )
    if moved:
        repo.append_audit(
            session=session,
            action="rotation.replacement_seen",
            subject_type="api_key",
            subject_id=rotation.old_key_id,
            before={"rotation_id": rotation.id, "state": RotationState.WAITING},
            after={"state": RotationState.REPLACED, "new_key_id": new.id},
            at=now,
        )
    session.commit()
    session.refresh(rotation)


def _tell_owner_replaced(ctx: JobContext, rotation: KeyRotation, result: JobResult) -> None:
    key = f"rotation:{rotation.id}:replaced"
    if ctx.already_done(key):
        return
    deps = ctx.deps
    assert rotation.id is not None
    target = rotation.owner_slack_id or reachable(deps, rotation.owner_anthropic_id)
    replacement = _replacement(deps, rotation, ctx.now)
    dm = replaced_dm(replacement)
    if ctx.dry_run:
        ctx.out(f"would DM {target or deps.settings.admin_channel_id}: {dm.text}")
        result.sent += 1
        return
    channel = target or deps.settings.admin_channel_id
    if channel is None:
        return
    if target:
        posted = deps.notifier.direct_message(channel, dm.text, dm.blocks)
    else:
        post = replaced_unreachable_post(replacement)
        posted = deps.notifier.post(channel, post.text, post.blocks)
    repo.set_rotation_notice(session=ctx.session, rotation_id=rotation.id, channel=posted.channel, ts=posted.ts)
    ctx.mark_done(key)
    ctx.session.refresh(rotation)
    result.sent += 1


def _finish_after_grace(ctx: JobContext, rotation: KeyRotation, result: JobResult) -> None:
    deps, now = ctx.deps, ctx.now
    if rotation.grace_until is None or now < rotation.grace_until:
        return
    try:
        old = deps.admin.get_api_key(rotation.old_key_id)
        active = old.status == "active"
    except NotFound:
        active = False
    if active and not unused_for(deps, rotation.old_key_id, now, UNUSED_BEFORE_DEACTIVATION):
        result.skipped += 1
        key = f"rotation:{rotation.id}:still-used"
        if rotation.owner_slack_id and not ctx.already_done(key):
            text = still_used_text(rotation.old_key_id, rotation.old_key_name)
            if ctx.dry_run:
                ctx.out(f"would DM {rotation.owner_slack_id}: {text}")
            else:
                deps.notifier.direct_message(rotation.owner_slack_id, text)
                ctx.mark_done(key)
        return
    if ctx.dry_run:
        ctx.out(f"would deactivate {rotation.old_key_id} (rotation {rotation.id}, grace period over, unused)")
        return
    outcome = _deactivate(deps, rotation.old_key_id) if active else "already_off"
    if outcome == "deactivated":
        outcome = "deactivated_after_grace"
    if not _complete(ctx.session, rotation, outcome=outcome, now=now):
        return
    if outcome == "deactivated_after_grace":
        repo.append_audit(
            session=ctx.session,
            action="key.deactivated",
            subject_type="api_key",
            subject_id=rotation.old_key_id,
            before={"status": "active"},
            after={"status": "inactive"},
            detail=f"rotation {rotation.id}: grace period over and unused for 24 hours",
            at=now,
        )
    ctx.session.commit()
    done = RotationDone(rotation.old_key_id, "already_off" if outcome == "already_off" else "after_grace")
    _edit_notice(deps, rotation, now, done)
    if rotation.owner_slack_id and not ctx.already_done(f"rotation:{rotation.id}:done"):
        deps.notifier.direct_message(rotation.owner_slack_id, rotation_done_text(done))
        ctx.mark_done(f"rotation:{rotation.id}:done")
    result.sent += 1
