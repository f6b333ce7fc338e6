"""The request's card in the admin channel: the root message (posted, then edited as the state changes),
replies in its thread, and DMs to the requester.

Notices go out after the state change is committed; a Slack failure is logged and never undoes the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.access.blocks.message import build_request_message, root_text
from bot.access.model import RequesterContext
from bot.access.state import get_request
from bot.anthropic_admin import AdminAPIError, OrgUser
from bot.core.periods import month_start
from bot.deps import Deps
from bot.slack.notifier import Posted
from storage.db import session_scope
from storage.models import AccessRequest

logger = logging.getLogger(__name__)


def safely(what: str, fn: Callable[[], Any]) -> Any:
    """`fn()`, or None when Slack (or anything else) failed: logged, never raised."""
    try:
        return fn()
    except SlackApiError as exc:
        logger.warning("could not %s: %s", what, exc.response.get("error"))
    except Exception as exc:
        logger.warning("could not %s: %s", what, type(exc).__name__)
    return None


def requester_context(deps: Deps, org_user: OrgUser | None) -> RequesterContext | None:
    """The requester's org role, current keys and month-to-date spend, as far as the API can tell."""
    if org_user is None:
        return None
    keys: list[tuple[str, str | None]] | None = None
    spend: Decimal | None = None
    as_of: datetime | None = None
    try:
        found = deps.admin.list_api_keys(created_by_user_id=org_user.id, status="active")
        keys = [(k.name, k.partial_key_hint) for k in found]
        now = deps.clock()
        if found:
            report = deps.admin.cost_report(
                starting_at=month_start(now, deps.settings.tz), ending_at=now, api_key_ids=[k.id for k in found]
            )
            spend, as_of = sum((row.amount_usd for row in report.rows), Decimal(0)), report.data_refreshed_at
        else:
            spend = Decimal(0)
    except AdminAPIError as exc:
        logger.info("requester context unavailable: %s", type(exc).__name__)
    return RequesterContext(org_role=org_user.role, keys=keys, month_to_date_usd=spend, data_as_of=as_of)


def post_root(deps: Deps, request_id: int, context: RequesterContext | None) -> AccessRequest:
    """Post the request to the admin channel and remember where; a failure leaves it for request-nudges."""
    channel = deps.settings.admin_channel_id
    with session_scope(deps.engine) as session:
        request = get_request(session=session, request_id=request_id)
        if request.admin_message_ts or not channel:
            return request
        blocks = build_request_message(request, context, tz=deps.settings.tz)
        try:
            posted = deps.notifier.post(channel, root_text(request), blocks)
        except SlackApiError as exc:
            logger.error(
                "could not post request #%s to the admin channel: %s (invite the bot to ADMIN_CHANNEL_ID)",
                request_id,
                exc.response.get("error"),
            )
            return request
        except Exception as exc:  # the request is filed; request-nudges posts it later
            logger.error("could not post request #%s to the admin channel: %s", request_id, type(exc).__name__)
            return request
        request.admin_channel_id, request.admin_message_ts = posted.channel, posted.ts
        session.add(request)
    return request


def refresh_root(deps: Deps, request: AccessRequest, context: RequesterContext | None = None) -> None:
    """Edit the root message to show the state (and lose its buttons once decided)."""
    if not (request.admin_channel_id and request.admin_message_ts):
        return
    # The requester's keys and spend were a snapshot for the decision; an edit without them drops the section
    # rather than showing a stale or wrong one.
    blocks = build_request_message(request, context, show_context=context is not None, tz=deps.settings.tz)
    posted = Posted(channel=request.admin_channel_id, ts=request.admin_message_ts)
    safely("update the request message", lambda: deps.notifier.update(posted, root_text(request), blocks))


def thread_reply(deps: Deps, request: AccessRequest, text: str) -> None:
    """A reply in the request's thread (or the admin channel when the root message is missing)."""
    channel = request.admin_channel_id or deps.settings.admin_channel_id
    if channel:
        safely(
            "reply in the request thread", lambda: deps.notifier.post(channel, text, thread_ts=request.admin_message_ts)
        )


def dm_requester(deps: Deps, request: AccessRequest, text: str) -> None:
    """A DM to the requester."""
    safely("DM the requester", lambda: deps.notifier.dm(request.requester_slack_id, text))


def update(deps: Deps, request: AccessRequest, *, thread: str, dm: str | None = None) -> None:
    """After a state change: the thread reply, the edited root message, and the requester's DM (if any)."""
    thread_reply(deps, request, thread)
    refresh_root(deps, request)
    if dm is not None:
        dm_requester(deps, request, dm)


def post_in_channel(deps: Deps, request: AccessRequest, text: str) -> None:
    """A message in the admin channel itself, not the thread (raises when Slack refuses it)."""
    deps.notifier.post(request.admin_channel_id or deps.settings.admin_channel_id or "", text)


def thread_link(deps: Deps, request: AccessRequest) -> str | None:
    """A link to the request's thread."""
    if not (request.admin_channel_id and request.admin_message_ts):
        return None
    channel, ts = request.admin_channel_id, request.admin_message_ts
    link: str | None = safely("build a permalink", lambda: deps.notifier.permalink(channel, ts))
    return link
