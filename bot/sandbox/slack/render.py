"""Messages, conversations and users as the Web API serves them."""

from __future__ import annotations

import copy
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.sandbox.slack.records import EPOCH, Channel, Json, StoredMessage, User
from bot.sandbox.slack.state import SlackState


def tz_fields(tz: str) -> tuple[str, int]:
    """The ``tz_label`` and ``tz_offset`` of a time zone now (UTC when unknown)."""
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", 0
    offset = now.utcoffset()
    return now.tzname() or tz, int(offset.total_seconds()) if offset else 0


def message_json(s: SlackState, message: StoredMessage) -> Json:
    """A message as served."""
    data: Json = {"user": message.user, "type": "message", "ts": message.ts, "text": message.text or ""}
    if message.bot_id:
        data.update(
            bot_id=message.bot_id,
            app_id=s.app_id,
            team=s.team_id,
            bot_profile={"id": message.bot_id, "app_id": s.app_id, "name": s.bot_name, "deleted": False},
        )
    for key in ("blocks", "attachments", "thread_ts", "metadata"):
        value = getattr(message, key)
        if value:
            data[key] = copy.deepcopy(value)
    if message.edits:
        data["edited"] = {"user": message.user, "ts": message.ts}
    if message.reactions:
        data["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)} for name, users in message.reactions.items()
        ]
    return data


def channel_json(s: SlackState, channel: Channel, *, num_members: bool = False) -> Json:
    """A conversation as served."""
    created = EPOCH
    if channel.is_im:
        data: Json = {
            "id": channel.id,
            "created": created,
            "is_archived": False,
            "is_im": True,
            "is_org_shared": False,
            "context_team_id": s.team_id,
            "updated": created * 1000,
            "user": channel.im_user,
            "is_user_deleted": False,
            "priority": 0,
        }
    else:
        data = {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_mpim,
            "is_group": False,
            "is_im": False,
            "is_mpim": channel.is_mpim,
            "is_private": channel.is_private,
            "created": created,
            "is_archived": channel.is_archived,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": False,
            "is_frozen": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": s.team_id,
            "updated": created * 1000,
            "parent_conversation": None,
            "creator": "",
            "is_ext_shared": False,
            "shared_team_ids": [s.team_id],
            "pending_connected_team_ids": [],
            "is_member": channel.bot_is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }
    if num_members:
        data["num_members"] = len(s._members(channel))
    return data


def user_json(s: SlackState, user: User) -> Json:
    """A user as served (the email only with ``users:read.email``)."""
    tz_label, tz_offset = tz_fields(user.tz)
    profile: Json = {
        "avatar_hash": "g000standin",
        "status_text": "",
        "status_emoji": "",
        "real_name": user.real_name,
        "display_name": user.name,
        "real_name_normalized": user.real_name,
        "display_name_normalized": user.name,
        "image_24": "https://standin.invalid/avatar_24.png",
        "image_48": "https://standin.invalid/avatar_48.png",
        "image_72": "https://standin.invalid/avatar_72.png",
        "team": s.team_id,
    }
    if user.email and "users:read.email" in s.scopes:
        profile["email"] = user.email
    if user.is_bot:
        profile["bot_id"] = s.bot_id if user.id == s.bot_user_id else f"B{user.id[1:]}"
    return {
        "id": user.id,
        "team_id": s.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "profile": profile,
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "updated": EPOCH,
        "is_app_user": False,
        "has_2fa": False,
    }
