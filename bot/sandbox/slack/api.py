"""The Web API: the methods the stand-in implements, and the checks every call goes through first.

Checks, in order: injected faults; unknown method; auth; scopes (from the method's document); required
arguments (from the method's document unless the table says otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.slack import chat, conversations, files, views, workspace
from bot.sandbox.slack.args import decode_body, opt_str
from bot.sandbox.slack.docs import method_doc, missing_arg_error
from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.faults import fault_answer
from bot.sandbox.slack.records import Json, SlackCall
from bot.sandbox.slack.state import SlackState
from bot.sandbox.slack.transport import Answer

Handler = Callable[[SlackState, Json], Json]


@dataclass(frozen=True)
class ApiMethod:
    """A Web API method: its handler, the token kind it takes and its required arguments."""

    handler: Handler
    token: str = "bot"  # "bot" or "app"
    required: tuple[str, ...] | None = None  # None: take args.required from the method document


METHODS: dict[str, ApiMethod] = {
    "auth.test": ApiMethod(workspace.auth_test),
    "apps.connections.open": ApiMethod(workspace.apps_connections_open, token="app", required=()),
    "chat.postMessage": ApiMethod(chat.chat_post_message),
    "chat.update": ApiMethod(chat.chat_update),
    "chat.postEphemeral": ApiMethod(chat.chat_post_ephemeral),
    "conversations.open": ApiMethod(conversations.conversations_open),
    "conversations.info": ApiMethod(conversations.conversations_info),
    "conversations.members": ApiMethod(conversations.conversations_members),
    "users.info": ApiMethod(workspace.users_info),
    "users.list": ApiMethod(workspace.users_list),
    "users.lookupByEmail": ApiMethod(workspace.users_lookup_by_email),
    "usergroups.users.list": ApiMethod(workspace.usergroups_users_list),
    "reactions.add": ApiMethod(chat.reactions_add),
    "views.open": ApiMethod(views.views_open),
    "views.push": ApiMethod(views.views_push, required=("trigger_id", "view")),
    "views.update": ApiMethod(views.views_update),
    "views.publish": ApiMethod(views.views_publish),
    "files.getUploadURLExternal": ApiMethod(files.files_get_upload_url_external),
    "files.completeUploadExternal": ApiMethod(files.files_complete_upload_external),
}


def required_args(method: str, spec: ApiMethod) -> tuple[str, ...]:
    """The arguments a call must carry (``token`` aside)."""
    if spec.required is not None:
        return spec.required
    required = method_doc(method).get("args", {}).get("required", [])
    return tuple(arg for arg in required if arg != "token")


def handle_api(
    s: SlackState, http_method: str, method: str, headers: dict[str, str], data: bytes, query: str
) -> Answer:
    """Answer one ``/api/<method>`` request and record it as a :class:`SlackCall`."""
    try:
        raw, body = decode_body(headers.get("content-type", ""), data, query)
        decode_error = None
    except SlackError as exc:
        raw, body, decode_error = {}, {}, exc
    answer = answer_api(s, method, headers, body, decode_error)
    with s._cond:
        s._calls.append(SlackCall(method, body, raw, dict(headers), answer.status, http_method, answer.payload))
        s._cond.notify_all()
    return answer


def answer_api(
    s: SlackState, method: str, headers: dict[str, str], args: Json, decode_error: SlackError | None
) -> Answer:
    """The checks in order, then the method's handler."""
    fault = s._take_fault(method)
    if fault is not None and fault.status is not None:
        return fault_answer(fault)
    spec = METHODS.get(method)
    if spec is None:
        return Answer.json(404, {"ok": False, "error": "unknown_method"})
    if s.tiers:
        wait = s.rate_limiter.retry_after(method, args, time_scale=s.time_scale)
        if wait is not None:
            return Answer.json(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
    with s._cond:  # one request's checks and state change see one consistent state
        auth_error = check_auth(s, spec, headers, args)
        if auth_error is not None:
            return Answer.json(200, {"ok": False, "error": auth_error})
        extra_headers = {"x-oauth-scopes": ",".join(sorted(s.scopes))} if spec.token == "bot" else {}
        try:
            if fault is not None and fault.error is not None:
                raise SlackError(fault.error)
            if decode_error is not None:
                raise decode_error
            check_scopes(s, method)
            for arg in required_args(method, spec):
                if args.get(arg) is None or args.get(arg) == "":
                    raise missing_arg_error(method, arg)
            result = spec.handler(s, args)
        except SlackError as exc:
            return Answer.json(200, {"ok": False, "error": exc.error, **exc.extra}, extra_headers)
        return Answer.json(200, {"ok": True, **result}, extra_headers)


def check_auth(s: SlackState, spec: ApiMethod, headers: dict[str, str], args: Json) -> str | None:
    """The auth error for this call's token, or None."""
    authorization = headers.get("authorization", "")
    token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    token = token or opt_str(args.get("token"))
    if not token:
        return "not_authed"
    kinds = {s.bot_token: "bot", s.app_token: "app"}
    if token not in kinds:
        return "invalid_auth"
    if kinds[token] != spec.token:
        return "not_allowed_token_type"
    return None


def check_scopes(s: SlackState, method: str) -> None:
    """Refuse (``missing_scope``) when the method needs a bot scope the stand-in lacks."""
    doc = method_doc(method)
    needed = doc.get("scope", {}).get("bot") or []
    if needed and not doc.get("no_scope_required") and not s.scopes & set(needed):
        raise SlackError("missing_scope", needed=",".join(needed), provided=",".join(sorted(s.scopes)))
