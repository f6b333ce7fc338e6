"""The Slack stand-in itself: lifecycle, what the bot did (calls, messages, views ...), and request routing."""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from bot.sandbox.slack.api import handle_api
from bot.sandbox.slack.control import handle_control
from bot.sandbox.slack.directory import SlackDirectory
from bot.sandbox.slack.records import Json, ResponseCall, SlackCall, StoredEphemeral, StoredMessage, StoredUpload
from bot.sandbox.slack.sinks import handle_response_url, handle_upload
from bot.sandbox.slack.transport import Answer, Server

_T = TypeVar("_T")


def summary(body: Json, limit: int = 160) -> str:
    """A JSON body shortened for an error message."""
    text = json.dumps(body, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SlackStandIn(SlackDirectory):
    """A stateful fake of the Slack Web API for the methods claude-key-bot uses.

    Configure it with the directory helpers (:meth:`add_user`, :meth:`add_channel`,
    :meth:`add_usergroup`, :meth:`add_message`) and the attributes below, at any time (also while
    running). Inspect what the bot did with :attr:`calls`, :meth:`wait_for`, :meth:`messages`,
    :meth:`ephemerals`, :meth:`dms_to`, :attr:`views`, :meth:`home_view`, :attr:`uploads` and
    :attr:`responses`.

    Block Kit is always checked as Slack does (blockkit.py). ``tiers=True`` enforces Slack's rate-limit tiers
    (ratelimit.py) with a minute lasting ``60 * time_scale`` seconds, e.g. ``tiers=True, time_scale=0.01``.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin-token",
        app_token: str = "xapp-standin-token",
        team_id: str = "T0STANDIN",
        bot_user_id: str = "U0BOT",
        port: int = 0,
        tiers: bool = False,
        time_scale: float = 1.0,
    ) -> None:
        super().__init__(bot_token=bot_token, app_token=app_token, team_id=team_id, bot_user_id=bot_user_id)
        self.tiers, self.time_scale = tiers, time_scale
        self._port = port
        self._thread: threading.Thread | None = None
        self.add_user(bot_user_id, name=self.bot_name, real_name="Claude Key Bot", is_bot=True)

    # ----------------------------------------------------------------------------------- lifecycle

    def start(self) -> SlackStandIn:
        """Serve on 127.0.0.1 in a background thread."""
        if self._server is not None:
            raise RuntimeError("the stand-in is already running")
        self._server = Server(("127.0.0.1", self._port), self._route)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="slack-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with server.sockets_lock:
            for sock in list(server.open_sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackStandIn:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------- observations

    @property
    def calls(self) -> list[SlackCall]:
        """Every Web API call so far, in order."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[SlackCall]:
        """The calls to ``method`` so far."""
        with self._cond:
            return [call for call in self._calls if call.method == method]

    def reset_calls(self) -> None:
        """Forgets recorded traffic: API calls and response_url posts."""
        with self._cond:
            self._calls.clear()
            self._responses.clear()

    def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        predicate: Callable[[SlackCall], bool] | None = None,
        timeout: float = 5.0,
    ) -> list[SlackCall]:
        """Blocks until ``count`` calls to ``method`` (matching ``predicate``) were answered.

        Returns all matching calls so far. Raises AssertionError listing what arrived on timeout.
        """

        def matching() -> list[SlackCall]:
            return [c for c in self._calls if c.method == method and (predicate is None or predicate(c))]

        found = self._wait_until(matching, count, timeout)
        if found is not None:
            return found
        received = "\n".join(f"  {c.method} -> {c.status} {summary(c.body)}" for c in self.calls)
        raise AssertionError(
            f"timed out after {timeout}s waiting for {count} call(s) to {method}"
            f"{' matching the predicate' if predicate else ''}; "
            f"got {len(matching())}. Received:\n{received or '  (nothing)'}"
        )

    @property
    def responses(self) -> list[ResponseCall]:
        """Every post to a response_url, accepted or not (see ``status``)."""
        with self._cond:
            return list(self._responses)

    def wait_for_response(
        self,
        *,
        count: int = 1,
        predicate: Callable[[ResponseCall], bool] | None = None,
        timeout: float = 5.0,
        accepted_only: bool = True,
    ) -> list[ResponseCall]:
        """Like :meth:`wait_for` for response_url posts; by default only those answered 200 count."""

        def matching() -> list[ResponseCall]:
            return [
                r
                for r in self._responses
                if (r.status == 200 or not accepted_only) and (predicate is None or predicate(r))
            ]

        found = self._wait_until(matching, count, timeout)
        if found is not None:
            return found
        received = "\n".join(f"  {r.url_id} -> {r.status} {summary(r.body)}" for r in self.responses)
        raise AssertionError(
            f"timed out after {timeout}s waiting for {count} response_url post(s); got {len(matching())}. "
            f"Received:\n{received or '  (nothing)'}"
        )

    def messages(self, channel: str | None = None) -> list[StoredMessage]:
        """Messages in ``channel`` (or everywhere), oldest first, in their current (updated) state."""
        with self._cond:
            return [copy.deepcopy(m) for m in self._messages if channel is None or m.channel == channel]

    def ephemerals(self, channel: str | None = None) -> list[StoredEphemeral]:
        """Ephemeral messages in ``channel`` (or everywhere), oldest first."""
        with self._cond:
            return [copy.deepcopy(e) for e in self._ephemerals if channel is None or e.channel == channel]

    def dms_to(self, user_id: str) -> list[StoredMessage]:
        """Messages the bot posted in its DM with ``user_id`` (via ``channel=U…`` or the D… id)."""
        with self._cond:
            dm = self._dm_by_user.get(user_id)
        return self.messages(dm) if dm else []

    def dm_channel_id(self, user_id: str) -> str | None:
        """The bot's DM channel id with ``user_id``, once it exists."""
        with self._cond:
            return self._dm_by_user.get(user_id)

    # --- names as a person sees them (the demo's renderer) ---
    def user_display_name(self, user_id: str) -> str | None:
        """The name Slack shows for ``user_id`` in a mention (the real name), or None when unknown."""
        with self._cond:
            user = self._users.get(user_id)
            return (user.real_name or user.name) if user else None

    def user_ids(self) -> list[str]:
        """Everyone in the directory, in the order they were added."""
        with self._cond:
            return list(self._users)

    def channel_name(self, channel_id: str) -> str | None:
        """A channel's name (without ``#``), or None when unknown or a DM."""
        with self._cond:
            channel = self._channels.get(channel_id)
            return channel.name if channel and not channel.is_im and not channel.is_mpim else None

    @property
    def views(self) -> dict[str, Json]:
        """Every stored view (modals and Home tabs) by view id, in its latest state."""
        with self._cond:
            return copy.deepcopy(self._views)

    def home_view(self, user_id: str) -> Json | None:
        """The Home tab published for ``user_id``, if any."""
        with self._cond:
            view_id = self._home_views.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    @property
    def uploads(self) -> dict[str, StoredUpload]:
        """Every upload by file id."""
        with self._cond:
            return copy.deepcopy(self._uploads)

    # ------------------------------------------------------------------------------- HTTP routing

    def _route(self, http_method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if self.latency > 0:
            time.sleep(self.latency)
        url = urlsplit(path)
        prefix, _, name = url.path.lstrip("/").partition("/")
        try:
            if prefix == "api" and name:
                return handle_api(self, http_method, name, headers, body, url.query)
            if prefix == "upload" and name:
                if http_method != "POST":
                    return Answer.text(405, "method_not_allowed")
                return handle_upload(self, name, body)
            if prefix == "response" and name:
                return handle_response_url(self, name, headers, body)
            if prefix == "_standin" and name:
                return handle_control(self, http_method, name, url.query)
            return Answer.text(404, "not_found")
        except Exception as exc:  # a bug in the stand-in: make it visible rather than hang the client
            with self._cond:
                self.server_errors.append(f"{http_method} {path}: {exc!r}")
            return Answer.json(500, {"ok": False, "error": "internal_error", "detail": repr(exc)})

    def _wait_until(self, matching: Callable[[], list[_T]], count: int, timeout: float) -> list[_T] | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = matching()
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
