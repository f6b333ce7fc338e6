"""Key hygiene (DESIGN.md §3, §5): list, revoke, rotate and check keys; rotation reminders, stale-key audits.

The Admin API has no last-used field and cannot set expiry (reference §2.6, §5): activity comes from
`analytics.usage` grouped by `api_key_id`, at most 31 days per call. Whole-org scans list keys and users a
page of 1,000 at a time and ask for usage grouped by key in one paged call per 31 days, never per key.

Owners: `created_by` → org user → email → Slack user (an identity link the bot already has, else
`users.lookupByEmail`), resolved once per owner per run. Keys whose owner can't be reached go to the admin
channel. Every notice is ledger-backed (one commit per accepted message), every change is an audit row.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.anthropic_admin import (
    AdminAPIError,
    ApiKey,
    BadRequest,
    FeatureUnavailable,
    NotFound,
    OrgUser,
    UsageRow,
)
from bot.core import periods
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, BotRole, resolve_actor
from bot.jobs.context import JobContext, JobResult
from bot.slack import keys_blocks as kb
from bot.slack.commands import COMMAND
from bot.slack.notifier import Posted
from bot.slack.reply import Reply
from bot.slack.text import escape
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AuditEvent, IdentityLink, KeyReport, KeyRotation, LedgerEntry, RotationState

logger = logging.getLogger(__name__)

# Rotation: the old key is deactivated this long after its replacement appears, once unused for a day.
ROTATION_GRACE = timedelta(hours=48)
UNUSED_BEFORE_DEACTIVATION = timedelta(hours=24)
# A replacement may be created a little before `rotate` is typed (clocks differ too).
REPLACEMENT_LEEWAY = timedelta(minutes=10)
# Reminder stages: days before the rotation date / expiry (0: the day itself; rotation also when overdue).
REMINDER_DAYS = (7, 3, 1, 0)
EXPIRY_WARNING_DAYS = 7
# Weekly stale-key audit: at most this many keys listed (with buttons) per week; the rest next week.
STALE_LISTED_PER_WEEK = 200
# Analytics: one call covers at most 31 days and nothing before 2026-01-01 (reference §2.12).
ANALYTICS_MAX_SPAN = timedelta(days=31)
ANALYTICS_FLOOR = datetime(2026, 1, 1, tzinfo=UTC)
LAST_USED_WINDOW_DAYS = 31
# `check`: a minute with this many requests or tokens reaches the lowest rate-limit tiers (50 RPM;
# 30,000 input tokens per minute). The Admin API reports no 429s, so bursts are the visible sign.
BURST_REQUESTS_PER_MINUTE = 50
BURST_TOKENS_PER_MINUTE = 30_000
_LEDGER_BATCH = 500
_KEY_ID = re.compile(r"^apikey_[A-Za-z0-9_]{4,100}$")
_SECRET = re.compile(r"^sk-ant-[a-z]+\d*-[A-Za-z0-9_-]{20,}$")

_RESOLVE_MEMBER = (
    "You aren't a member of the Anthropic organization yet, so you have no keys. "
    f"Ask for access with `{COMMAND} request`."
)


# --------------------------------------------------------------------------------------------------
# Small helpers: dates, views, permissions
# --------------------------------------------------------------------------------------------------


def is_key_id(text: str) -> bool:
    """Whether `text` looks like an API key id (`apikey_…`)."""
    return bool(_KEY_ID.match(text))


def effective_status(key: ApiKey, now: datetime) -> str:
    """The key's status, reading 'expired' once expires_at has passed (the API may not say so yet)."""
    if key.status == "active" and key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return key.status


def rotation_due(key: ApiKey, deps: Deps) -> date:
    """The local date a key reaches KEY_MAX_AGE_DAYS."""
    return (key.created_at + timedelta(days=deps.settings.key_max_age_days)).astimezone(deps.settings.tz).date()


def _today(deps: Deps, now: datetime) -> date:
    return now.astimezone(deps.settings.tz).date()


def _week(deps: Deps, now: datetime) -> str:
    year, week, _ = now.astimezone(deps.settings.tz).isocalendar()
    return f"{year}-W{week:02d}"


def key_view(
    key: ApiKey,
    deps: Deps,
    now: datetime,
    *,
    workspaces: dict[str, str] | None = None,
    rotating: bool = False,
    last_used: dict[str, date] | None = None,
    owner: str | None = None,
) -> kb.KeyView:
    """A key as the builders show it (`last_used` None: activity unknown)."""
    tz = deps.settings.tz
    due = rotation_due(key, deps)
    workspace = None
    if key.workspace_id is not None:
        workspace = (workspaces or {}).get(key.workspace_id, key.workspace_id)
    return kb.KeyView(
        id=key.id,
        name=key.name,
        hint=key.partial_key_hint,
        workspace=workspace,
        status=effective_status(key, now),
        created=key.created_at.astimezone(tz).date(),
        age_days=max(0, (now - key.created_at).days),
        expires=key.expires_at.astimezone(tz).date() if key.expires_at else None,
        rotation_due=due,
        days_to_rotation=(due - _today(deps, now)).days,
        rotating=rotating,
        last_used=(last_used or {}).get(key.id),
        usage_known=last_used is not None,
        owner=owner,
    )


def _member(actor: Actor) -> str:
    if actor.anthropic_user_id is None:
        raise UserError(_RESOLVE_MEMBER)
    return actor.anthropic_user_id


def _require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise UserError(f"Only admins can {what}.")


def _get_key(deps: Deps, key_id: str) -> ApiKey:
    try:
        return deps.admin.get_api_key(key_id)
    except NotFound:
        raise UserError(f"There is no key `{escape(key_id)}` in the Anthropic organization.") from None


def _owns(actor: Actor, key: ApiKey) -> bool:
    return actor.anthropic_user_id is not None and key.created_by_user_id == actor.anthropic_user_id


def _require_owner_or_admin(actor: Actor, key: ApiKey, verb: str) -> None:
    """The key's owner or an Admin (DESIGN.md §2: re-checked on every command and click)."""
    if actor.is_admin or _owns(actor, key):
        return
    if actor.role is BotRole.NON_MEMBER:
        raise UserError(_RESOLVE_MEMBER)
    raise UserError(f"Key `{key.id}` belongs to someone else: only its owner or an admin can {verb} it.")


def workspace_names(deps: Deps) -> dict[str, str]:
    return {w.id: w.name for w in deps.admin.list_workspaces(include_archived=True)}


