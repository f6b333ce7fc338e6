"""The App Home tab: your keys (with rotation status), your open requests, your month-to-date usage; for
Admins, pending approvals and the org's key backlog (summaries, cached briefly: a scan of thousands of keys
should not run on every tab open)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot import keys
from bot.access.blocks import message
from bot.access.model import OPEN_STATES
from bot.anthropic_admin import AdminAPIError, ApiKey
from bot.core.errors import SORRY
from bot.deps import Deps
from bot.home.blocks import ADMIN_ITEMS_SHOWN, build_home
from bot.home.model import AdminHome, HomeData, RequestItem
from bot.identity import Actor, IdentityError, resolve_actor
from bot.keys.model import KeyView
from bot.slack.reply import Reply
from bot.spend import usage
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AccessRequest, RequestState

logger = logging.getLogger(__name__)

# Admins' key backlog is one scan of every active key plus usage: reused for this long across tab opens.
HEALTH_TTL = timedelta(minutes=10)


def publish_home(deps: Deps, slack_user_id: str) -> None:
    """Build and publish one user's Home tab; never raises (an event listener has nobody to answer)."""
    try:
        blocks = build_home(home_data(deps, slack_user_id))
    except Exception as exc:
        logger.error("home tab failed: %s", type(exc).__name__, exc_info=exc)
        blocks = build_home(HomeData(updated=deps.clock(), problem=SORRY))
    try:
        deps.notifier.publish_home(slack_user_id, blocks)
    except SlackApiError as exc:
        logger.warning("views.publish failed: %s", exc.response.get("error"))


def _request_item(request: AccessRequest) -> RequestItem:
    return RequestItem(
        id=request.id or 0,
        state=request.state,
        workspace=request.workspace_name,
        created=request.created_at,
        requester_slack_id=request.requester_slack_id,
        what=message.plain_what(request),
        requester_handle=request.requester_handle,
    )


def home_data(deps: Deps, slack_user_id: str) -> HomeData:
    """What the user's Home shows; failures of one section are explained in that section."""
    now = deps.clock()
    local_now = now.astimezone(deps.settings.tz)
    base: dict[str, Any] = {
        "updated": local_now,
        "console_url": deps.settings.console_url,
        "tz_name": deps.settings.timezone,
    }
    try:
        actor = resolve_actor(deps, slack_user_id)
    except (IdentityError, AdminAPIError) as exc:
        return HomeData(problem=exc.user_message, **base)
    with session_scope(deps.engine) as session:  # database reads only: no connection held during API calls
        mine = repo.requests_of(session=session, requester_slack_id=slack_user_id, states=OPEN_STATES)
        requests = [_request_item(r) for r in mine]
        pending = _pending(session) if actor.is_admin else None
    my_keys, total, problem = _my_keys(deps, actor, now)
    admin = _admin_home(deps, now, pending) if pending is not None else None
    return HomeData(
        member=actor.anthropic_user_id is not None,
        keys=my_keys,
        keys_total=total,
        keys_problem=problem,
        requests=requests,
        requests_total=len(requests),
        usage_line=_usage_line(deps, actor),
        admin=admin,
        **base,
    )


def _pending(session: Session) -> tuple[int, list[RequestItem]]:
    count, oldest = repo.waiting(session=session, state=RequestState.PENDING, oldest=5)
    return count, [_request_item(r) for r in oldest]


def _my_keys(deps: Deps, actor: Actor, now: datetime) -> tuple[list[KeyView], int, str | None]:
    if actor.anthropic_user_id is None:
        return [], 0, None
    try:
        mine = [
            k
            for k in deps.admin.list_api_keys(created_by_user_id=actor.anthropic_user_id)
            if keys.effective_status(k, now) == "active"
        ]
        workspaces = keys.workspace_names(deps) if mine else {}
    except AdminAPIError as exc:
        return [], 0, f"I couldn't load your keys: {exc.user_message}"
    mine.sort(key=lambda k: (k.created_at, k.id))  # oldest first: the next to rotate
    with session_scope(deps.engine) as session:
        rotating = keys.open_rotations(session, (k.id for k in mine))
    views = [keys.key_view(k, deps, now, workspaces=workspaces, rotating=k.id in rotating) for k in mine]
    return views, len(views), None


def _usage_line(deps: Deps, actor: Actor) -> str | None:
    """The month-to-date spend line, when there is data."""
    try:
        line = usage.home_usage_line(deps, actor)
    except Exception as exc:  # usage is a nice-to-have on Home: never let it break the tab
        logger.info("home usage line failed: %s", type(exc).__name__)
        return None
    return str(line) if line else None


def _health(deps: Deps, now: datetime) -> keys.KeyHealth:
    def scan() -> keys.KeyHealth:
        return keys.key_health(deps, now, keys.Owners(deps, scan=True).members())

    return deps.cache.get_or_load(("home", "key-health"), now, scan, ttl=HEALTH_TTL)


def _admin_home(deps: Deps, now: datetime, pending: tuple[int, list[RequestItem]]) -> AdminHome:
    count, oldest = pending
    try:
        health = _health(deps, now)
        workspaces = keys.workspace_names(deps)
    except AdminAPIError as exc:
        return AdminHome(pending=count, pending_oldest=oldest, problem=f"I couldn't scan the keys: {exc.user_message}")

    def views(items: list[ApiKey]) -> list[KeyView]:
        return [keys.key_view(k, deps, now, workspaces=workspaces) for k in items[:ADMIN_ITEMS_SHOWN]]

    return AdminHome(
        pending=count,
        pending_oldest=oldest,
        active_keys=health.active,
        overdue=len(health.overdue),
        overdue_oldest=views(health.overdue),
        stale=len(health.stale),
        stale_oldest=views(health.stale),
        leavers=len(health.leavers),
        leavers_oldest=views(health.leavers),
        stale_days=deps.settings.key_stale_days,
        as_of=health.usage_as_of.astimezone(deps.settings.tz) if health.usage_as_of else None,
    )


def decision_answer(deps: Deps, request_id: int) -> Reply:
    """What an admin who decided on a request from the Home tab is told (the admin-channel card and thread say
    the rest): the request and where it stands now."""
    with session_scope(deps.engine) as session:
        request = session.get(AccessRequest, request_id)
        if request is None:
            return Reply(text=f"Request #{request_id} is gone.")
        state = message.STATE_LABELS.get(request.state, request.state)
        text = f"{message.request_summary(request)}\n*State:* {state}"
    return Reply(text=text)
