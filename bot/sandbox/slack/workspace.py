"""auth.test, apps.connections.open, users.info, users.lookupByEmail and usergroups.users.list."""

from __future__ import annotations

import uuid

from bot.sandbox.slack.args import decode_cursor, encode_cursor, opt_str
from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.records import EPOCH, Json, User
from bot.sandbox.slack.render import user_json
from bot.sandbox.slack.state import SlackState

# Each handler runs with the stand-in's lock held, after auth, scope and required-argument checks (api.py).


def auth_test(s: SlackState, args: Json) -> Json:
    """auth.test: the bot's identity."""
    return {
        "url": "https://standin.slack.com/",
        "team": s.team_name,
        "user": s.bot_name,
        "team_id": s.team_id,
        "user_id": s.bot_user_id,
        "bot_id": s.bot_id,
        "is_enterprise_install": False,
    }


def apps_connections_open(s: SlackState, args: Json) -> Json:
    """apps.connections.open (app token): the Socket Mode URL."""
    url = s.socket_mode_url or f"ws://{s.root_url.removeprefix('http://')}/link/?ticket={uuid.uuid4()}"
    return {"url": url}


def users_info(s: SlackState, args: Json) -> Json:
    """users.info."""
    user = s._users.get(str(args["user"]))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user_json(s, user)}


#: Slack pages users.list at most this many a call; a workspace larger than this needs ``limit``.
USERS_PAGE_MAX = 1000
#: Every workspace has Slackbot; users.list lists it (``is_bot`` false, as Slack serves it).
SLACKBOT = User("USLACKBOT", "slackbot", "Slackbot", None, False, False, "America/Los_Angeles")


def users_list(s: SlackState, args: Json) -> Json:
    """users.list: everyone, deleted people and bots included, paged by cursor (``limit`` ≤ 1,000)."""
    members = [SLACKBOT, *sorted(s._users.values(), key=lambda u: u.id)]
    try:
        limit = int(args.get("limit") or 0)
    except ValueError as exc:
        raise SlackError("invalid_arguments") from exc
    if limit <= 0:
        if len(members) > USERS_PAGE_MAX:
            raise SlackError("limit_required")
        limit = len(members)
    limit = min(limit, USERS_PAGE_MAX)
    cursor = opt_str(args.get("cursor"))
    offset = decode_cursor(cursor) if cursor else 0
    end = offset + limit
    page = [user_json(s, user) for user in members[offset:end]]
    next_cursor = encode_cursor(end) if end < len(members) else ""
    return {"members": page, "cache_ts": EPOCH, "response_metadata": {"next_cursor": next_cursor}}


def users_lookup_by_email(s: SlackState, args: Json) -> Json:
    """users.lookupByEmail (deleted users are not found)."""
    email = str(args["email"]).strip().lower()
    for user in s._users.values():
        if user.email and user.email.lower() == email and not user.deleted:
            return {"user": user_json(s, user)}
    raise SlackError("users_not_found")


def usergroups_users_list(s: SlackState, args: Json) -> Json:
    """usergroups.users.list (not on free plans)."""
    if not s.usergroups_enabled:
        raise SlackError("plan_upgrade_required")
    members = s._usergroups.get(str(args["usergroup"]))
    if members is None:
        raise SlackError("no_such_subteam")
    return {"users": list(members)}
