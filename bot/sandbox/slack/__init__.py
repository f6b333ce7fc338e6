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

Block Kit (``blockkit``) is checked as Slack does on ``chat.postMessage``/``chat.update``/``chat.postEphemeral``
(``invalid_blocks`` with ``errors`` and ``response_metadata.messages`` such as ``"[ERROR] must be less than 3001
characters [json-pointer:/blocks/0/text/text]"``), on ``views.*`` (``invalid_arguments`` with the same messages)
and on response_urls (``400 "invalid_blocks"``). A message's top-level ``text`` is cut at 40,000, not refused.

Rate limits (``ratelimit``): with ``tiers=True`` each method has its tier's calls a minute (from its document;
``chat.postMessage`` per channel), a minute lasting ``60 * time_scale`` seconds; over it: HTTP 429,
``Retry-After`` in whole seconds and ``{"ok": false, "error": "ratelimited"}``. Off by default.

``users.list`` pages with ``cursor``/``limit`` (at most 1,000 a page) and lists deleted people, bots and Slackbot.

response_url rules: Slack documents "up to 5 times within 30 minutes" but not the errors. This
stand-in answers like Slack's webhook endpoints (plain-text bodies): ``200 "ok"``; a body that is
not a JSON object → ``400 "invalid_payload"``; an id it never issued → ``404 "no_service"``; a sixth
use → ``404 "used_url"``; older than :attr:`SlackStandIn.response_url_ttl` → ``404 "expired_url"``.
The last three strings are what Slack is reported to send, not documented values. Rejected posts
are recorded too (with their status) but do not count as uses.

Modules: ``standin`` (lifecycle, observations, routing) on ``directory`` (seeding, faults to inject) on
``state`` (identity, knobs, stored data, one lock); ``api`` (the method table and the checks above) with
the method handlers by family in ``chat``, ``conversations``, ``workspace``, ``views`` and ``files``;
``render`` (the JSON of messages, conversations and users); ``sinks`` (uploads and response_urls);
``control`` (``/_standin/...``); ``faults``; ``blockkit``; ``ratelimit``; ``transport`` (the HTTP server);
``docs`` (the method documents in ``methods/``, Slack's own, see ``methods/README.md``); ``cli``
(``python -m bot.sandbox.slack``).
"""

from bot.sandbox.loopback import PROXY_VARIABLES
from bot.sandbox.slack.args import JSON_ENCODED_FIELDS
from bot.sandbox.slack.cli import main
from bot.sandbox.slack.directory import seed_default_directory
from bot.sandbox.slack.faults import Fault
from bot.sandbox.slack.records import ResponseCall, SlackCall, StoredEphemeral, StoredMessage, StoredUpload
from bot.sandbox.slack.standin import SlackStandIn
from bot.sandbox.slack.state import DEFAULT_SCOPES

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
]
