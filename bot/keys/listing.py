"""`/claude-key keys [mine | all | @user]`: a page of keys with owners (for admins) and last-used dates."""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import date

from slack_sdk.errors import SlackApiError

from bot.anthropic_admin import AdminAPIError, OrgUser
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import resolve_actor
from bot.keys import messages as msg
from bot.keys.activity import LAST_USED_WINDOW_DAYS, last_used_dates
from bot.keys.common import effective_status, key_view, member_id, open_rotations, require_admin, workspace_names
from bot.keys.model import KEYS_PER_PAGE, KeyList, KeyScope, KeysPageRef, Owner
from storage.db import session_scope

logger = logging.getLogger(__name__)

_STATUS_ORDER = {"active": 0, "expired": 1, "inactive": 2, "archived": 3}


def list_keys(
    deps: Deps, *, slack_user_id: str, scope: KeyScope, target_slack_id: str | None = None, page: int = 0
) -> KeyList:
    """A page of keys: the caller's own, or (admins) everyone's or one person's."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    owner_emails: dict[str, str] | None = None
    person: str | None = None
    if scope == "mine":
        keys = deps.admin.list_api_keys(created_by_user_id=member_id(actor))
    elif scope == "all":
        require_admin(deps, actor, "list everyone's keys")
        keys = deps.admin.list_api_keys()
        owner_emails = {u.id: u.email for u in deps.admin.list_users()}
    else:
        require_admin(deps, actor, "list other people's keys")
        if not target_slack_id:
            raise UserError(msg.KEYS_OF_WHOM)
        found = org_user_for_slack(deps, target_slack_id)
        keys = deps.admin.list_api_keys(created_by_user_id=found.id)
        person = found.email
    shown = [k for k in keys if k.status != "archived"]
    shown.sort(key=lambda k: (_STATUS_ORDER.get(effective_status(k, now), 9), k.created_at, k.id))
    pages = max(1, math.ceil(len(shown) / KEYS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = shown[page * KEYS_PER_PAGE : (page + 1) * KEYS_PER_PAGE]
    with session_scope(deps.engine) as session:
        rotating = open_rotations(session, (k.id for k in chunk))
    listing = KeyList(
        scope=scope,
        views=[],
        page=page,
        pages=pages,
        total=len(shown),
        archived_hidden=len(keys) - len(shown),
        nav=KeysPageRef(s=scope, u=target_slack_id, p=page),
        activity_as_of=None,
        activity_window_days=LAST_USED_WINDOW_DAYS,
        console_url=deps.settings.console_url,
        person=person,
    )
    if scope == "mine" and not shown:
        return listing
    workspaces = workspace_names(deps) if chunk else {}
    try:
        last_used, as_of = last_used_dates(deps, [k.id for k in chunk], now)
        known: dict[str, date] | None = last_used
    except AdminAPIError as exc:  # usage is a nice-to-have here; the list still answers
        logger.info("last-used lookup failed: %s", type(exc).__name__)
        known, as_of = None, None

    def owner(created_by: str | None) -> Owner | None:
        if owner_emails is None:
            return None
        return Owner(user_id=created_by, email=owner_emails.get(created_by or ""))

    views = [
        key_view(
            k,
            deps,
            now,
            workspaces=workspaces,
            rotating=k.id in rotating,
            last_used=known,
            owner=owner(k.created_by_user_id),
        )
        for k in chunk
    ]
    local_as_of = as_of.astimezone(deps.settings.tz) if as_of else None  # date tokens' fallback in TIMEZONE
    return replace(listing, views=views, activity_as_of=local_as_of)


def org_user_for_slack(deps: Deps, slack_user_id: str) -> OrgUser:
    """The org member behind a Slack user (by email), or a refusal."""
    try:
        email = deps.notifier.user_email(slack_user_id)
    except SlackApiError:
        raise UserError(msg.slack_lookup_failed(slack_user_id)) from None
    person = deps.admin.find_user_by_email(email) if email else None
    if person is None:
        raise UserError(msg.no_member_keys(slack_user_id))
    return person
