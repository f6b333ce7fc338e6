"""After the ack: run a service on the worker pool and answer through response_url, whatever happens."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt.async_app import AsyncRespond
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.anthropic_admin import AdminAPIError
from bot.deps import Deps
from bot.services.common import DB_UNAVAILABLE, SORRY, Reply, UserError
from bot.services.identity import IdentityError

logger = logging.getLogger(__name__)

WORKING = "Working on it…"


def reply_for(exc: BaseException) -> Reply:
    """The one sentence a user sees for a failure (the one place errors become words)."""
    if isinstance(exc, UserError | IdentityError | AdminAPIError):
        return Reply(exc.user_message)
    if isinstance(exc, OperationalError | InterfaceError):  # the connection, not our SQL
        logger.warning("database unavailable while answering a command")
        return Reply(DB_UNAVAILABLE)
    logger.error("command failed: %s", type(exc).__name__, exc_info=exc)
    return Reply(SORRY)


async def run_for_reply(deps: Deps, work: Callable[[], Reply | None]) -> Reply | None:
    """Run `work` off the event loop; turn every failure into one clear sentence for the user."""
    try:
        return await deps.run(work)
    except Exception as exc:
        return reply_for(exc)


async def answer_later(
    deps: Deps, respond: AsyncRespond, work: Callable[[], Reply | None], *, replace_original: bool = True
) -> None:
    """Run `work` after the ack and answer through response_url (nothing when it returns None)."""
    reply = await run_for_reply(deps, work)
    if reply is None:
        return
    try:
        await respond(
            text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=replace_original
        )
    except Exception as exc:  # an expired or unreachable response_url: the work is done, only the answer is lost
        logger.warning("could not answer through response_url: %s", type(exc).__name__)


async def tell_later(deps: Deps, *, user: str, channel: str | None, work: Callable[[], Reply | None]) -> None:
    """For modal submissions (no response_url): answer ephemerally in `channel`, else by DM."""
    reply = await run_for_reply(deps, work)
    if reply is None:
        return

    def deliver(reply: Reply) -> None:
        if channel:
            try:
                deps.notifier.ephemeral(channel, user, reply.text, reply.blocks)
                return
            except Exception:  # not in that channel, or it is gone: a DM always reaches them
                logger.info("ephemeral answer failed; sending a DM instead")
        deps.notifier.dm(user, reply.text, reply.blocks)

    try:
        await deps.run(deliver, reply)
    except Exception as exc:
        logger.warning("could not deliver an answer to %s: %s", user, type(exc).__name__)