def open_rotations(session: Session, key_ids: Iterable[str] | None = None) -> dict[str, KeyRotation]:
    query = select(KeyRotation).where(col(KeyRotation.open_key_id).is_not(None))
    if key_ids is not None:
        ids = list(key_ids)
        if not ids:
            return {}
        query = query.where(col(KeyRotation.open_key_id).in_(ids))
    return {r.old_key_id: r for r in session.exec(query)}


# --------------------------------------------------------------------------------------------------
# Usage: activity per key
# --------------------------------------------------------------------------------------------------


def _windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into spans the analytics API accepts (≤ 31 days, not before 2026-01-01)."""
    start = max(start, ANALYTICS_FLOOR)
    spans = []
    while start < end:
        stop = min(start + ANALYTICS_MAX_SPAN, end)
        spans.append((start, stop))
        start = stop
    return spans


def _active(row: UsageRow) -> bool:
    return bool(row.requests or row.total_tokens)


def keys_with_usage(
    deps: Deps, start: datetime, end: datetime, key_ids: Sequence[str] | None = None
) -> tuple[set[str], datetime | None]:
    """Ids of keys with any usage in [start, end), and the data's as-of time: one paged call per 31 days."""
    if key_ids is not None and not key_ids:
        return set(), None
    used: set[str] = set()
    as_of: list[datetime] = []
    for a, b in _windows(start, end):
        report = deps.admin.usage_report(starting_at=a, ending_at=b, group_by=["api_key_id"], api_key_ids=key_ids)
        used.update(row.api_key_id for row in report.rows if row.api_key_id and _active(row))
        if report.data_refreshed_at is not None:
            as_of.append(report.data_refreshed_at)
    return used, min(as_of, default=None)


def last_used_dates(deps: Deps, key_ids: Sequence[str], now: datetime) -> tuple[dict[str, date], datetime | None]:
    """The last day (in TIMEZONE) each key was used within LAST_USED_WINDOW_DAYS; one call for a page of keys."""
    if not key_ids:
        return {}, None
    start = max(now - timedelta(days=LAST_USED_WINDOW_DAYS), ANALYTICS_FLOOR)
    report = deps.admin.usage_report(
        starting_at=start, ending_at=now, group_by=["api_key_id"], bucket_width="1d", api_key_ids=key_ids
    )
    last: dict[str, date] = {}
    for row in report.rows:
        if row.api_key_id and _active(row):
            day = row.starting_at.astimezone(deps.settings.tz).date()
            last[row.api_key_id] = max(day, last.get(row.api_key_id, day))
    return last, report.data_refreshed_at


# --------------------------------------------------------------------------------------------------
# Owners: created_by → org user → email → Slack user
# --------------------------------------------------------------------------------------------------


class Owners:
    """Key owners' org records and Slack ids, each looked up once (per job run or per command).

    `scan=True` lists every org member once (a page of 1,000 per call) for whole-org jobs; otherwise
    each owner is fetched with `users.retrieve`. Slack ids come from the identity links the bot already
    has, else `users.lookupByEmail`.
    """

    def __init__(self, deps: Deps, *, scan: bool) -> None:
        self.deps = deps
        self.scan = scan
        self._users: dict[str, OrgUser | None] = {}
        self._scanned = False
        self._links: dict[str, str] | None = None
        self._slack: dict[str, str | None] = {}
        self._failed: dict[str, SlackApiError] = {}

    def _load_all(self) -> None:
        if not self._scanned:
            self._users = {u.id: u for u in self.deps.admin.list_users()}
            self._scanned = True

    def members(self) -> set[str]:
        """Ids of every current org member (lists them on first use)."""
        self._load_all()
        return set(self._users)

    def user(self, user_id: str | None) -> OrgUser | None:
        """The org member, or None (no creator, or no longer a member)."""
        if user_id is None:
            return None
        if self.scan:
            self._load_all()
            return self._users.get(user_id)
        if user_id not in self._users:
            try:
                self._users[user_id] = self.deps.admin.get_user(user_id)
            except NotFound:
                self._users[user_id] = None
        return self._users[user_id]

    def slack_id(self, user_id: str | None) -> str | None:
        """The owner's Slack user id, or None when they can't be reached (raises on Slack failures)."""
        user = self.user(user_id)
        if user is None:
            return None
        if user.id in self._failed:  # one failed lookup per owner and run, not one per key
            raise self._failed[user.id]
        if user.id not in self._slack:
            try:
                linked = self.identity_links().get(user.id)
                self._slack[user.id] = linked or self.deps.notifier.user_by_email(user.email)
            except SlackApiError as exc:
                self._failed[user.id] = exc
                raise
        return self._slack[user.id]

    def identity_links(self) -> dict[str, str]:
        """Anthropic user id → Slack user id for everyone the bot has already identified (read once)."""
        if self._links is None:
            with session_scope(self.deps.engine) as session:
                rows = session.exec(
                    select(IdentityLink.anthropic_user_id, IdentityLink.slack_user_id).where(
                        col(IdentityLink.anthropic_user_id).is_not(None)
                    )
                )
                self._links = {str(a): s for a, s in rows}
        return self._links

    def label(self, user_id: str | None) -> str:
        """Safe mrkdwn naming the owner for admins."""
        user = self.user(user_id)
        if user_id is None:
            return "no recorded creator"
        if user is None:
            return f"former member `{user_id}`"
        return escape(user.email)


# --------------------------------------------------------------------------------------------------
# /claude-key keys [mine | all | @user]
# --------------------------------------------------------------------------------------------------

_STATUS_ORDER = {"active": 0, "expired": 1, "inactive": 2, "archived": 3}


