"""A stand-in Slack Web API: a real HTTP server on loopback for the real slack_sdk / Bolt clients.

Point a client at it with ``WebClient(token=standin.bot_token, base_url=standin.base_url)``; nothing
in slack_sdk is mocked. The server uses only the standard library (``ThreadingHTTPServer``, HTTP/1.1
with keep-alive, daemon threads) and keeps all state behind one lock.

Routes (all on ``root_url``):

- ``/api/<method>``: the Web API (GET or POST; JSON, form or query-string arguments). Every request,
  whatever its outcome, is recorded as a :class:`SlackCall`. Unknown methods answer HTTP 404
  ``{"ok": false, "error": "unknown_method"}``; every other Web API outcome is HTTP 200 with
  ``ok: true|false`` as Slack does, unless a fault was injected.
- ``/upload/<file_id>``: the ``upload_url`` handed out by ``files.getUploadURLExternal``. Takes the raw
  bytes with no authentication (like Slack's), answers ``200 "OK - <size>"``.
- ``/response/<id>``: a ``response_url`` sink (see :meth:`SlackStandIn.new_response_url`).
- ``/_standin/...``: a small control API for the command-line mode, where tests cannot call methods
  on the object: ``POST trigger_id``, ``POST response_url``, ``GET calls[?method=]``,
  ``GET responses``, ``POST reset``.

Request decoding (what :attr:`SlackCall.raw` and :attr:`SlackCall.body` hold):

- JSON bodies are parsed; form bodies go through ``parse_qs`` keeping the first value of each key;
  query-string arguments are merged underneath (the body wins). ``raw`` is exactly that.
- ``body`` is ``raw`` plus one decoding step: for the fields slack_sdk sends JSON-encoded inside form
  bodies (:data:`JSON_ENCODED_FIELDS`: ``blocks``, ``attachments``, ``view``, ``files``, ...), a
  string value that parses as a JSON object or array is replaced by the parsed value. Nothing else
  is decoded, so form booleans stay ``"1"``/``"0"`` and numbers stay strings.
- multipart bodies (the retired ``files.upload`` v1) are not parsed.

Checks made before a method's own logic, in this order: injected faults; unknown method; auth
(``Authorization: Bearer`` or a ``token`` argument; missing → ``not_authed``, unknown token →
``invalid_auth``, a known token of the wrong kind, e.g. the app token on ``chat.postMessage``, →
``not_allowed_token_type``); scopes (when the method document lists bot scopes and none of them is
in :attr:`SlackStandIn.scopes` → ``missing_scope`` with ``needed``/``provided``); required arguments
from ``tests/data/slack/methods/<method>.json`` ``args.required`` (``token`` ignored; missing or empty
→ a documented error of that method if one fits, e.g. ``channel_not_found``, else
``invalid_arguments`` with ``response_metadata.messages``).

response_url rules: Slack documents "up to 5 times within 30 minutes" but not the errors. This
stand-in answers like Slack's webhook endpoints (plain-text bodies): ``200 "ok"``; a body that is
not a JSON object → ``400 "invalid_payload"``; an id it never issued → ``404 "no_service"``; a sixth
use → ``404 "used_url"``; older than :attr:`SlackStandIn.response_url_ttl` → ``404 "expired_url"``.
The last three strings are what Slack is reported to send, not documented values. Rejected posts
are recorded too (with their status) but do not count as uses.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import functools
import itertools
import json
import mimetypes
import os
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

__all__ = [
    "DEFAULT_SCOPES",
    "JSON_ENCODED_FIELDS",
    "PROXY_VARIABLES",
    "Fault",
    "ResponseCall",
    "SlackCall",
    "SlackStandIn",
    "StoredEphemeral",
    "StoredMessage",
    "StoredUpload",
    "main",
    "seed_default_directory",
    "slack_standin",
]

Json = dict[str, Any]
_T = TypeVar("_T")

METHOD_DOCS_DIR = Path(__file__).resolve().parent.parent / "data" / "slack" / "methods"

#: Fields slack_sdk sends as JSON strings inside form bodies; decoded into ``SlackCall.body``.
JSON_ENCODED_FIELDS = frozenset(
    {"attachments", "blocks", "files", "metadata", "outputs", "unfurls", "user_auth_blocks", "view"}
)

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

#: For a missing required argument: documented errors to prefer, first one the method lists wins.
_MISSING_ARG_ERRORS: dict[str, tuple[str, ...]] = {
    "channel": ("channel_not_found",),
    "user": ("user_not_found",),
    "email": ("users_not_found",),
    "usergroup": ("no_such_subteam",),
    "ts": ("message_not_found",),
    "timestamp": ("no_item_specified", "bad_timestamp"),
    "name": ("invalid_name",),
    "length": ("missing_argument",),
    "filename": ("missing_argument",),
}

#: Status for an ``error`` injected on a response_url (Slack's webhook status codes).
_RESPONSE_ERROR_STATUS = {
    "action_prohibited": 403,
    "channel_not_found": 404,
    "no_service": 404,
    "expired_url": 404,
    "used_url": 404,
    "channel_is_archived": 410,
    "rollup_error": 500,
}

_EPOCH = 1_700_000_000
_MAX_MESSAGE_BLOCKS = 50
_MAX_VIEW_BLOCKS = 100
_MAX_VIEW_BYTES = 250_000
_MAX_PUSHED_VIEWS = 3


# --------------------------------------------------------------------------------------------- records


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
class Fault:
    """A queued failure for one method (see :meth:`SlackStandIn.inject`)."""

    status: int | None = None
    retry_after: int | None = None
    error: str | None = None
    delay: float = 0.0
    body: str | None = None


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
class _User:
    id: str
    name: str
    real_name: str
    email: str | None
    deleted: bool
    is_bot: bool
    tz: str


@dataclass
class _Channel:
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
class _Trigger:
    minted_at: float
    user_id: str | None
    view_id: str | None
    used: bool = False


@dataclass
class _ResponseUrl:
    created_at: float
    uses: int = 0


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    payload: Any = None

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> _Answer:
        return cls(status, json.dumps(payload).encode(), headers=headers or {}, payload=payload)

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> _Answer:
        return cls(status, text.encode(), content_type=content_type, payload=text)


class _SlackError(Exception):
    """Raised by a method handler: answered as HTTP 200 ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _invalid_arguments(message: str) -> _SlackError:
    return _SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})


