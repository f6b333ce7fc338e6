"""Composition root: `create_app(settings, deps)` builds the Bolt app and registers every listener."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger import get_bolt_app_logger
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.core.errors import SORRY
from bot.deps import Deps
from bot.logs import new_request_id, request_id_var
from bot.metrics import Interaction, current_interaction
from bot.slack.client import make_async_web_client
from bot.slack.commands import Sub
from bot.slack.ids import Action, Callback
from bot.slack.runner import AckResumedRunner, ResumingAck
from handlers.listeners import register as register_listeners
from handlers.router import Router
from storage import repositories as repo
from storage.db import session_scope

logger = logging.getLogger(__name__)


class _DropTokenFallbackWarning(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment and warns that our explicit client wins: it does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_bolt_logger = logging.getLogger("bot.bolt")
_bolt_logger.addFilter(_DropTokenFallbackWarning())

# Metric labels come from these closed sets; anything else is "other".
_COMMANDS = frozenset(sub.value for sub in Sub)
_ACTIONS = frozenset(action.value for action in Action)
_CALLBACKS = frozenset(callback.value for callback in Callback)
_EVENTS = frozenset({"app_home_opened"})
# Recording an event id runs before Bolt acks the event; past this the event is handled without the check.
EVENT_DEDUPE_TIMEOUT = 1.0


def _known(value: Any, names: frozenset[str]) -> str:
    return value if isinstance(value, str) and value in names else "other"


def interaction_of(body: dict[str, Any]) -> Interaction:
    """What kind of Slack request `body` is, with a bounded name (pure dict work: this runs before the ack)."""
    if "command" in body:
        words = str(body.get("text") or "")[:64].split(None, 1)
        return Interaction("command", _known(words[0].lower(), _COMMANDS) if words else Sub.HELP.value)
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        return Interaction("action", _known(first.get("action_id"), _ACTIONS))
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        view = view if isinstance(view, dict) else {}
        return Interaction("view", _known(view.get("callback_id"), _CALLBACKS))
    if kind == "event_callback":
        event = body.get("event")
        event = event if isinstance(event, dict) else {}
        return Interaction("event", _known(event.get("type"), _EVENTS))
    return Interaction("other", "other")


def _record_event(deps: Deps, event_id: str) -> bool:
    with session_scope(deps.engine) as session:
        return repo.mark_event_processed(session=session, event_id=event_id[:64], now=deps.clock())


async def _first_delivery(deps: Deps, event_id: str, request: AsyncBoltRequest) -> bool:
    """Record the event id in the database; False when any replica recorded it before (a Slack retry)."""
    try:
        first = await asyncio.wait_for(deps.run(_record_event, deps, event_id), EVENT_DEDUPE_TIMEOUT)
    except Exception as exc:  # the database is slow or down: handling an event twice beats dropping it
        logger.warning("could not record event %s (%s); handling it anyway", event_id, type(exc).__name__)
        return True
    if not first:
        retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
        reason = (request.headers.get("x-slack-retry-reason") or ["?"])[0]
        logger.info("event %s already handled; skipped Slack's retry %s (%s)", event_id, retry, reason[:40])
    return first


class RequestContext(AsyncMiddleware):
    """Global middleware: a request id and metric labels for everything this request does, and Events API
    de-duplication by event_id. Only event_callback bodies touch the database (events are acked after the
    global middleware anyway); commands and clicks pass through with a few dict lookups. A class, not a function:
    Bolt builds a function middleware's keyword arguments (some thirty) for every request."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            event_id = None
        request_id_var.set(event_id or new_request_id())
        interaction = interaction_of(body)
        current_interaction.set(interaction)
        logger.debug("slack request: %s %s", interaction.kind, interaction.name)
        if event_id is not None and not await _first_delivery(self.deps, event_id, req):
            return BoltResponse(status=200, body="")  # acked; no listener runs
        return await next()


# Web API clients kept for reuse, one per Slack team (an Enterprise Grid org has many teams).
MAX_TEAM_CLIENTS = 1_000


class BotApp(AsyncApp):
    """The Bolt app with its own subcommand router (never a process-wide table), whose listener runner returns
    an ack as soon as it is set (`bot.slack.runner`) rather than within Bolt's 10 ms poll, and whose requests
    share their team's Web API client."""

    router: Router

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._async_listener_runner = AckResumedRunner.replacing(self._async_listener_runner)
        self._team_clients: dict[str | None, AsyncWebClient] = {}

    def _init_context(self, req: AsyncBoltRequest) -> None:
        """Bolt's, with one Web API client per team rather than one per request: building an AsyncWebClient reads
        the proxy environment and the platform for every request. Our listeners never change a client's token
        (one bot token for every team this app serves), so sharing it is safe."""
        super_client = self._async_client
        team_id = req.context.team_id
        client = self._team_clients.get(team_id)
        if client is None:
            client = AsyncWebClient(
                token=self._token,
                base_url=super_client.base_url,
                timeout=super_client.timeout,
                ssl=super_client.ssl,
                proxy=super_client.proxy,
                session=super_client.session,
                trust_env_in_session=super_client.trust_env_in_session,
                headers=super_client.headers,
                team_id=team_id,
                logger=super_client.logger,
                retry_handlers=super_client.retry_handlers.copy() if super_client.retry_handlers is not None else None,
            )
            if len(self._team_clients) < MAX_TEAM_CLIENTS:  # the edge lets only the served team(s) in anyway
                self._team_clients[team_id] = client
        req.context["logger"] = get_bolt_app_logger(app_name=self.name, base_logger=self._base_logger)
        req.context["token"] = self._token
        req.context["client"] = client
        req.context["listener_runner"] = self.listener_runner

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        req.context["ack"] = ResumingAck()  # before any middleware asks for one
        return await super().async_dispatch(req)


def create_app(settings: Settings, deps: Deps, *, socket_mode: bool = False) -> BotApp:
    """The Bolt app: the app's own client on SLACK_API_URL, listeners. In HTTP mode it is served only behind
    `bot.http.create_web_app`, whose edge checks every signature on the raw bytes before Bolt sees the request,
    so Bolt does not check it a second time."""
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if not socket_mode and not signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is required in HTTP mode")
    app = BotApp(
        client=make_async_web_client(settings),
        signing_secret=signing_secret or "socket-mode-does-not-sign",
        request_verification_enabled=False,
        logger=_bolt_logger,
    )

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: Any = None) -> None:
        # The type and the Slack user are enough to find it; bodies can carry response_urls.
        user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else body.get("user_id")
        logger.error("listener failed for %s: %s", user, type(error).__name__, exc_info=error)
        if respond is not None and body.get("response_url"):
            try:
                await respond(text=SORRY, response_type="ephemeral", replace_original=False)
            except Exception:  # the apology is best effort; the error is already logged
                logger.warning("could not tell the user about the failure")

    app.use(RequestContext(deps))
    app.router = register_listeners(app, deps)
    return app