def list_keys(
    deps: Deps, *, slack_user_id: str, scope: kb.KeyScope, target_slack_id: str | None = None, page: int = 0
) -> Reply:
    """A page of keys: the caller's own, or (admins) everyone's or one person's."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    owner_emails: dict[str, str] | None = None
    if scope == "mine":
        keys = deps.admin.list_api_keys(created_by_user_id=_member(actor))
        heading = "Your API keys"
    elif scope == "all":
        _require_admin(actor, "list everyone's keys")
        keys = deps.admin.list_api_keys()
        owner_emails = {u.id: u.email for u in deps.admin.list_users()}
        heading = "All API keys"
    else:
        _require_admin(actor, "list other people's keys")
        if not target_slack_id:
            raise UserError(f"Usage: `{COMMAND} keys @someone`.")
        person = _org_user_for_slack(deps, target_slack_id)
        keys = deps.admin.list_api_keys(created_by_user_id=person.id)
        heading = f"API keys of {person.email}"
    shown = [k for k in keys if k.status != "archived"]
    shown.sort(key=lambda k: (_STATUS_ORDER.get(effective_status(k, now), 9), k.created_at, k.id))
    pages = max(1, math.ceil(len(shown) / kb.KEYS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = shown[page * kb.KEYS_PER_PAGE : (page + 1) * kb.KEYS_PER_PAGE]
    with session_scope(deps.engine) as session:
        rotating = open_rotations(session, (k.id for k in chunk))
    if scope == "mine" and not shown:
        return Reply(
            "You have no API keys. Create one in the Claude Console "
            f"({deps.settings.console_url}) in a workspace you have access to."
        )
    workspaces = workspace_names(deps) if chunk else {}
    try:
        last_used, as_of = last_used_dates(deps, [k.id for k in chunk], now)
        known: dict[str, date] | None = last_used
    except AdminAPIError as exc:  # usage is a nice-to-have here; the list still answers
        logger.info("last-used lookup failed: %s", type(exc).__name__)
        known, as_of = None, None

    def owner(key: ApiKey) -> str | None:
        if owner_emails is None:
            return None
        return escape(owner_emails.get(key.created_by_user_id or "", "no current member"))

    views = [
        key_view(k, deps, now, workspaces=workspaces, rotating=k.id in rotating, last_used=known, owner=owner(k))
        for k in chunk
    ]
    blocks = kb.build_key_list(
        views,
        heading=heading,
        page=page,
        pages=pages,
        total=len(shown),
        archived_hidden=len(keys) - len(shown),
        nav=kb.KeysPageRef(s=scope, u=target_slack_id, p=page),
        activity_as_of=as_of,
        activity_window_days=LAST_USED_WINDOW_DAYS,
    )
    return Reply(f"{heading}: {len(shown)} (page {page + 1} of {pages})", blocks)


def _org_user_for_slack(deps: Deps, slack_user_id: str) -> OrgUser:
    try:
        email = deps.notifier.user_email(slack_user_id)
    except SlackApiError:
        raise UserError(f"I couldn't look up <@{slack_user_id}> in Slack; try again in a minute.") from None
    person = deps.admin.find_user_by_email(email) if email else None
    if person is None:
        raise UserError(f"<@{slack_user_id}> isn't a member of the Anthropic organization, so they have no keys.")
    return person


# --------------------------------------------------------------------------------------------------
# /claude-key revoke <key-id> [reason]
# --------------------------------------------------------------------------------------------------


def _deactivate_and_audit(deps: Deps, key: ApiKey, actor: Actor, now: datetime, detail: str) -> None:
    """Set the key inactive, then write its audit row (no database connection is held while the API answers;
    a failed call leaves no row)."""
    deps.admin.update_api_key(key.id, status="inactive")
    with session_scope(deps.engine) as session:
        repo.append_audit(
            session=session,
            action="key.revoked",
            subject_type="api_key",
            subject_id=key.id,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            before={"status": key.status},
            after={"status": "inactive"},
            detail=detail or None,
            at=now,
        )


def _require_active(key: ApiKey, now: datetime, verb: str) -> None:
    status = effective_status(key, now)
    if status == "inactive":
        raise UserError(f"Key `{key.id}` is already inactive; there is nothing to {verb}.")
    if status == "archived":
        raise UserError(f"Key `{key.id}` is archived: it can't be used or changed any more.")
    if status == "expired":
        raise UserError(f"Key `{key.id}` has expired and no longer works; there is nothing to {verb}.")


def start_revoke(deps: Deps, *, slack_user_id: str, key_id: str, reason: str) -> Reply:
    """The confirm step of a revoke: checks who may, and names the key."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    key = _get_key(deps, key_id)
    _require_owner_or_admin(actor, key, "revoke")
    _require_active(key, now, "revoke")
    view = key_view(key, deps, now, workspaces=workspace_names(deps))
    return Reply(f"Deactivate key {escape(key.name)} ({key.id})?", kb.build_revoke_confirm(view, reason))