# ---------------------------------------------------------------------------------- method registry

_Handler = Callable[["SlackStandIn", Json], Json]


@dataclass(frozen=True)
class _ApiMethod:
    handler: _Handler
    token: str  # "bot" or "app"
    required: tuple[str, ...] | None  # None: take args.required from the method document


_API: dict[str, _ApiMethod] = {}


def _api(name: str, *, token: str = "bot", required: tuple[str, ...] | None = None) -> Callable[[_Handler], _Handler]:
    def register(handler: _Handler) -> _Handler:
        _API[name] = _ApiMethod(handler, token, required)
        return handler

    return register


@functools.cache
def _method_doc(method: str) -> Json:
    path = METHOD_DOCS_DIR / f"{method}.json"
    if not path.is_file():
        return {}
    doc: Json = json.loads(path.read_text(encoding="utf-8"))
    return doc


def _required_args(method: str, spec: _ApiMethod) -> tuple[str, ...]:
    if spec.required is not None:
        return spec.required
    required = _method_doc(method).get("args", {}).get("required", [])
    return tuple(arg for arg in required if arg != "token")


def _missing_arg_error(method: str, arg: str) -> _SlackError:
    documented = _method_doc(method).get("errors", {})
    for error in _MISSING_ARG_ERRORS.get(arg, ()):
        if error in documented:
            return _SlackError(error)
    return _invalid_arguments(f"missing required field: {arg}")


# ------------------------------------------------------------------------------------------ helpers


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _decode_body(content_type: str, data: bytes, query: str) -> tuple[Json, Json]:
    """Returns (raw, body) as described in the module docstring. Raises _SlackError on bad JSON."""
    raw: Json = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if data and "application/json" in content_type:
        try:
            parsed = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _SlackError("invalid_json") from exc
        if not isinstance(parsed, dict):
            raise _SlackError("json_not_object")
        raw.update(parsed)
    elif data and "multipart/form-data" not in content_type:
        text = data.decode("utf-8", errors="replace")
        raw.update({k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()})
    body = dict(raw)
    for key in JSON_ENCODED_FIELDS & body.keys():
        value = body[key]
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                body[key] = json.loads(value)
    return raw, body


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        prefix, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _SlackError("invalid_cursor") from exc
    if prefix != "offset" or offset < 0:
        raise _SlackError("invalid_cursor")
    return offset


def _message_content(args: Json, *, max_blocks: int = _MAX_MESSAGE_BLOCKS) -> Json:
    """text/blocks/attachments of a message call; no_text when none is given."""
    content: Json = {}
    if _opt_str(args.get("text")) is not None:
        content["text"] = str(args["text"])
    elif _opt_str(args.get("markdown_text")) is not None:
        content["text"] = str(args["markdown_text"])
    for key, error in (("blocks", "invalid_blocks_format"), ("attachments", "invalid_attachments")):
        value = args.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, list):
            raise _SlackError(error)
        content[key] = value
    if len(content.get("blocks") or ()) > max_blocks:
        raise _SlackError(
            "invalid_blocks", response_metadata={"messages": [f"[ERROR] must be at most {max_blocks} items"]}
        )
    if not (content.get("text") or content.get("blocks") or content.get("attachments")):
        raise _SlackError("no_text")
    return content


def _view_arg(args: Json, allowed_types: Iterable[str]) -> Json:
    view = args.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError as exc:
            raise _invalid_arguments("view must be a JSON object") from exc
    if not isinstance(view, dict):
        raise _invalid_arguments("view must be a JSON object")
    allowed = tuple(allowed_types)
    if view.get("type") not in allowed:
        raise _invalid_arguments(f"view.type must be one of {', '.join(allowed)} [json-pointer:/view/type]")
    blocks = view.get("blocks", [])
    if not isinstance(blocks, list):
        raise _invalid_arguments("view.blocks must be an array [json-pointer:/view/blocks]")
    if len(blocks) > _MAX_VIEW_BLOCKS:
        raise _invalid_arguments(f"no more than {_MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]")
    if len(json.dumps(view)) > _MAX_VIEW_BYTES:
        raise _SlackError("view_too_large")
    return view


def _tz_fields(tz: str) -> tuple[str, int]:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", 0
    offset = now.utcoffset()
    return now.tzname() or tz, int(offset.total_seconds()) if offset else 0


# --------------------------------------------------------------------------------------- the server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], standin: SlackStandIn) -> None:
        self.standin = standin
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections end after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return

    def _dispatch(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.standin._route(self.command, self.path, headers, body)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. during a delay)
            self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""


