"""What the Slack stand-in records and stores: calls, response_url posts, messages, uploads, the directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

#: The Unix time the stand-in's timestamps, trigger ids and view hashes count from.
EPOCH = 1_700_000_000


@dataclass
class SlackCall:
    """One request to ``/api/<method>`` and how it was answered."""

    method: str
    body: Json
    raw: Json
    headers: dict[str, str]
    status: int
    http_method: str = "POST"
    response: Any = None


@dataclass
class ResponseCall:
    """One POST to a ``response_url`` issued by :meth:`SlackStandIn.new_response_url`."""

    url_id: str
    body: Json
    status: int = 200
    answer: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StoredMessage:
    """A message in a channel: posted by the bot or seeded with :meth:`SlackStandIn.add_message`."""

    channel: str
    ts: str
    user: str
    text: str | None = None
    blocks: list[Any] | None = None
    attachments: list[Any] | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    metadata: Any = None
    bot_id: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    #: Earlier versions ({"text", "blocks", "attachments"}), oldest first, one per chat.update.
    edits: list[Json] = field(default_factory=list)


@dataclass
class StoredEphemeral:
    """An ephemeral message (only its recipient sees it; it cannot be updated)."""

    channel: str
    user: str
    message_ts: str
    text: str | None = None
    blocks: list[Any] | None = None
    attachments: list[Any] | None = None
    thread_ts: str | None = None


@dataclass
class StoredUpload:
    """A file from ``files.getUploadURLExternal`` on; ``data`` is None until the bytes arrive."""

    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    data: bytes | None = None
    completed: bool = False
    title: str | None = None
    channel_id: str | None = None
    channels: list[str] = field(default_factory=list)
    thread_ts: str | None = None
    initial_comment: str | None = None


@dataclass
class User:
    """A person (or bot) in the stand-in's directory."""

    id: str
    name: str
    real_name: str
    email: str | None
    deleted: bool
    is_bot: bool
    tz: str


@dataclass
class Channel:
    """A channel, private channel, DM or group DM."""

    id: str
    name: str
    is_private: bool = False
    members: list[str] = field(default_factory=list)
    bot_is_member: bool = True
    is_archived: bool = False
    is_im: bool = False
    is_mpim: bool = False
    im_user: str | None = None


@dataclass
class Trigger:
    """A trigger id: single use, valid for a few seconds."""

    minted_at: float
    user_id: str | None
    view_id: str | None
    used: bool = False


@dataclass
class ResponseUrl:
    """A response_url: when it was issued and how often it was used."""

    created_at: float
    uses: int = 0