def revoke(deps: Deps, *, slack_user_id: str, key_id: str, reason: str) -> Reply:
    """Deactivate a key after the confirm click: permission and state re-checked, audit row, admin post."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id, refresh=True)
    key = _get_key(deps, key_id)
    _require_owner_or_admin(actor, key, "revoke")
    _require_active(key, now, "revoke")
    _deactivate_and_audit(deps, key, actor, now, reason)
    view = key_view(key, deps, now, workspaces=workspace_names(deps))
    channel = deps.settings.admin_channel_id
    note = ""
    if channel:
        try:
            blocks = kb.build_revoked_notice(view, by=actor.mention, reason=reason)
            deps.notifier.post(channel, f"Key {escape(key.name)} ({key.id}) deactivated by {actor.mention}", blocks)
        except SlackApiError as exc:
            logger.warning("revoke notice to the admin channel failed: %s", exc.response.get("error"))
            note = " (I couldn't tell the admin channel.)"
    return Reply(f":lock: Deactivated {kb.key_title(view)}. Anything using it now gets an authentication error.{note}")


# --------------------------------------------------------------------------------------------------
# /claude-key rotate <key-id>, and the rotation's later steps (run by key-adoption)
# --------------------------------------------------------------------------------------------------

_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def replacement_name(old_name: str, today: date) -> str:
    """The old name's stem plus today's date: `prod-bob-search-20261125` replaces `prod-bob-search`."""
    stem = _DATE_SUFFIX.sub("", old_name.strip()) or "key"
    return f"{stem[:80]}-{today:%Y%m%d}"


def rotate(deps: Deps, *, slack_user_id: str, key_id: str) -> Reply:
    """Start a rotation: record it and tell the owner how to create the replacement."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    key = _get_key(deps, key_id)
    _require_owner_or_admin(actor, key, "rotate")
    _require_active(key, now, "rotate")
    view = key_view(key, deps, now, workspaces=workspace_names(deps))
    suggested = replacement_name(key.name, _today(deps, now))

    def steps(for_owner: bool) -> list[Block]:
        return kb.build_rotation_started(
            view,
            suggested_name=suggested,
            console_url=deps.settings.console_url,
            grace_hours=int(ROTATION_GRACE.total_seconds() // 3600),
            for_owner=for_owner,
        )

    with session_scope(deps.engine) as session:
        existing = open_rotations(session, [key.id]).get(key.id)
    if existing is not None:
        started = existing.started_at.astimezone(deps.settings.tz)
        return Reply(
            f"Key {key.id} is already being rotated (since {started:%Y-%m-%d %H:%M}).", steps(_owns(actor, key))
        )
    owner_slack = actor.slack_user_id if _owns(actor, key) else _reachable(deps, key.created_by_user_id)
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
        try:
            with session.begin_nested():
                session.add(rotation)
        except IntegrityError:
            raise UserError(f"Someone just started rotating key `{key.id}`; follow the steps they were sent.") from None
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
    text = f"Rotation of {escape(key.name)} started: create {escape(suggested)} in the Console"
    if owner_slack and owner_slack != actor.slack_user_id:
        try:
            deps.notifier.direct_message(owner_slack, f"{actor.mention} started rotating your key", steps(True))
            text += f"; I sent the owner <@{owner_slack}> these steps"
        except SlackApiError as exc:
            logger.warning("rotation steps to the owner failed: %s", exc.response.get("error"))
    elif not owner_slack and not _owns(actor, key):
        text += "; I can't reach the key's owner in Slack, so please pass these steps on"
    return Reply(text, steps(_owns(actor, key)))


def _reachable(deps: Deps, user_id: str | None) -> str | None:
    try:
        return Owners(deps, scan=False).slack_id(user_id)
    except (AdminAPIError, SlackApiError) as exc:
        logger.info("owner lookup failed: %s", type(exc).__name__)
        return None


def _complete(
    session: Session, rotation: KeyRotation, *, outcome: str, now: datetime, actor: Actor | None = None
) -> bool:
    """Close a replaced (or waiting) rotation exactly once; False when another run or click did it."""
    done = session.execute(
        update(KeyRotation)
        .where(col(KeyRotation.id) == rotation.id, col(KeyRotation.state) != RotationState.COMPLETED)
        .values(state=RotationState.COMPLETED, open_key_id=None, outcome=outcome, completed_at=now)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
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


def _replaced_blocks(deps: Deps, rotation: KeyRotation, now: datetime, done_text: str | None = None) -> list[Block]:
    grace = (rotation.grace_until or now).astimezone(deps.settings.tz)
    today = _today(deps, now)
    old = kb.KeyView(  # enough of the old key to name it, from the rotation row (no API call)
        id=rotation.old_key_id,
        name=rotation.old_key_name,
        hint=None,
        workspace=None,
        status="active",
        created=today,
        age_days=0,
        expires=None,
        rotation_due=today,
        days_to_rotation=0,
    )
    return kb.build_rotation_replaced(
        old=old,
        new_name=rotation.new_key_name or "",
        new_id=rotation.new_key_id or "",
        grace_until=f"{grace:%Y-%m-%d %H:%M}",
        rotation_id=rotation.id or 0,
        done_text=done_text,
    )


def _edit_notice(deps: Deps, rotation: KeyRotation, now: datetime, done_text: str) -> None:
    if rotation.notice_channel and rotation.notice_ts:
        try:
            deps.notifier.update(
                Posted(rotation.notice_channel, rotation.notice_ts),
                done_text,
                _replaced_blocks(deps, rotation, now, done_text),
            )
        except SlackApiError as exc:
            logger.info("could not edit the rotation DM: %s", exc.response.get("error"))


def deactivate_old_key(deps: Deps, *, slack_user_id: str, rotation_id: int) -> Reply:
    """The owner's "Deactivate old key" click: owner or admin, once, whatever the grace period says."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id, refresh=True)
    with session_scope(deps.engine) as session:
        rotation = session.get(KeyRotation, rotation_id)
    if rotation is None:
        raise UserError("That rotation no longer exists.")
    if not (actor.is_admin or actor.anthropic_user_id == rotation.owner_anthropic_id):
        raise UserError("Only the key's owner or an admin can deactivate it.")
    if rotation.state == RotationState.COMPLETED:
        raise UserError(f"Already done: the old key `{rotation.old_key_id}` is off.")
    outcome = _deactivate(deps, rotation.old_key_id)
    if outcome == "deactivated":
        outcome = (
            "deactivated_by_owner"
            if actor.anthropic_user_id == rotation.owner_anthropic_id
            else ("deactivated_by_admin")
        )
    with session_scope(deps.engine) as session:
        completed = _complete(session, rotation, outcome=outcome, now=now, actor=actor)
    if not completed:
        raise UserError(f"Already done: the old key `{rotation.old_key_id}` is off.")
    done = f":lock: Old key `{rotation.old_key_id}` deactivated by {actor.mention}. Rotation complete."
    _edit_notice(deps, rotation, now, done)
    return Reply(done)


def adopt_rotation_keys(ctx: JobContext) -> JobResult:
    """For key-adoption: find replacements of open rotations, DM the button, deactivate after the grace period."""
    result = JobResult()
    rotations = ctx.session.exec(
        select(KeyRotation).where(col(KeyRotation.state) != RotationState.COMPLETED).order_by(col(KeyRotation.id))
    ).all()
    for rotation in rotations:
        try:
            if rotation.state == RotationState.WAITING:
                _find_replacement(ctx, rotation, result)
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


def _find_replacement(ctx: JobContext, rotation: KeyRotation, result: JobResult) -> None:
    deps, now, session = ctx.deps, ctx.now, ctx.session
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
    moved = session.execute(
        update(KeyRotation)
        .where(col(KeyRotation.id) == rotation.id, col(KeyRotation.state) == RotationState.WAITING)
        .values(
            state=RotationState.REPLACED,
            new_key_id=new.id,
            new_key_name=new.name[:500],
            replaced_at=now,
            grace_until=now + ROTATION_GRACE,
        )
    )
    if moved.rowcount:  # type: ignore[attr-defined]
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
    target = rotation.owner_slack_id or _reachable(deps, rotation.owner_anthropic_id)
    blocks = _replaced_blocks(deps, rotation, ctx.now)
    text = f"Your replacement key was found; deactivate the old key {escape(rotation.old_key_name)}"
    if ctx.dry_run:
        ctx.out(f"would DM {target or deps.settings.admin_channel_id}: {text}")
        result.sent += 1
        return
    channel = target or deps.settings.admin_channel_id
    if channel is None:
        return
    posted = (
        deps.notifier.direct_message(channel, text, blocks)
        if target
        else deps.notifier.post(
            channel, f"Rotation of {escape(rotation.old_key_name)}: the owner can't be reached in Slack. {text}", blocks
        )
    )
    ctx.session.execute(
        update(KeyRotation)
        .where(col(KeyRotation.id) == rotation.id)
        .values(notice_channel=posted.channel, notice_ts=posted.ts)
    )
    ctx.mark_done(key)
    ctx.session.refresh(rotation)
    result.sent += 1


def _unused_for_a_day(deps: Deps, key_id: str, now: datetime) -> bool:
    """Usage shows no request with the key in the 24 hours up to the data's as-of time (lag-proof)."""
    start = max(now - 2 * UNUSED_BEFORE_DEACTIVATION, ANALYTICS_FLOOR)
    report = deps.admin.usage_report(
        starting_at=start, ending_at=now, bucket_width="1h", group_by=["api_key_id"], api_key_ids=[key_id]
    )
    as_of = min(report.data_refreshed_at or now, now)
    since = as_of - UNUSED_BEFORE_DEACTIVATION
    return not any(row.api_key_id == key_id and _active(row) and row.ending_at > since for row in report.rows)


def _finish_after_grace(ctx: JobContext, rotation: KeyRotation, result: JobResult) -> None:
    deps, now = ctx.deps, ctx.now
    if rotation.grace_until is None or now < rotation.grace_until:
        return
    try:
        old = deps.admin.get_api_key(rotation.old_key_id)
        active = old.status == "active"
    except NotFound:
        active = False
    if active and not _unused_for_a_day(deps, rotation.old_key_id, now):
        result.skipped += 1
        key = f"rotation:{rotation.id}:still-used"
        if rotation.owner_slack_id and not ctx.already_done(key):
            text = (
                f"Your old key `{rotation.old_key_id}` ({escape(rotation.old_key_name)}) was still used in "
                "the last 24 hours, so I haven't deactivated it. Move the last callers to the new key; I "
                "check again every 15 minutes."
            )
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
    if _complete(ctx.session, rotation, outcome=outcome, now=now):
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
        done = (
            f":lock: Old key `{rotation.old_key_id}` deactivated: the grace period is over and it was unused "
            "for 24 hours. Rotation complete."
        )
        if outcome == "already_off":
            done = f"The old key `{rotation.old_key_id}` was already off. Rotation complete."
        _edit_notice(deps, rotation, now, done)
        if rotation.owner_slack_id and not ctx.already_done(f"rotation:{rotation.id}:done"):
            deps.notifier.direct_message(rotation.owner_slack_id, done)
            ctx.mark_done(f"rotation:{rotation.id}:done")
        result.sent += 1


# --------------------------------------------------------------------------------------------------
# Ledger helpers for whole-org jobs: one query per 500 keys, one commit per accepted message
# --------------------------------------------------------------------------------------------------


def _already_done(ctx: JobContext, keys: Iterable[str]) -> set[str]:
    wanted = sorted(set(keys))
    found: set[str] = set()
    for i in range(0, len(wanted), _LEDGER_BATCH):
        batch = wanted[i : i + _LEDGER_BATCH]
        rows = ctx.session.exec(
            select(LedgerEntry.key).where(LedgerEntry.job == ctx.job, col(LedgerEntry.key).in_(batch))
        )
        found.update(rows)
    return found


def _mark_all(ctx: JobContext, keys: Sequence[str]) -> None:
    """`ctx.mark_done` for every notice one accepted message carried: one INSERT and one commit, not one
    savepoint per key (at 17,000 notices that was most of the run)."""
    if ctx.dry_run or not keys:
        return
    try:
        with ctx.session.begin_nested():
            ctx.session.add_all([LedgerEntry(job=ctx.job, key=key, created_at=ctx.now) for key in keys])
    except IntegrityError:  # another run recorded some meanwhile (the lease makes it rare): one by one
        for key in keys:
            repo.ledger_record(session=ctx.session, job=ctx.job, key=key, at=ctx.now)
    ctx.session.commit()


def _is_rate_limited(exc: SlackApiError) -> bool:
    return exc.response.status_code == 429 or exc.response.get("error") == "ratelimited"


@dataclass
class _Outbox:
    """Messages of one run, sent in order; a Slack rate limit stops the run (the next run resumes)."""

    ctx: JobContext
    result: JobResult
    stopped: bool = False

    def send(
        self,
        where: str,
        text: str,
        blocks: list[Any],
        ledger_keys: Sequence[str],
        *,
        dm: bool,
        thread_ts: str | None = None,
    ) -> Posted | None:
        """Post (or print in a dry run), then record `ledger_keys`; None when nothing was sent."""
        if self.stopped:
            return None
        if ledger_keys and not self.ctx.dry_run and set(ledger_keys) <= _already_done(self.ctx, ledger_keys):
            # Re-checked per message: a run that outlives its lease (Slack rate limits can stretch a first run
            # over an org) must not repeat what a second run already sent.
            self.result.skipped += 1
            return None
        if self.ctx.dry_run:
            self.ctx.out(f"would {'DM' if dm else 'post to'} {where}: {text}")
            self.result.sent += 1
            return Posted(where, "dry-run")
        notifier = self.ctx.deps.notifier
        try:
            if dm:
                posted = notifier.direct_message(where, text, blocks)
            else:
                posted = notifier.post(where, text, blocks, thread_ts=thread_ts)
        except SlackApiError as exc:
            self.result.errors.append(f"{where}: Slack {exc.response.get('error')}")
            if _is_rate_limited(exc):
                self.stopped = True
                self.result.errors.append("Slack is rate-limiting the bot: stopped; the next run sends the rest")
            return None
        _mark_all(self.ctx, ledger_keys)
        self.result.sent += 1
        return posted


def _tally(labels: Iterable[str], top: int = 10) -> list[kb.Tally]:
    return [kb.Tally(label, count) for label, count in Counter(labels).most_common(top)]


# --------------------------------------------------------------------------------------------------
# rotation-reminders (daily)
# --------------------------------------------------------------------------------------------------


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
    today = _today(deps, now)
    rotating = open_rotations(session)
    candidates: list[tuple[str, ApiKey, Literal["rotation", "expiry"], int]] = []  # (ledger key, key, kind, left)
    overdue: list[ApiKey] = []
    for key in deps.admin.iter_api_keys(status="active"):
        if effective_status(key, now) != "active":
            continue
        due = rotation_due(key, deps)
        days_left = (due - today).days
        if days_left <= 0:
            overdue.append(key)
        stage = _stage(days_left)
        if stage is not None and key.id not in rotating:
            candidates.append((f"rotation:{key.id}:{due}:{stage}", key, "rotation", days_left))
        if key.expires_at is not None:
            expiry = key.expires_at.astimezone(deps.settings.tz).date()
            left = (expiry - today).days
            if 0 <= left <= EXPIRY_WARNING_DAYS:
                candidates.append((f"expiry:{key.id}:{expiry}:{_stage(left)}", key, "expiry", left))
    done = _already_done(ctx, (c[0] for c in candidates))
    pending = [c for c in candidates if c[0] not in done]
    result.skipped += len(candidates) - len(pending)
    outbox = _Outbox(ctx, result)
    workspaces = workspace_names(deps) if pending or overdue else {}
    if pending:
        owners = Owners(deps, scan=True)
        by_owner: dict[str, list[tuple[str, kb.Notice]]] = {}
        unowned: list[tuple[str, kb.Notice, str]] = []
        for ledger_key, key, kind, left in pending:
            notice = kb.Notice(key_view(key, deps, now, workspaces=workspaces), kind, left)
            try:
                slack_id = owners.slack_id(key.created_by_user_id)
            except SlackApiError as exc:
                result.errors.append(f"owner of {key.id}: Slack {exc.response.get('error')}")
                continue
            if slack_id is None:
                unowned.append((ledger_key, notice, owners.label(key.created_by_user_id)))
            else:
                by_owner.setdefault(slack_id, []).append((ledger_key, notice))
        for slack_id in sorted(by_owner):
            items = by_owner[slack_id]
            text, blocks = kb.build_reminder_dm([n for _, n in items], max_age_days=deps.settings.key_max_age_days)
            outbox.send(slack_id, text, blocks, [k for k, _ in items], dm=True)
        channel = deps.settings.admin_channel_id
        for i in range(0, len(unowned), kb.LISTED_PER_MESSAGE):
            part = unowned[i : i + kb.LISTED_PER_MESSAGE]
            if channel:
                text, blocks = kb.build_unowned_reminders([(n, owner) for _, n, owner in part])
                outbox.send(channel, text, blocks, [k for k, _, _ in part], dm=False)
    _overdue_digest(ctx, outbox, overdue, workspaces)
    result.notes.append(f"{len(pending)} reminder(s) due, {len(overdue)} key(s) overdue")
    return result


def _overdue_digest(ctx: JobContext, outbox: _Outbox, overdue: list[ApiKey], workspaces: dict[str, str]) -> None:
    deps, now = ctx.deps, ctx.now
    channel = deps.settings.admin_channel_id
    week = _week(deps, now)
    ledger_key = f"overdue-digest:{week}"
    if not overdue or channel is None or ctx.already_done(ledger_key):
        return
    oldest = sorted(overdue, key=lambda k: (k.created_at, k.id))[: kb.LISTED_PER_MESSAGE]
    text, blocks = kb.build_overdue_digest(
        total=len(overdue),
        oldest=[key_view(k, deps, now, workspaces=workspaces) for k in oldest],
        by_workspace=_tally(workspaces.get(k.workspace_id or "", "organization-wide") for k in overdue),
        week=week,
        max_age_days=deps.settings.key_max_age_days,
    )
    outbox.send(channel, text, blocks, [ledger_key], dm=False)


# --------------------------------------------------------------------------------------------------
# stale-keys (weekly), with the leaver sweep
# --------------------------------------------------------------------------------------------------


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
    today = _today(deps, now)
    overdue = [k for k in keys if (rotation_due(k, deps) - today).days <= 0]
    return KeyHealth(active=len(keys), leavers=leavers, stale=stale, overdue=overdue, usage_as_of=as_of)


def stale_keys(ctx: JobContext) -> JobResult:
    """Weekly: one admin report (former members' keys first, then keys unused for KEY_STALE_DAYS) with a
    Deactivate button per key, and one DM per owner of a stale key."""
    deps, now = ctx.deps, ctx.now
    result = JobResult()
    owners = Owners(deps, scan=True)
    health = key_health(deps, now, owners.members())
    week = _week(deps, now)
    outbox = _Outbox(ctx, result)
    reported = [(k, True) for k in health.leavers] + [(k, False) for k in health.stale]
    result.notes.append(f"{len(health.leavers)} key(s) of former members, {len(health.stale)} stale")
    workspaces = workspace_names(deps) if reported else {}
    channel = deps.settings.admin_channel_id
    if reported and channel:
        _stale_report(ctx, outbox, reported, health, workspaces, owners, week)
    _stale_owner_dms(ctx, outbox, health.stale, workspaces, owners, week)
    return result


def _stale_report(
    ctx: JobContext,
    outbox: _Outbox,
    reported: list[tuple[ApiKey, bool]],
    health: KeyHealth,
    workspaces: dict[str, str],
    owners: Owners,
    week: str,
) -> None:
    deps, now, session = ctx.deps, ctx.now, ctx.session
    channel = deps.settings.admin_channel_id
    assert channel is not None
    row_keys = {k.id: f"report:{week}:{k.id}" for k, _ in reported}
    done = _already_done(ctx, [*row_keys.values(), f"report:{week}:root"])
    listed = sum(1 for v in row_keys.values() if v in done)
    todo = [(k, leaver) for k, leaver in reported if row_keys[k.id] not in done]
    todo = todo[: max(0, STALE_LISTED_PER_WEEK - listed)]
    root = session.exec(select(KeyReport).where(KeyReport.kind == "stale-keys", KeyReport.period == week)).first()
    if f"report:{week}:root" not in done or root is None:
        text, blocks = kb.build_stale_root(
            leavers=len(health.leavers),
            stale=len(health.stale),
            by_workspace=_tally(workspaces.get(k.workspace_id or "", "organization-wide") for k, _ in reported),
            stale_days=deps.settings.key_stale_days,
            listed=min(len(reported), STALE_LISTED_PER_WEEK),
            week=week,
            as_of=health.usage_as_of,
        )
        posted = outbox.send(channel, text, blocks, [], dm=False)
        if posted is None:
            return
        if not ctx.dry_run:
            session.add(KeyReport(kind="stale-keys", period=week, channel=posted.channel, ts=posted.ts, created_at=now))
            _mark_all(ctx, [f"report:{week}:root"])
        thread_ts = posted.ts
    else:
        thread_ts = root.ts
    for i in range(0, len(todo), kb.LISTED_PER_MESSAGE):
        part = todo[i : i + kb.LISTED_PER_MESSAGE]
        rows = [
            kb.StaleRow(
                key_view(k, deps, now, workspaces=workspaces),
                leaver=leaver,
                owner_text=owners.label(k.created_by_user_id),
            )
            for k, leaver in part
        ]
        text, blocks = kb.build_stale_rows(rows)
        outbox.send(channel, text, blocks, [row_keys[k.id] for k, _ in part], dm=False, thread_ts=thread_ts)


def _stale_owner_dms(
    ctx: JobContext, outbox: _Outbox, stale: list[ApiKey], workspaces: dict[str, str], owners: Owners, week: str
) -> None:
    deps, now = ctx.deps, ctx.now
    ledger = {k.id: f"dm:{week}:{k.id}" for k in stale}
    done = _already_done(ctx, ledger.values())
    by_owner: dict[str, list[ApiKey]] = {}
    for key in stale:
        if ledger[key.id] in done:
            continue
        try:
            slack_id = owners.slack_id(key.created_by_user_id)
        except SlackApiError as exc:
            outbox.result.errors.append(f"owner of {key.id}: Slack {exc.response.get('error')}")
            continue
        if slack_id is not None:  # keys without a reachable owner are in the admin report already
            by_owner.setdefault(slack_id, []).append(key)
    for slack_id in sorted(by_owner):
        keys = by_owner[slack_id]
        views = [key_view(k, deps, now, workspaces=workspaces) for k in keys]
        text, blocks = kb.build_stale_owner_dm(views, stale_days=deps.settings.key_stale_days)
        outbox.send(slack_id, text, blocks, [ledger[k.id] for k in keys], dm=True)


def deactivate_from_report(
    deps: Deps,
    *,
    slack_user_id: str,
    key_id: str,
    channel: str | None,
    ts: str | None,
    blocks: Sequence[dict[str, Any]],
) -> Reply:
    """A Deactivate click in the stale-key report: Admins only, re-checked; the row shows who did it."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id, refresh=True)
    _require_admin(actor, "deactivate keys from the stale-key report")
    key = _get_key(deps, key_id)
    status = effective_status(key, now)
    if status == "active":
        _deactivate_and_audit(deps, key, actor, now, "stale-key report")
    if status != "active":
        outcome = f":information_source: already {status}"
        reply = f"Key `{key.id}` is already {status}; nothing changed."
    else:
        outcome = f":lock: deactivated by {actor.mention}"
        reply = f":lock: Deactivated `{key.id}` ({escape(key.name)})."
    if channel and ts and blocks:
        try:
            new_blocks = kb.replace_row(blocks, kb.stale_block_id(key.id), outcome)
            deps.notifier.update(Posted(channel, ts), f"Stale key {key.id}: {outcome}", new_blocks)
        except SlackApiError as exc:
            logger.info("could not edit the report row: %s", exc.response.get("error"))
    return Reply(reply)


# --------------------------------------------------------------------------------------------------
# /claude-key check <key-id | hint>
# --------------------------------------------------------------------------------------------------


def _hint_core(text: str) -> str:
    return re.sub(r"(\.\.\.|…)", "", text.strip()).removeprefix("sk-ant-api03-").removeprefix("sk-ant-")


def _find_key(deps: Deps, actor: Actor, query: str) -> ApiKey:
    if is_key_id(query):
        return _get_key(deps, query)
    if _SECRET.match(query):
        raise UserError(
            ":rotating_light: That looks like a whole secret key. Never paste keys into Slack: treat it as leaked, "
            f"deactivate it with `{COMMAND} revoke <key-id>` and create a new one. Check with the key id "
            "(`apikey_…`) or its last characters instead."
        )
    core = _hint_core(query)
    if len(core) < 4:
        raise UserError("Give the key id (`apikey_…`) or at least 4 characters of its hint, e.g. `…4f2a`.")
    keys = deps.admin.iter_api_keys() if actor.is_admin else deps.admin.list_api_keys(created_by_user_id=_member(actor))
    matches = [k for k in keys if k.partial_key_hint and core in k.partial_key_hint]
    if not matches:
        mine = "" if actor.is_admin else " among your keys"
        raise UserError(f"No key{mine} has a hint matching `{escape(query)}`. `{COMMAND} keys` lists them.")
    if len(matches) > 1:
        ids = ", ".join(f"`{k.id}`" for k in matches[:10])
        raise UserError(f"{len(matches)} keys match `{escape(query)}`: {ids}. Check one by its id.")
    return matches[0]


def check(deps: Deps, *, slack_user_id: str, query: str) -> Reply:
    """Why does a key fail? Inactive, archived, expired, its workspace archived, a spend limit reached, or
    bursts that hit rate limits; in plain words, with what to do."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    key = _find_key(deps, actor, query)
    if not (actor.is_admin or _owns(actor, key)):
        raise UserError(f"Key `{key.id}` belongs to someone else: its owner or an admin can check it.")
    with session_scope(deps.engine) as session:
        revoked = session.exec(
            select(AuditEvent)
            .where(AuditEvent.subject_id == key.id, AuditEvent.action == "key.revoked")
            .order_by(col(AuditEvent.at).desc())
        ).first()
    findings: list[kb.Finding] = []
    try:
        workspace = deps.admin.get_workspace(key.workspace_id) if key.workspace_id else None
    except NotFound:
        workspace = None
    view = key_view(key, deps, now, workspaces={workspace.id: workspace.name} if workspace else {})
    findings += _status_findings(deps, key, view, now, revoked)
    if workspace is not None and workspace.archived_at is not None:
        findings.append(
            kb.Finding(
                "fail",
                f"its workspace *{escape(workspace.name)}* was archived on "
                f"{workspace.archived_at.astimezone(deps.settings.tz):%Y-%m-%d}.",
                f"Keys of archived workspaces stop working. Ask for access to another workspace with `{COMMAND} "
                "request` and create a key there.",
            )
        )
    as_of: list[datetime] = []
    for what, look in (("spend limits", _spend_findings), ("recent usage", _burst_findings)):
        try:
            findings += look(deps, key, now, as_of)
        except AdminAPIError as exc:  # one check failing must not hide what the others found
            findings.append(kb.Finding("info", f"I couldn't check {what}: {exc.user_message}"))
    if not any(f.severity == "fail" for f in findings):
        findings.append(
            kb.Finding(
                "info",
                "If calls still fail, check how the key is sent.",
                "Copy the whole key (it starts with `sk-ant-api03-` and its hint must match), send it in the "
                "`x-api-key` header to https://api.anthropic.com, and read the error type: `authentication_error` "
                "means a wrong or inactive key, `permission_error` a model or feature the key's workspace can't use, "
                "`rate_limit_error` too much at once (honour `retry-after`), `overloaded_error` try again shortly.",
            )
        )
    text, blocks = kb.build_check(view, findings, as_of=min(as_of, default=None))
    return Reply(text, blocks)


def _status_findings(
    deps: Deps, key: ApiKey, view: kb.KeyView, now: datetime, revoked: AuditEvent | None
) -> list[kb.Finding]:
    status = view.status
    if status == "archived":
        return [
            kb.Finding(
                "fail",
                "it is archived.",
                "Archived keys are off for good. Create a new key in the Claude Console "
                f"({deps.settings.console_url}) and use that instead.",
            )
        ]
    if status == "expired":
        when = f" on {view.expires.isoformat()}" if view.expires else ""
        return [
            kb.Finding(
                "fail",
                f"it expired{when}.",
                "Expiry can't be extended. Create a new key in the Claude Console "
                f"({deps.settings.console_url}), then deactivate this one.",
            )
        ]
    if status == "inactive":
        who = ""
        if revoked is not None:
            who = f" by <@{revoked.actor_slack_id}>" if revoked.actor_slack_id else ""
            who += f" on {revoked.at.astimezone(deps.settings.tz):%Y-%m-%d}"
            who += f" ({escape(revoked.detail)})" if revoked.detail else ""
        return [
            kb.Finding(
                "fail",
                f"it was deactivated{who}.",
                "An inactive key is refused. If that was a mistake, an admin can reactivate it in the "
                "Claude Console; otherwise create a new key.",
            )
        ]
    findings = [kb.Finding("ok", "The key is active.")]
    if view.expires is not None:
        left = (view.expires - _today(deps, now)).days
        if left <= EXPIRY_WARNING_DAYS:
            findings.append(
                kb.Finding(
                    "warn",
                    f"It expires in {left} day(s), on {view.expires.isoformat()}.",
                    "Create its replacement now: expiry can't be extended.",
                )
            )
    if view.days_to_rotation <= 0:
        findings.append(
            kb.Finding("warn", "It is past its rotation date.", f"Rotate it with `{COMMAND} rotate {key.id}`.")
        )
    return findings


def _spend_findings(deps: Deps, key: ApiKey, now: datetime, as_of: list[datetime]) -> list[kb.Finding]:
    """Org or workspace at its monthly spend limit (the limits API is early access; say so when it's off)."""
    try:
        limits = [
            s
            for s in deps.admin.list_spend_limits()
            if s.period == "monthly"
            and s.is_enabled
            and s.amount_usd is not None
            and s.scope_type in {"organization", "usage_tier", "workspace"}
        ]
    except FeatureUnavailable:
        return [
            kb.Finding(
                "info",
                "I can't read spend limits through the API for this organization.",
                "If calls fail with a spend-limit error, an admin can check Console → Settings → Limits.",
            )
        ]
    relevant = [s for s in limits if s.scope_type != "workspace" or s.workspace_id == key.workspace_id]
    if not relevant:
        return []
    report = deps.admin.cost_report(
        starting_at=max(periods.month_start(now, deps.settings.tz), ANALYTICS_FLOOR),
        ending_at=now,
        group_by=["workspace_id"],
    )
    if report.data_refreshed_at is not None:
        as_of.append(report.data_refreshed_at)
    org_total = sum((r.amount_usd for r in report.rows), Decimal(0))
    findings: list[kb.Finding] = []
    for limit in relevant:
        assert limit.amount_usd is not None
        if limit.scope_type == "workspace":
            spent = sum((r.amount_usd for r in report.rows if r.workspace_id == key.workspace_id), Decimal(0))
            whose = "its workspace"
        else:
            spent, whose = org_total, "the organization"
        if spent >= limit.amount_usd:
            findings.append(
                kb.Finding(
                    "fail",
                    f"{whose} has reached its monthly spend limit (${spent:,.2f} of ${limit.amount_usd:,.2f}).",
                    "Calls are refused until the limit is raised or the month ends. Ask an admin "
                    f"(`{COMMAND} budget`) to raise it in the Console.",
                )
            )
        elif spent >= limit.amount_usd * 9 / 10:
            findings.append(
                kb.Finding(
                    "warn",
                    f"{whose.capitalize()} has used {spent / limit.amount_usd:.0%} of its monthly spend limit "
                    f"(${spent:,.2f} of ${limit.amount_usd:,.2f}).",
                )
            )
    return findings


def _burst_findings(deps: Deps, key: ApiKey, now: datetime, as_of: list[datetime]) -> list[kb.Finding]:
    """Minutes in the last 24 hours busy enough to hit rate limits (usage has no 429 counts)."""
    start = max(now - timedelta(hours=24), ANALYTICS_FLOOR)
    report = deps.admin.usage_report(
        starting_at=start, ending_at=now, bucket_width="1m", group_by=["api_key_id"], api_key_ids=[key.id]
    )
    if report.data_refreshed_at is not None:
        as_of.append(report.data_refreshed_at)
    rows = [r for r in report.rows if r.api_key_id == key.id]
    if not rows:
        return []
    busiest = max(rows, key=lambda r: ((r.requests or 0), r.total_tokens))
    requests = max((r.requests or 0) for r in rows)
    tokens = max(r.total_tokens for r in rows)
    if requests < BURST_REQUESTS_PER_MINUTE and tokens < BURST_TOKENS_PER_MINUTE:
        return []
    when = busiest.starting_at.astimezone(deps.settings.tz)
    return [
        kb.Finding(
            "fail",
            f"it was probably rate-limited: its busiest minute in the last 24 hours ({when:%Y-%m-%d %H:%M}) had "
            f"{requests:,} requests and {tokens:,} tokens.",
            "Bursts like this hit per-minute rate limits and get `429 rate_limit_error`. Spread the calls out and "
            "retry after the `retry-after` header; an admin can check the organization's rate limits in the "
            "Console.",
        )
    ]
