"""The Slack stand-in's state: its identity, knobs, directory, messages, views and traffic, behind one lock.

Method handlers (``chat``, ``conversations``, ``views`` ...) run against a :class:`SlackState` with its lock
held; the helpers here assume that too.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable

from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.faults import Fault
from bot.sandbox.slack.ratelimit import RateLimiter
from bot.sandbox.slack.records import (
    EPOCH,
    Channel,
    Json,
    ResponseCall,
    ResponseUrl,
    SlackCall,
    StoredEphemeral,
    StoredMessage,
    StoredUpload,
    Trigger,
    User,
)
from bot.sandbox.slack.transport import Server

#: The bot scopes granted by default: the bot's manifest plus what the other implemented methods need.
DEFAULT_SCOPES = frozenset(
    {
        "channels:read",
        "chat:write",
        "commands",
        "files:write",
        "groups:read",
        "im:read",
        "im:write",
        "reactions:write",
        "usergroups:read",
        "users:read",
        "users:read.email",
    }
)


class SlackState:
    """What the stand-in knows; see :class:`bot.sandbox.slack.standin.SlackStandIn` for the public surface."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin-token",
        app_token: str = "xapp-standin-token",
        team_id: str = "T0STANDIN",
        bot_user_id: str = "U0BOT",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B0STANDIN"
        self.app_id = "A0STANDIN"
        self.bot_name = "claude-key-bot"
        self.team_name = "Stand-in Workspace"

        #: Bot scopes granted to ``bot_token`` (reported in ``x-oauth-scopes``; enforced per method).
        self.scopes: set[str] = set(DEFAULT_SCOPES)
        #: False: posting to a user (``channel=U…``) or a bot DM fails ``messages_tab_disabled``.
        self.messages_tab_enabled = True
        #: False: ``views.publish`` fails ``not_enabled``.
        self.home_tab_enabled = True
        #: False: ``usergroups.users.list`` fails ``plan_upgrade_required`` (free plans).
        self.usergroups_enabled = True
        #: Seconds slept before answering every request.
        self.latency = 0.0
        #: True: enforce Slack's rate-limit tiers (ratelimit.py), a minute lasting ``60 * time_scale`` seconds.
        #: Off by default: most tests are about something else and make calls faster than any real client would.
        self.tiers = False
        self.time_scale = 1.0
        self.rate_limiter = RateLimiter()
        #: Seconds a trigger id stays valid.
        self.trigger_ttl = 3.0
        #: Seconds a response_url stays valid, and how many posts it takes.
        self.response_url_ttl = 1800.0
        self.response_url_max_uses = 5
        #: Time source for trigger and response_url expiry; replace it to control time in tests.
        self.clock: Callable[[], float] = time.monotonic
        #: ws URL returned by ``apps.connections.open`` (default: a ``/link`` URL on this server).
        self.socket_mode_url: str | None = None
        #: Unexpected exceptions raised inside the stand-in (answered as HTTP 500); should stay empty.
        self.server_errors: list[str] = []

        self._server: Server | None = None
        # Reentrant, so wait_for predicates may call the accessors (they run with the lock held).
        self._cond = threading.Condition(threading.RLock())
        self._serial = itertools.count(1)
        self._ts_serial = itertools.count(100, 100)

        self._calls: list[SlackCall] = []
        self._responses: list[ResponseCall] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._users: dict[str, User] = {}
        self._channels: dict[str, Channel] = {}
        self._dm_by_user: dict[str, str] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._messages: list[StoredMessage] = []
        self._ephemerals: list[StoredEphemeral] = []
        self._views: dict[str, Json] = {}
        self._view_by_external_id: dict[str, str] = {}
        self._view_stacks: dict[str, list[str]] = {}
        self._last_root_view: str | None = None
        self._home_views: dict[str, str] = {}
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._uploads: dict[str, StoredUpload] = {}

    @property
    def root_url(self) -> str:
        """The server's root URL (the stand-in must be running)."""
        if self._server is None:
            raise RuntimeError("the stand-in is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The Web API base URL to hand slack_sdk."""
        return f"{self.root_url}/api/"

    def _take_fault(self, name: str) -> Fault | None:
        with self._cond:
            queue = self._faults.get(name)
            fault = queue.popleft() if queue else None
        if fault is not None and fault.delay > 0:
            time.sleep(fault.delay)
        return fault

    # ------------------------------------------------------- state helpers (call with the lock held)

    def _next_ts(self) -> str:
        n = next(self._ts_serial)
        return f"{EPOCH + n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._serial):08d}"

    def _find_channel(self, ref: str) -> Channel:
        channel = self._channels.get(ref)
        if channel is None:
            name = ref.removeprefix("#")
            channel = next((c for c in self._channels.values() if not c.is_im and c.name == name), None)
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def _visible_channel(self, ref: str) -> Channel:
        """A channel the bot can see: private ones only when it is a member."""
        channel = self._find_channel(ref)
        if channel.is_private and not channel.bot_is_member:
            raise SlackError("channel_not_found")
        return channel

    def _members(self, channel: Channel) -> list[str]:
        return channel.members + ([self.bot_user_id] if channel.bot_is_member else [])

    def _open_dm(self, user_id: str) -> tuple[Channel, bool]:
        """The bot's DM with ``user_id``; the flag says whether it already existed."""
        existing = self._dm_by_user.get(user_id)
        if existing is not None:
            return self._channels[existing], True
        channel_id = f"D{user_id[1:]}"
        if channel_id in self._channels:
            channel_id = self._next_id("D")
        channel = Channel(channel_id, channel_id, is_private=True, members=[user_id], is_im=True, im_user=user_id)
        self._channels[channel_id] = channel
        self._dm_by_user[user_id] = channel_id
        return channel, False

    def _open_mpim(self, user_ids: list[str]) -> tuple[Channel, bool]:
        members = sorted(set(user_ids))
        name = "mpdm-" + "--".join(self._users[u].name for u in members) + "-1"
        for channel in self._channels.values():
            if channel.is_mpim and sorted(channel.members) == members:
                return channel, True
        channel = Channel(self._next_id("G"), name, is_private=True, members=members, is_mpim=True)
        self._channels[channel.id] = channel
        return channel, False

    def _postable_channel(self, ref: str) -> Channel:
        """Where a message to ``ref`` (a channel id/name, or a user id for a DM) lands, or the error."""
        if ref[:1] in ("U", "W") and ref not in self._channels:
            user = self._users.get(ref)
            if user is None or user.deleted:
                raise SlackError("channel_not_found")
            if not self.messages_tab_enabled:
                raise SlackError("messages_tab_disabled")
            return self._open_dm(ref)[0]
        channel = self._find_channel(ref)
        if channel.is_im and not self.messages_tab_enabled:
            raise SlackError("messages_tab_disabled")
        if channel.is_archived:
            raise SlackError("is_archived")
        if not channel.bot_is_member:
            public_ok = not channel.is_private and "chat:write.public" in self.scopes
            if channel.is_private or not public_ok:
                raise SlackError("not_in_channel")
        return channel

    def _find_message(self, channel_id: str, ts: str) -> StoredMessage | None:
        return next((m for m in self._messages if m.channel == channel_id and m.ts == ts), None)
