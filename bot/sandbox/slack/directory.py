"""Setting the Slack stand-in up: people, channels, user groups and messages; trigger ids and response_urls
to hand the bot; faults to inject."""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Iterable
from typing import Any

from bot.sandbox.slack.faults import Fault
from bot.sandbox.slack.records import EPOCH, Channel, ResponseUrl, StoredMessage, Trigger, User
from bot.sandbox.slack.state import SlackState


class SlackDirectory(SlackState):
    """The seeding half of the stand-in's public surface (callable at any time, also while running)."""

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        email: str | None = None,
        deleted: bool = False,
        is_bot: bool = False,
        tz: str = "UTC",
    ) -> None:
        """Add or replace a person."""
        with self._cond:
            self._users[user_id] = User(user_id, name, real_name or name, email, deleted, is_bot, tz)

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        is_private: bool = False,
        members: Iterable[str] = (),
        bot_is_member: bool = True,
        is_archived: bool = False,
    ) -> None:
        """Adds or replaces a channel. ``members`` are humans; the bot is a member per ``bot_is_member``."""
        with self._cond:
            self._channels[channel_id] = Channel(
                channel_id,
                name,
                is_private=is_private,
                members=[m for m in members if m != self.bot_user_id],
                bot_is_member=bot_is_member,
                is_archived=is_archived,
            )

    def add_usergroup(self, group_id: str, members: Iterable[str]) -> None:
        """Add or replace a user group."""
        with self._cond:
            self._usergroups[group_id] = list(members)

    def add_message(
        self,
        channel: str,
        *,
        text: str,
        user: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        blocks: list[Any] | None = None,
    ) -> str:
        """Seeds a message (e.g. from a human, for reactions or cant_update_message). Returns its ts."""
        with self._cond:
            ts = ts or self._next_ts()
            self._messages.append(
                StoredMessage(channel=channel, ts=ts, user=user, text=text, blocks=blocks, thread_ts=thread_ts)
            )
            return ts

    def new_trigger_id(self, *, user_id: str | None = None, view_id: str | None = None) -> str:
        """Mints a trigger id: single use, valid for ``trigger_ttl`` seconds of ``clock``.

        ``view_id`` says which modal the interaction came from (``views.push`` pushes onto its stack;
        without it, onto the most recently opened modal).
        """
        with self._cond:
            n = next(self._serial)
            trigger_id = f"{1000000 + n}.{EPOCH + n}.{secrets.token_hex(8)}"
            self._triggers[trigger_id] = Trigger(self.clock(), user_id, view_id)
            return trigger_id

    def new_response_url(self) -> str:
        """Issues a response_url on this server (valid ``response_url_max_uses`` times)."""
        with self._cond:
            url_id = f"R{next(self._serial):06d}{secrets.token_hex(4)}"
            self._response_urls[url_id] = ResponseUrl(self.clock())
            return f"{self.root_url}/response/{url_id}"

    def inject(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        error: str | None = None,
        delay: float = 0.0,
        times: int = 1,
        body: str | None = None,
    ) -> None:
        """Queues ``times`` faults for ``method`` (an API method, ``"response"`` or ``"upload"``).

        Consumed one per request, in order, before any other check:

        - ``status=429`` (implied by ``retry_after`` alone): ``Retry-After: retry_after`` (default 1)
          and ``{"ok":false,"error":"ratelimited"}``;
        - ``status=500/502/503/504``: an HTML error page (or ``body``);
        - another ``status``: ``{"ok": false, "error": error or "http_<status>"}`` (or ``body``);
        - ``error`` alone: HTTP 200 ``{"ok": false, "error": error}`` (on ``"response"``: Slack's
          webhook status for that error, e.g. 404 for ``expired_url``, 400 otherwise, plain text);
        - ``delay``: seconds slept before answering (combined with the above, or alone to slow a
          normal answer).
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if retry_after is not None and status is None:
            status = 429
        with self._cond:
            queue = self._faults.setdefault(method, deque())
            queue.extend(Fault(status, retry_after, error, delay, body) for _ in range(times))


def seed_default_directory(standin: SlackDirectory) -> None:
    """Two people, an admin user group and the private admin channel the bot is in."""
    standin.add_user("U0ADMIN", name="admin", real_name="Ada Admin", email="admin@example.com")
    standin.add_user("U0DEV", name="dev", real_name="Dev Eloper", email="dev@example.com")
    standin.add_usergroup("S0ADMINS", ["U0ADMIN"])
    standin.add_channel("C0ADMIN", name="claude-key-admins", is_private=True, members=["U0ADMIN"])
