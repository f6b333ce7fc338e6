"""After the ack: run a service on the worker pool and answer through response_url, whatever happens."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt.async_app import AsyncRespond
from sqlalchemy.exc import DBAPIError

from bot.anthropic_admin import AdminAPIError
from bot.deps import Deps
from bot.services.common import DB_UNAVAILABLE, SORRY, Reply, UserError
from bot.services.identity import IdentityError

logger = logging.getLogger(__name__)

WORKING = "Working on it…"


async def answer_later(
    deps: Deps, respond: AsyncRespond, work: Callable[[], Reply], *, replace_original: bool = True
) -> None:
    """Run `work` off the event loop and answer with its Reply, or with one clear sentence on failure."""
    try:
        reply = await deps.run(work)
    except (UserError, IdentityError, AdminAPIError) as exc:
        reply = Reply(exc.user_message)
    except DBAPIError:
        logger.warning("database unavailable while answering a command")
        reply = Reply(DB_UNAVAILABLE)
    except Exception as exc:
        logger.error("command failed: %s", type(exc).__name__, exc_info=exc)
        reply = Reply(SORRY)
    await respond(
        text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=replace_original
    )
