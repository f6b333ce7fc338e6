"""The request's two cards: the root message in the admin channel (posted, then edited as the state changes,
with replies in its thread) and the requester's status card (DM'd once, then edited in place; a step that needs
the requester to act is also a reply in the card's thread, so Slack notifies them).

Every message to the requester about a request goes through `tell_requester`. Notices go out after the state
change is committed; a Slack failure is logged and never undoes the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from slack_sdk.errors import SlackApiError

from bot.access.blocks.message import build_request_message, root_text
from bot.access.blocks.status import build_status_card, card_text, default_status
from bot.access.model import RequesterContext
from bot.access.state import get_request, load
from bot.anthropic_admin import AdminAPIError, OrgUser
from bot.core.periods import month_start
from bot.deps import Deps
from bot.slack.notifier import Posted
from storage.db import session_scope
from storage.models import AccessRequest

logger = logging.getLogger(__name__)

_CONTEXT: TypeAdapter[RequesterContext | None] = TypeAdapter(RequesterContext | None)
# Who is in the admin channel, for links only they can open: read every few minutes, not for every message.
MEMBERS_TTL = timedelta(minutes=5)


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


def stored_context(request: AccessRequest) -> tuple[RequesterContext | None, bool]:
    """The requester context kept with the request (None: not an org member), and whether one was kept."""
    if request.requester_context is None:
        return None, False
    return _CONTEXT.validate_json(request.requester_context), True


def post_root(deps: Deps, request_id: int, context: RequesterContext | None, *, known: bool = True) -> AccessRequest:
    """Post the request to the admin channel and remember where; a failure leaves it for request-nudges.

    When `known`, `context` (None: not an org member) is kept with the request, so the card still shows it after
    the decision; a later post (request-nudges) passes `known=False` and shows what was kept.
    """
    channel = deps.settings.admin_channel_id
    with session_scope(deps.engine) as session:
        request = get_request(session=session, request_id=request_id)
        if known:
            request.requester_context = _CONTEXT.dump_json(context).decode()
            session.add(request)
        if request.admin_message_ts or not channel:
            return request
        kept, shown = stored_context(request)
        blocks = build_request_message(request, kept, show_context=shown, tz=deps.settings.tz)
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


def refresh_root(deps: Deps, request: AccessRequest) -> None:
    """Edit the root message to show the state (and lose its buttons once decided), keeping the requester's
    context as it was when they asked."""
    if not (request.admin_channel_id and request.admin_message_ts):
        return
    context, shown = stored_context(request)
    blocks = build_request_message(request, context, show_context=shown, tz=deps.settings.tz)
    posted = Posted(channel=request.admin_channel_id, ts=request.admin_message_ts)
    safely("update the request message", lambda: deps.notifier.update(posted, root_text(request), blocks))


def thread_reply(deps: Deps, request: AccessRequest, text: str) -> None:
    """A reply in the request's thread (or the admin channel when the root message is missing)."""
    channel = request.admin_channel_id or deps.settings.admin_channel_id
    if channel:
        safely(
            "reply in the request thread", lambda: deps.notifier.post(channel, text, thread_ts=request.admin_message_ts)
        )


def in_admin_channel(deps: Deps, slack_user_id: str) -> bool:
    """Whether the person is in the admin channel (cached for minutes; False when Slack can't tell)."""
    channel = deps.settings.admin_channel_id
    if not channel:
        return False

    def load() -> frozenset[str]:
        members: list[str] = []
        cursor: str | None = None
        while True:
            page = deps.slack.conversations_members(channel=channel, limit=1000, cursor=cursor)
            members += page.get("members") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return frozenset(members)

    found: frozenset[str] | None = safely(
        "list the admin channel's members",
        lambda: deps.cache.get_or_load(("admin-channel-members", channel), deps.clock(), load, ttl=MEMBERS_TTL),
    )
    return found is not None and slack_user_id in found


def link_for(deps: Deps, request: AccessRequest, slack_user_id: str) -> str | None:
    """A link to the request's thread for someone who can open it (a member of the admin channel), else None."""
    if not (request.admin_channel_id and request.admin_message_ts) or not in_admin_channel(deps, slack_user_id):
        return None
    return thread_link(deps, request)


def _remember_card(deps: Deps, request_id: int, channel: str, ts: str) -> None:
    with session_scope(deps.engine) as session:
        stored = get_request(session=session, request_id=request_id)
        if stored.dm_message_ts is None:
            stored.dm_channel_id, stored.dm_message_ts = channel, ts
            session.add(stored)


def tell_requester(
    deps: Deps, request: AccessRequest, *, status: str | None = None, reply: str | None = None, edit: bool = True
) -> None:
    """The one way the requester hears about their request: the status card, DM'd the first time and edited in
    place after that, saying `status` (default: a sentence for the request's state); `reply`, for a step that needs
    them to act, also goes into the card's thread so Slack notifies them. `edit=False`: only the reply (a reminder
    changes nothing on the card), unless there is no card yet."""
    request_id = request.id or 0
    now = load(deps, request_id)  # the card's ts, and whether a later step has moved the request on meanwhile
    card = Posted(channel=now.dm_channel_id, ts=now.dm_message_ts) if now.dm_channel_id and now.dm_message_ts else None
    # An edit for a state the request has left would put an older step back over a newer one: skip it.
    if (edit or card is None) and now.state == request.state:
        sentence = status or default_status(request)
        blocks = build_status_card(request, sentence, admin_link=link_for(deps, request, request.requester_slack_id))
        text = card_text(request, sentence)
        if card is None:
            card = safely("DM the requester", lambda: deps.notifier.dm(request.requester_slack_id, text, blocks))
            if card is not None:
                _remember_card(deps, request_id, card.channel, card.ts)
        else:
            posted = card
            safely("DM the requester (edit the card)", lambda: deps.notifier.update(posted, text, blocks))
    if reply is None:
        return
    if card is None:  # no card (Slack refused it): the reply alone still reaches them
        safely("DM the requester", lambda: deps.notifier.dm(request.requester_slack_id, reply))
        return
    where = card
    safely(
        "DM the requester (reply under the card)",
        lambda: deps.notifier.post(where.channel, reply, thread_ts=where.ts),
    )


def update(
    deps: Deps, request: AccessRequest, *, thread: str, status: str | None = None, reply: str | None = None
) -> None:
    """After a state change: the thread reply, the edited root message, and the requester's edited card (with
    `reply` in its thread when they have something to do)."""
    thread_reply(deps, request, thread)
    refresh_root(deps, request)
    tell_requester(deps, request, status=status, reply=reply)


def post_in_channel(deps: Deps, request: AccessRequest, text: str) -> None:
    """A message in the admin channel itself, not the thread (raises when Slack refuses it)."""
    deps.notifier.post(request.admin_channel_id or deps.settings.admin_channel_id or "", text)


def thread_link(deps: Deps, request: AccessRequest) -> str | None:
    """A link to the request's thread (for admins: people outside the admin channel get `link_for`'s None)."""
    if not (request.admin_channel_id and request.admin_message_ts):
        return None
    channel, ts = request.admin_channel_id, request.admin_message_ts
    link: str | None = safely("build a permalink", lambda: deps.notifier.permalink(channel, ts))
    return link
