"""conversations.open, conversations.info and conversations.members."""

from __future__ import annotations

from bot.sandbox.slack.args import decode_cursor, encode_cursor, opt_str, truthy
from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.records import Json
from bot.sandbox.slack.render import channel_json
from bot.sandbox.slack.state import SlackState

# Each handler runs with the stand-in's lock held, after auth, scope and required-argument checks (api.py).


def conversations_open(s: SlackState, args: Json) -> Json:
    """conversations.open: a DM with one user or a group DM with several."""
    if opt_str(args.get("channel")):
        channel = s._find_channel(str(args["channel"]))
        if not (channel.is_im or channel.is_mpim):
            raise SlackError("method_not_supported_for_channel_type")
        existed = True
    else:
        user_ids = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not user_ids:
            raise SlackError("users_list_not_supplied")
        if len(user_ids) > 8:
            raise SlackError("too_many_users")
        for user_id in user_ids:
            user = s._users.get(user_id)
            if user is None:
                raise SlackError("user_not_found")
            if user.deleted:
                raise SlackError("user_disabled")
        if len(user_ids) == 1:
            channel, existed = s._open_dm(user_ids[0])
        else:
            channel, existed = s._open_mpim(user_ids)
    result: Json = {"channel": channel_json(s, channel) if truthy(args.get("return_im")) else {"id": channel.id}}
    if existed:
        result.update(no_op=True, already_open=True)
    return result


def conversations_info(s: SlackState, args: Json) -> Json:
    """conversations.info for a channel the bot can see."""
    channel = s._visible_channel(str(args["channel"]))
    return {"channel": channel_json(s, channel, num_members=truthy(args.get("include_num_members")))}


def conversations_members(s: SlackState, args: Json) -> Json:
    """conversations.members, paged by cursor."""
    channel = s._visible_channel(str(args["channel"]))
    try:
        limit = int(args.get("limit") or 100)
    except ValueError as exc:
        raise SlackError("invalid_limit") from exc
    if not 1 <= limit <= 1000:
        raise SlackError("invalid_limit")
    cursor = opt_str(args.get("cursor"))
    offset = decode_cursor(cursor) if cursor else 0
    members = s._members(channel)
    end = offset + limit
    next_cursor = encode_cursor(end) if end < len(members) else ""
    return {"members": members[offset:end], "response_metadata": {"next_cursor": next_cursor}}
