"""Composition root: `create_app(settings, deps)` builds the Bolt app and registers every listener."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.config import Settings
from bot.core.errors import SORRY
from bot.deps import Deps
from bot.logs import new_request_id, request_id_var
from bot.metrics import Interaction, current_interaction
from bot.slack.client import make_async_web_client
from bot.slack.commands import Sub
from bot.slack.ids import Action, Callback
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


def request_context_middleware(deps: Deps) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Global middleware: a request id and metric labels for everything this request does, and Events API
    de-duplication by event_id. Only event_callback bodies touch the database (events are acked after the
    global middleware anyway); commands and clicks pass through with a few dict lookups."""

    async def request_context(
        body: dict[str, Any], request: AsyncBoltRequest, next: Callable[[], Awaitable[Any]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            event_id = None
        request_id_var.set(event_id or new_request_id())
        interaction = interaction_of(body)
        current_interaction.set(interaction)
        logger.debug("slack request: %s %s", interaction.kind, interaction.name)
        if event_id is not None and not await _first_delivery(deps, event_id, request):
            return BoltResponse(status=200, body="")  # acked; no listener runs
        await next()
        return None

    return request_context


class BotApp(AsyncApp):
    """The Bolt app with its own subcommand router (never a process-wide table)."""

    router: Router


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

    app.use(request_context_middleware(deps))
    app.router = register_listeners(app, deps)
    return app