class SlackStandIn:
    """A stateful fake of the Slack Web API for the methods claude-key-bot uses.

    Configure it with the directory helpers (:meth:`add_user`, :meth:`add_channel`,
    :meth:`add_usergroup`, :meth:`add_message`) and the attributes below, at any time (also while
    running). Inspect what the bot did with :attr:`calls`, :meth:`wait_for`, :meth:`messages`,
    :meth:`ephemerals`, :meth:`dms_to`, :attr:`views`, :meth:`home_view`, :attr:`uploads` and
    :attr:`responses`.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin-token",
        app_token: str = "xapp-standin-token",
        team_id: str = "T0STANDIN",
        bot_user_id: str = "U0BOT",
        port: int = 0,
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

        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Reentrant, so wait_for predicates may call the accessors (they run with the lock held).
        self._cond = threading.Condition(threading.RLock())
        self._serial = itertools.count(1)
        self._ts_serial = itertools.count(100, 100)

        self._calls: list[SlackCall] = []
        self._responses: list[ResponseCall] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._users: dict[str, _User] = {}
        self._channels: dict[str, _Channel] = {}
        self._dm_by_user: dict[str, str] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._messages: list[StoredMessage] = []
        self._ephemerals: list[StoredEphemeral] = []
        self._views: dict[str, Json] = {}
        self._view_by_external_id: dict[str, str] = {}
        self._view_stacks: dict[str, list[str]] = {}
        self._last_root_view: str | None = None
        self._home_views: dict[str, str] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._uploads: dict[str, StoredUpload] = {}

        self.add_user(bot_user_id, name=self.bot_name, real_name="Claude Key Bot", is_bot=True)

    # ----------------------------------------------------------------------------------- lifecycle

    def start(self) -> SlackStandIn:
        if self._server is not None:
            raise RuntimeError("the stand-in is already running")
        self._server = _Server(("127.0.0.1", self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="slack-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
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

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/"

    # ------------------------------------------------------------------------------ directory setup

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
        with self._cond:
            self._users[user_id] = _User(user_id, name, real_name or name, email, deleted, is_bot, tz)

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
            self._channels[channel_id] = _Channel(
                channel_id,
                name,
                is_private=is_private,
                members=[m for m in members if m != self.bot_user_id],
                bot_is_member=bot_is_member,
                is_archived=is_archived,
            )

    def add_usergroup(self, group_id: str, members: Iterable[str]) -> None:
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
            trigger_id = f"{1000000 + n}.{_EPOCH + n}.{secrets.token_hex(8)}"
            self._triggers[trigger_id] = _Trigger(self.clock(), user_id, view_id)
            return trigger_id

    def new_response_url(self) -> str:
        """Issues a response_url on this server (valid ``response_url_max_uses`` times)."""
        with self._cond:
            url_id = f"R{next(self._serial):06d}{secrets.token_hex(4)}"
            self._response_urls[url_id] = _ResponseUrl(self.clock())
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

    # ------------------------------------------------------------------------------- observations

    @property
    def calls(self) -> list[SlackCall]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[SlackCall]:
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
        received = "\n".join(f"  {c.method} -> {c.status} {_summary(c.body)}" for c in self.calls)
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
        received = "\n".join(f"  {r.url_id} -> {r.status} {_summary(r.body)}" for r in self.responses)
        raise AssertionError(
            f"timed out after {timeout}s waiting for {count} response_url post(s); got {len(matching())}. "
            f"Received:\n{received or '  (nothing)'}"
        )

    def messages(self, channel: str | None = None) -> list[StoredMessage]:
        """Messages in ``channel`` (or everywhere), oldest first, in their current (updated) state."""
        with self._cond:
            return [copy.deepcopy(m) for m in self._messages if channel is None or m.channel == channel]

    def ephemerals(self, channel: str | None = None) -> list[StoredEphemeral]:
        with self._cond:
            return [copy.deepcopy(e) for e in self._ephemerals if channel is None or e.channel == channel]

    def dms_to(self, user_id: str) -> list[StoredMessage]:
        """Messages the bot posted in its DM with ``user_id`` (via ``channel=U…`` or the D… id)."""
        with self._cond:
            dm = self._dm_by_user.get(user_id)
        return self.messages(dm) if dm else []

    def dm_channel_id(self, user_id: str) -> str | None:
        with self._cond:
            return self._dm_by_user.get(user_id)

    @property
    def views(self) -> dict[str, Json]:
        """Every stored view (modals and Home tabs) by view id, in its latest state."""
        with self._cond:
            return copy.deepcopy(self._views)

    def home_view(self, user_id: str) -> Json | None:
        with self._cond:
            view_id = self._home_views.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    @property
    def uploads(self) -> dict[str, StoredUpload]:
        with self._cond:
            return copy.deepcopy(self._uploads)

    # ------------------------------------------------------------------------------- HTTP routing

    def _route(self, http_method: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        if self.latency > 0:
            time.sleep(self.latency)
        url = urlsplit(path)
        prefix, _, name = url.path.lstrip("/").partition("/")
        try:
            if prefix == "api" and name:
                return self._handle_api(http_method, name, headers, body, url.query)
            if prefix == "upload" and name:
                if http_method != "POST":
                    return _Answer.text(405, "method_not_allowed")
                return self._handle_upload(name, body)
            if prefix == "response" and name:
                return self._handle_response_url(name, headers, body)
            if prefix == "_standin" and name:
                return self._handle_control(http_method, name, url.query)
            return _Answer.text(404, "not_found")
        except Exception as exc:  # a bug in the stand-in: make it visible rather than hang the client
            with self._cond:
                self.server_errors.append(f"{http_method} {path}: {exc!r}")
            return _Answer.json(500, {"ok": False, "error": "internal_error", "detail": repr(exc)})

    def _handle_api(self, http_method: str, method: str, headers: dict[str, str], data: bytes, query: str) -> _Answer:
        try:
            raw, body = _decode_body(headers.get("content-type", ""), data, query)
            decode_error = None
        except _SlackError as exc:
            raw, body, decode_error = {}, {}, exc
        answer = self._answer_api(method, headers, body, decode_error)
        with self._cond:
            self._calls.append(SlackCall(method, body, raw, dict(headers), answer.status, http_method, answer.payload))
            self._cond.notify_all()
        return answer

    def _answer_api(
        self, method: str, headers: dict[str, str], args: Json, decode_error: _SlackError | None
    ) -> _Answer:
        fault = self._take_fault(method)
        if fault is not None and fault.status is not None:
            return _fault_answer(fault)
        spec = _API.get(method)
        if spec is None:
            return _Answer.json(404, {"ok": False, "error": "unknown_method"})
        with self._cond:  # one request's checks and state change see one consistent state
            auth_error = self._auth_error(spec, headers, args)
            if auth_error is not None:
                return _Answer.json(200, {"ok": False, "error": auth_error})
            extra_headers = {"x-oauth-scopes": ",".join(sorted(self.scopes))} if spec.token == "bot" else {}
            try:
                if fault is not None and fault.error is not None:
                    raise _SlackError(fault.error)
                if decode_error is not None:
                    raise decode_error
                self._check_scopes(method)
                for arg in _required_args(method, spec):
                    if args.get(arg) is None or args.get(arg) == "":
                        raise _missing_arg_error(method, arg)
                result = spec.handler(self, args)
            except _SlackError as exc:
                return _Answer.json(200, {"ok": False, "error": exc.error, **exc.extra}, extra_headers)
            return _Answer.json(200, {"ok": True, **result}, extra_headers)

    def _take_fault(self, name: str) -> Fault | None:
        with self._cond:
            queue = self._faults.get(name)
            fault = queue.popleft() if queue else None
        if fault is not None and fault.delay > 0:
            time.sleep(fault.delay)
        return fault

    def _auth_error(self, spec: _ApiMethod, headers: dict[str, str], args: Json) -> str | None:
        authorization = headers.get("authorization", "")
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
        token = token or _opt_str(args.get("token"))
        if not token:
            return "not_authed"
        kinds = {self.bot_token: "bot", self.app_token: "app"}
        if token not in kinds:
            return "invalid_auth"
        if kinds[token] != spec.token:
            return "not_allowed_token_type"
        return None

    def _check_scopes(self, method: str) -> None:
        doc = _method_doc(method)
        needed = doc.get("scope", {}).get("bot") or []
        if needed and not doc.get("no_scope_required") and not self.scopes & set(needed):
            raise _SlackError("missing_scope", needed=",".join(needed), provided=",".join(sorted(self.scopes)))

    def _handle_upload(self, file_id: str, data: bytes) -> _Answer:
        fault = self._take_fault("upload")
        if fault is not None and (fault.status is not None or fault.error is not None):
            return _fault_answer(fault, plain=True)
        with self._cond:
            upload = self._uploads.get(file_id)
            if upload is None:
                return _Answer.text(404, "file_not_found")
            upload.data = bytes(data)
            self._cond.notify_all()
        return _Answer.text(200, f"OK - {len(data)}")

    def _handle_response_url(self, url_id: str, headers: dict[str, str], data: bytes) -> _Answer:
        fault = self._take_fault("response")
        try:
            body = json.loads(data) if data else None
        except (ValueError, UnicodeDecodeError):
            body = None
        if fault is not None and (fault.status is not None or fault.error is not None):
            answer = _fault_answer(fault, plain=True)
        else:
            answer = self._accept_response(url_id, body)
        with self._cond:
            self._responses.append(
                ResponseCall(
                    url_id,
                    body if isinstance(body, dict) else {},
                    answer.status,
                    str(answer.payload),
                    dict(headers),
                )
            )
            self._cond.notify_all()
        return answer

    def _accept_response(self, url_id: str, body: Any) -> _Answer:
        with self._cond:
            state = self._response_urls.get(url_id)
            if state is None:
                return _Answer.text(404, "no_service")
            if self.clock() - state.created_at > self.response_url_ttl:
                return _Answer.text(404, "expired_url")
            if state.uses >= self.response_url_max_uses:
                return _Answer.text(404, "used_url")
            if not isinstance(body, dict):
                return _Answer.text(400, "invalid_payload")
            state.uses += 1
        return _Answer.text(200, "ok")

    def _handle_control(self, http_method: str, name: str, query: str) -> _Answer:
        params = {k: v[0] for k, v in parse_qs(query).items()}
        if name == "trigger_id" and http_method == "POST":
            trigger_id = self.new_trigger_id(user_id=params.get("user_id"), view_id=params.get("view_id"))
            return _Answer.json(200, {"ok": True, "trigger_id": trigger_id})
        if name == "response_url" and http_method == "POST":
            return _Answer.json(200, {"ok": True, "response_url": self.new_response_url()})
        if name == "reset" and http_method == "POST":
            self.reset_calls()
            return _Answer.json(200, {"ok": True})
        if name == "calls":
            method = params.get("method")
            calls = [
                {"method": c.method, "status": c.status, "body": c.body, "response": c.response}
                for c in self.calls
                if method is None or c.method == method
            ]
            return _Answer.json(200, {"ok": True, "calls": calls})
        if name == "responses":
            responses = [{"url_id": r.url_id, "status": r.status, "body": r.body} for r in self.responses]
            return _Answer.json(200, {"ok": True, "responses": responses})
        return _Answer.text(404, "not_found")

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

    # ------------------------------------------------------- state helpers (call with the lock held)

    def _next_ts(self) -> str:
        n = next(self._ts_serial)
        return f"{_EPOCH + n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._serial):08d}"

    def _find_channel(self, ref: str) -> _Channel:
        channel = self._channels.get(ref)
        if channel is None:
            name = ref.removeprefix("#")
            channel = next((c for c in self._channels.values() if not c.is_im and c.name == name), None)
        if channel is None:
            raise _SlackError("channel_not_found")
        return channel

    def _visible_channel(self, ref: str) -> _Channel:
        """A channel the bot can see: private ones only when it is a member."""
        channel = self._find_channel(ref)
        if channel.is_private and not channel.bot_is_member:
            raise _SlackError("channel_not_found")
        return channel

    def _members(self, channel: _Channel) -> list[str]:
        return channel.members + ([self.bot_user_id] if channel.bot_is_member else [])

    def _open_dm(self, user_id: str) -> tuple[_Channel, bool]:
        """The bot's DM with ``user_id``; the flag says whether it already existed."""
        existing = self._dm_by_user.get(user_id)
        if existing is not None:
            return self._channels[existing], True
        channel_id = f"D{user_id[1:]}"
        if channel_id in self._channels:
            channel_id = self._next_id("D")
        channel = _Channel(channel_id, channel_id, is_private=True, members=[user_id], is_im=True, im_user=user_id)
        self._channels[channel_id] = channel
        self._dm_by_user[user_id] = channel_id
        return channel, False

    def _open_mpim(self, user_ids: list[str]) -> tuple[_Channel, bool]:
        members = sorted(set(user_ids))
        name = "mpdm-" + "--".join(self._users[u].name for u in members) + "-1"
        for channel in self._channels.values():
            if channel.is_mpim and sorted(channel.members) == members:
                return channel, True
        channel = _Channel(self._next_id("G"), name, is_private=True, members=members, is_mpim=True)
        self._channels[channel.id] = channel
        return channel, False

    def _postable_channel(self, ref: str) -> _Channel:
        """Where a message to ``ref`` (a channel id/name, or a user id for a DM) lands, or the error."""
        if ref[:1] in ("U", "W") and ref not in self._channels:
            user = self._users.get(ref)
            if user is None or user.deleted:
                raise _SlackError("channel_not_found")
            if not self.messages_tab_enabled:
                raise _SlackError("messages_tab_disabled")
            return self._open_dm(ref)[0]
        channel = self._find_channel(ref)
        if channel.is_im and not self.messages_tab_enabled:
            raise _SlackError("messages_tab_disabled")
        if channel.is_archived:
            raise _SlackError("is_archived")
        if not channel.bot_is_member:
            public_ok = not channel.is_private and "chat:write.public" in self.scopes
            if channel.is_private or not public_ok:
                raise _SlackError("not_in_channel")
        return channel

    def _find_message(self, channel_id: str, ts: str) -> StoredMessage | None:
        return next((m for m in self._messages if m.channel == channel_id and m.ts == ts), None)

    def _message_json(self, message: StoredMessage) -> Json:
        data: Json = {"user": message.user, "type": "message", "ts": message.ts, "text": message.text or ""}
        if message.bot_id:
            data.update(
                bot_id=message.bot_id,
                app_id=self.app_id,
                team=self.team_id,
                bot_profile={"id": message.bot_id, "app_id": self.app_id, "name": self.bot_name, "deleted": False},
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

    def _channel_json(self, channel: _Channel, *, num_members: bool = False) -> Json:
        created = _EPOCH
        if channel.is_im:
            data: Json = {
                "id": channel.id,
                "created": created,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_id,
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
                "context_team_id": self.team_id,
                "updated": created * 1000,
                "parent_conversation": None,
                "creator": "",
                "is_ext_shared": False,
                "shared_team_ids": [self.team_id],
                "pending_connected_team_ids": [],
                "is_member": channel.bot_is_member,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "previous_names": [],
            }
        if num_members:
            data["num_members"] = len(self._members(channel))
        return data

    def _user_json(self, user: _User) -> Json:
        tz_label, tz_offset = _tz_fields(user.tz)
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
            "team": self.team_id,
        }
        if user.email and "users:read.email" in self.scopes:
            profile["email"] = user.email
        if user.is_bot:
            profile["bot_id"] = self.bot_id if user.id == self.bot_user_id else f"B{user.id[1:]}"
        return {
            "id": user.id,
            "team_id": self.team_id,
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
            "updated": _EPOCH,
            "is_app_user": False,
            "has_2fa": False,
        }

    def _exchange_trigger(self, trigger_id: str) -> _Trigger:
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise _SlackError("invalid_trigger_id")
        if trigger.used:
            raise _SlackError("exchanged_trigger_id")
        if self.clock() - trigger.minted_at > self.trigger_ttl:
            raise _SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def _store_view(
        self,
        view: Json,
        *,
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> Json:
        old = self._views.get(view_id) if view_id else None
        external_id = view.get("external_id") or (old or {}).get("external_id") or ""
        view_id = view_id or self._next_id("V")
        owner = self._view_by_external_id.get(external_id) if external_id else None
        if owner is not None and owner != view_id:
            raise _SlackError("duplicate_external_id")
        n = next(self._serial)
        stored: Json = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "title": copy.deepcopy(view.get("title")),
            "submit": copy.deepcopy(view.get("submit")),
            "close": copy.deepcopy(view.get("close")),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": external_id,
            "state": {"values": {}},
            "hash": f"{_EPOCH + n}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id or view_id,
            "previous_view_id": previous_view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self._views[view_id] = stored
        if external_id:
            self._view_by_external_id[external_id] = view_id
        return copy.deepcopy(stored)


def _fault_answer(fault: Fault, *, plain: bool = False) -> _Answer:
    """The HTTP answer for an injected fault (``plain``: a webhook-style text body)."""
    status = fault.status
    if status is None:  # an error without a status: only reaches here for the sinks
        status = _RESPONSE_ERROR_STATUS.get(fault.error or "", 400)
        return _Answer.text(status, fault.body or fault.error or "invalid_payload")
    if status == 429:
        headers = {"Retry-After": str(fault.retry_after if fault.retry_after is not None else 1)}
        if plain:
            answer = _Answer.text(429, fault.body or "rate_limited")
            answer.headers = headers
            return answer
        return _Answer.json(429, {"ok": False, "error": "ratelimited"}, headers)
    if status >= 500 and fault.body is None:
        reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
        page = f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
        return _Answer.text(status, page, content_type="text/html; charset=utf-8")
    if fault.body is not None:
        return _Answer.text(status, fault.body)
    if plain:
        return _Answer.text(status, fault.error or f"http_{status}")
    return _Answer.json(status, {"ok": False, "error": fault.error or f"http_{status}"})


def _summary(body: Json, limit: int = 160) -> str:
    text = json.dumps(body, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------- methods
# Each handler runs with the stand-in's lock held, after auth, scope and required-argument checks.


@_api("auth.test")
def _auth_test(s: SlackStandIn, args: Json) -> Json:
    return {
        "url": "https://standin.slack.com/",
        "team": s.team_name,
        "user": s.bot_name,
        "team_id": s.team_id,
        "user_id": s.bot_user_id,
        "bot_id": s.bot_id,
        "is_enterprise_install": False,
    }


@_api("apps.connections.open", token="app", required=())
def _apps_connections_open(s: SlackStandIn, args: Json) -> Json:
    url = s.socket_mode_url or f"ws://{s.root_url.removeprefix('http://')}/link/?ticket={uuid.uuid4()}"
    return {"url": url}


@_api("chat.postMessage")
def _chat_post_message(s: SlackStandIn, args: Json) -> Json:
    channel = s._postable_channel(str(args["channel"]))
    content = _message_content(args)
    message = StoredMessage(
        channel=channel.id,
        ts=s._next_ts(),
        user=s.bot_user_id,
        bot_id=s.bot_id,
        thread_ts=_opt_str(args.get("thread_ts")),
        reply_broadcast=_truthy(args.get("reply_broadcast")),
        metadata=args.get("metadata"),
        **content,
    )
    s._messages.append(message)
    return {"channel": channel.id, "ts": message.ts, "message": s._message_json(message)}


@_api("chat.update")
def _chat_update(s: SlackStandIn, args: Json) -> Json:
    channel = s._find_channel(str(args["channel"]))
    ts = str(args["ts"])
    if any(e.channel == channel.id and e.message_ts == ts for e in s._ephemerals):
        raise _SlackError("cant_update_message")
    message = s._find_message(channel.id, ts)
    if message is None:
        raise _SlackError("message_not_found")
    if message.user != s.bot_user_id:
        raise _SlackError("cant_update_message")
    content = _message_content(args)
    message.edits.append({"text": message.text, "blocks": message.blocks, "attachments": message.attachments})
    # Slack keeps blocks/attachments that the update leaves out; an empty list removes them.
    message.text = content.get("text", message.text)
    for key in ("blocks", "attachments"):
        if key in args and args[key] is not None:
            setattr(message, key, content.get(key) or None)
    return {
        "channel": channel.id,
        "ts": ts,
        "text": message.text or "",
        "message": s._message_json(message),
    }


@_api("chat.postEphemeral")
def _chat_post_ephemeral(s: SlackStandIn, args: Json) -> Json:
    channel = s._postable_channel(str(args["channel"]))
    user = str(args["user"])
    if user not in s._members(channel):
        raise _SlackError("user_not_in_channel")
    content = _message_content(args)
    ephemeral = StoredEphemeral(
        channel=channel.id,
        user=user,
        message_ts=s._next_ts(),
        thread_ts=_opt_str(args.get("thread_ts")),
        **content,
    )
    s._ephemerals.append(ephemeral)
    return {"message_ts": ephemeral.message_ts}


@_api("conversations.open")
def _conversations_open(s: SlackStandIn, args: Json) -> Json:
    if _opt_str(args.get("channel")):
        channel = s._find_channel(str(args["channel"]))
        if not (channel.is_im or channel.is_mpim):
            raise _SlackError("method_not_supported_for_channel_type")
        existed = True
    else:
        user_ids = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not user_ids:
            raise _SlackError("users_list_not_supplied")
        if len(user_ids) > 8:
            raise _SlackError("too_many_users")
        for user_id in user_ids:
            user = s._users.get(user_id)
            if user is None:
                raise _SlackError("user_not_found")
            if user.deleted:
                raise _SlackError("user_disabled")
        if len(user_ids) == 1:
            channel, existed = s._open_dm(user_ids[0])
        else:
            channel, existed = s._open_mpim(user_ids)
    result: Json = {"channel": s._channel_json(channel) if _truthy(args.get("return_im")) else {"id": channel.id}}
    if existed:
        result.update(no_op=True, already_open=True)
    return result


@_api("conversations.info")
def _conversations_info(s: SlackStandIn, args: Json) -> Json:
    channel = s._visible_channel(str(args["channel"]))
    return {"channel": s._channel_json(channel, num_members=_truthy(args.get("include_num_members")))}


@_api("conversations.members")
def _conversations_members(s: SlackStandIn, args: Json) -> Json:
    channel = s._visible_channel(str(args["channel"]))
    try:
        limit = int(args.get("limit") or 100)
    except ValueError as exc:
        raise _SlackError("invalid_limit") from exc
    if not 1 <= limit <= 1000:
        raise _SlackError("invalid_limit")
    cursor = _opt_str(args.get("cursor"))
    offset = _decode_cursor(cursor) if cursor else 0
    members = s._members(channel)
    end = offset + limit
    next_cursor = _encode_cursor(end) if end < len(members) else ""
    return {"members": members[offset:end], "response_metadata": {"next_cursor": next_cursor}}


@_api("users.info")
def _users_info(s: SlackStandIn, args: Json) -> Json:
    user = s._users.get(str(args["user"]))
    if user is None:
        raise _SlackError("user_not_found")
    return {"user": s._user_json(user)}


@_api("users.lookupByEmail")
def _users_lookup_by_email(s: SlackStandIn, args: Json) -> Json:
    email = str(args["email"]).strip().lower()
    for user in s._users.values():
        if user.email and user.email.lower() == email and not user.deleted:
            return {"user": s._user_json(user)}
    raise _SlackError("users_not_found")


@_api("usergroups.users.list")
def _usergroups_users_list(s: SlackStandIn, args: Json) -> Json:
    if not s.usergroups_enabled:
        raise _SlackError("plan_upgrade_required")
    members = s._usergroups.get(str(args["usergroup"]))
    if members is None:
        raise _SlackError("no_such_subteam")
    return {"users": list(members)}


@_api("reactions.add")
def _reactions_add(s: SlackStandIn, args: Json) -> Json:
    name = str(args["name"])
    if ":" in name or not name.strip() or " " in name:
        raise _SlackError("invalid_name")
    channel = s._find_channel(str(args["channel"]))
    message = s._find_message(channel.id, str(args["timestamp"]))
    if message is None:
        raise _SlackError("message_not_found")
    users = message.reactions.setdefault(name, [])
    if s.bot_user_id in users:
        raise _SlackError("already_reacted")
    users.append(s.bot_user_id)
    return {}


@_api("views.open")
def _views_open(s: SlackStandIn, args: Json) -> Json:
    trigger_id = _opt_str(args.get("trigger_id")) or _opt_str(args.get("interactivity_pointer"))
    if trigger_id is None:
        raise _invalid_arguments("missing required field: trigger_id")
    view = _view_arg(args, ("modal",))
    s._exchange_trigger(trigger_id)
    stored = s._store_view(view)
    s._view_stacks[stored["id"]] = [stored["id"]]
    s._last_root_view = stored["id"]
    return {"view": stored}


@_api("views.push", required=("trigger_id", "view"))
def _views_push(s: SlackStandIn, args: Json) -> Json:
    view = _view_arg(args, ("modal",))
    trigger = s._exchange_trigger(str(args["trigger_id"]))
    source = s._views.get(trigger.view_id) if trigger.view_id else None
    root = source["root_view_id"] if source else s._last_root_view
    stack = s._view_stacks.get(root) if root else None
    if stack is None:
        raise _SlackError("not_found")
    if len(stack) >= _MAX_PUSHED_VIEWS:
        raise _SlackError("push_limit_reached")
    stored = s._store_view(view, root_view_id=root, previous_view_id=stack[-1])
    stack.append(stored["id"])
    return {"view": stored}


@_api("views.update")
def _views_update(s: SlackStandIn, args: Json) -> Json:
    view_id = _opt_str(args.get("view_id"))
    external_id = _opt_str(args.get("external_id"))
    if view_id is None and external_id is None:
        raise _invalid_arguments("either view_id or external_id is required")
    if view_id is None:
        view_id = s._view_by_external_id.get(str(external_id))
    existing = s._views.get(view_id) if view_id else None
    if existing is None or view_id is None:
        raise _SlackError("not_found")
    view = _view_arg(args, (existing["type"],))
    given_hash = _opt_str(args.get("hash"))
    if given_hash is not None and given_hash != existing["hash"]:
        raise _SlackError("hash_conflict")
    stored = s._store_view(
        view,
        view_id=view_id,
        root_view_id=existing["root_view_id"],
        previous_view_id=existing["previous_view_id"],
    )
    return {"view": stored}


@_api("views.publish")
def _views_publish(s: SlackStandIn, args: Json) -> Json:
    if not s.home_tab_enabled:
        raise _SlackError("not_enabled")
    user_id = str(args["user_id"])
    view = _view_arg(args, ("home",))
    existing_id = s._home_views.get(user_id)
    given_hash = _opt_str(args.get("hash"))
    if given_hash is not None and existing_id and given_hash != s._views[existing_id]["hash"]:
        raise _SlackError("hash_conflict")
    stored = s._store_view(view, view_id=existing_id)
    s._home_views[user_id] = stored["id"]
    return {"view": stored}


@_api("files.getUploadURLExternal")
def _files_get_upload_url_external(s: SlackStandIn, args: Json) -> Json:
    try:
        length = int(args["length"])
    except (TypeError, ValueError) as exc:
        raise _invalid_arguments("length must be an integer") from exc
    if length < 0:
        raise _invalid_arguments("length must be non-negative")
    file_id = s._next_id("F")
    s._uploads[file_id] = StoredUpload(
        file_id=file_id,
        filename=str(args["filename"]),
        length=length,
        alt_txt=_opt_str(args.get("alt_txt")),
        snippet_type=_opt_str(args.get("snippet_type")),
    )
    return {"upload_url": f"{s.root_url}/upload/{file_id}", "file_id": file_id}


@_api("files.completeUploadExternal")
def _files_complete_upload_external(s: SlackStandIn, args: Json) -> Json:
    files = args["files"]
    if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("id") for f in files):
        raise _invalid_arguments("files must be a JSON array of objects with an id")
    uploads: list[tuple[StoredUpload, Json]] = []
    for item in files:
        upload = s._uploads.get(str(item["id"]))
        if upload is None or upload.data is None:  # never issued, or the bytes never arrived
            raise _SlackError("file_not_found")
        uploads.append((upload, item))
    channel_id = _opt_str(args.get("channel_id"))
    channels = [c.strip() for c in str(args.get("channels") or "").split(",") if c.strip()]
    for ref in [channel_id] if channel_id else channels:
        channel = s._find_channel(ref)
        if not channel.bot_is_member:
            raise _SlackError("not_in_channel")
    result: list[Json] = []
    for upload, item in uploads:
        upload.completed = True
        upload.title = _opt_str(item.get("title")) or upload.filename
        upload.channel_id = channel_id
        upload.channels = channels
        upload.thread_ts = _opt_str(args.get("thread_ts"))
        upload.initial_comment = _opt_str(args.get("initial_comment"))
        mimetype = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
        result.append(
            {
                "id": upload.file_id,
                "created": _EPOCH,
                "timestamp": _EPOCH,
                "name": upload.filename,
                "title": upload.title,
                "mimetype": mimetype,
                "filetype": upload.filename.rpartition(".")[2] if "." in upload.filename else "binary",
                "user": s.bot_user_id,
                "user_team": s.team_id,
                "size": len(upload.data or b""),
                "is_external": False,
                "url_private": f"{s.root_url}/files/{upload.file_id}/{upload.filename}",
            }
        )
    return {"files": result}


# ------------------------------------------------------------------------------ fixture and CLI


def seed_default_directory(standin: SlackStandIn) -> None:
    """Two people, an admin user group and the private admin channel the bot is in."""
    standin.add_user("U0ADMIN", name="admin", real_name="Ada Admin", email="admin@example.com")
    standin.add_user("U0DEV", name="dev", real_name="Dev Eloper", email="dev@example.com")
    standin.add_usergroup("S0ADMINS", ["U0ADMIN"])
    standin.add_channel("C0ADMIN", name="claude-key-admins", is_private=True, members=["U0ADMIN"])


def _with_loopback(no_proxy: str | None) -> str:
    hosts = [h.strip() for h in (no_proxy or "").split(",") if h.strip()]
    return ",".join([*hosts, *(h for h in ("127.0.0.1", "localhost") if h not in hosts)])


#: Proxy variables the fixture removes. slack_sdk's sync client honours NO_PROXY (through urllib), but
#: AsyncWebClient and AsyncWebhookClient read HTTPS_PROXY themselves and hand it to aiohttp explicitly,
#: which then ignores NO_PROXY, so loopback calls would go to the proxy.
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def slack_standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackStandIn]:
    """A running stand-in with :func:`seed_default_directory` applied.

    For the test's duration the proxy variables are removed and NO_PROXY covers loopback (see
    :data:`PROXY_VARIABLES`), so both the sync and the async slack_sdk clients reach the stand-in.
    """
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, _with_loopback(os.environ.get(name)))
    with SlackStandIn() as standin:
        seed_default_directory(standin)
        yield standin


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.standins.slack_api --port 0``: prints ``READY <base_url>``, serves until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bot-token", default="xoxb-standin-token")
    parser.add_argument("--app-token", default="xapp-standin-token")
    parser.add_argument("--team-id", default="T0STANDIN")
    parser.add_argument("--bot-user-id", default="U0BOT")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--empty", action="store_true", help="skip the default users and admin channel")
    options = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    standin = SlackStandIn(
        bot_token=options.bot_token,
        app_token=options.app_token,
        team_id=options.team_id,
        bot_user_id=options.bot_user_id,
        port=options.port,
    )
    standin.latency = options.latency
    if not options.empty:
        seed_default_directory(standin)
    with standin:
        print(f"READY {standin.base_url}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
