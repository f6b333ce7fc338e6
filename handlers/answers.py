"""How work becomes an answer: the one place errors become words and outcomes (`compute`), and the one
response_url poster, which sends the text alone when the blocks are refused (`post_answer`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.core.errors import SORRY, BotError
from bot.deps import DatabaseUnavailable, Deps, as_user_facing
from bot.metrics import ERROR, OK, REFUSED, Metrics
from bot.slack.reply import Reply
from bot.writes import explain, unit_of_work

logger = logging.getLogger("handlers.common")  # the answers' log lines keep the name operators know


def reply_for(exc: BaseException) -> Reply:
    """The one sentence a user sees for a failure (the one place errors become words)."""
    exc = as_user_facing(exc)
    if isinstance(exc, DatabaseUnavailable):
        logger.warning("database unavailable while answering a command")
    if isinstance(exc, BotError):
        return Reply(exc.user_message)
    logger.error("command failed: %s", type(exc).__name__, exc_info=exc)
    return Reply(SORRY)


def outcome_of(exc: BaseException | None) -> str:
    """The metrics outcome: ok, refused (the user was told no: a role, a state, bad input), or error."""
    if exc is None:
        return OK
    exc = as_user_facing(exc)
    if isinstance(exc, BotError) and exc.refused:
        return REFUSED
    return ERROR


Work = Callable[[Deps], Reply | None]


def failed(metrics: Metrics, exc: BaseException) -> Reply:
    """The answer for work that failed with `exc`, counted with its outcome."""
    outcome = outcome_of(exc)
    metrics.observe_interaction(outcome)
    logger.debug("answered: %s", outcome)
    return reply_for(exc)


def compute(deps: Deps, work: Work, *, retry: Callable[[BaseException], bool] | None = None) -> Reply | None:
    """Run `work` and turn every failure into one clear sentence; once an Admin API write may have happened,
    the sentence says what is known instead of "nothing was changed". `retry`: a failure it accepts, with no
    write made, is raised instead (for the caller to run the work again later)."""
    with unit_of_work() as changes:
        try:
            reply = work(deps)
        except Exception as exc:
            if retry is not None and not changes and retry(exc):
                raise
            answer = failed(deps.metrics, exc)
            known = explain(changes)
            return answer if known is None else Reply(known)
    deps.metrics.observe_interaction(OK)
    logger.debug("answered: %s", OK)
    return reply


def _post_to_response_url(response_url: str, reply: Reply, *, replace_original: bool) -> bool:
    # Sync client on the worker thread: the event loop is left to acks alone (bench/ack_latency.py).
    client = WebhookClient(response_url, timeout=10)

    def send(blocks: list[Block] | None) -> WebhookResponse:
        return client.send(text=reply.text, blocks=blocks, response_type="ephemeral", replace_original=replace_original)

    try:
        response = send(reply.blocks)
        if response.status_code == 400 and reply.blocks:  # Slack refused the blocks (invalid_blocks)
            logger.warning("response_url refused an answer's blocks: %s; sending its text alone", response.body[:100])
            response = send(None)
    except SlackObjectFormationError:  # slack_sdk refused the blocks before sending: the text alone still goes
        logger.warning("an answer's blocks were refused (SlackObjectFormationError); sending its text alone")
        response = send(None)
    if response.status_code != 200:
        logger.warning("response_url refused the answer: HTTP %s %s", response.status_code, response.body[:100])
        return False
    return True


def post_answer(response_url: str, reply: Reply, *, replace_original: bool) -> bool:
    """Answer through `response_url` (text alone when the blocks are refused); False when it didn't take it."""
    try:
        return _post_to_response_url(response_url, reply, replace_original=replace_original)
    except Exception as exc:
        logger.info("could not answer through response_url: %s", type(exc).__name__)
        return False
