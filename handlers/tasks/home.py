"""Tasks of the App Home tab: a click on Home runs the task the same click elsewhere runs, answers by DM (a
Home click has no response_url), then re-publishes the clicker's Home so it shows the outcome."""

from __future__ import annotations

import logging

from bot.deps import Deps
from bot.home import service as home
from bot.slack.reply import Reply
from handlers.tasks.base import JSON, Task, TaskError, run_task, task

logger = logging.getLogger(__name__)

#: The tasks a Home button may run (each re-checks who may do it); anything else stored under home.act is refused.
HOME_TASKS = frozenset(
    {"request.approve", "request.deny", "request.file_form", "keys.rotate", "keys.revoke.confirm", "keys.check"}
)
#: Tasks that answer nothing themselves (the admin-channel card shows the outcome): told where it stands.
_DECISIONS = frozenset({"request.approve", "request.deny"})


@task("home.act")
def home_act(deps: Deps, *, slack_user_id: str, name: str, args: dict[str, JSON]) -> Reply | None:
    """Run `name` for a click on the clicker's Home tab; the Home is re-published whatever happens."""
    if name not in HOME_TASKS:
        raise TaskError(f"{name!r} is not a Home tab action")
    try:
        reply = run_task(deps, Task(name, {**args, "slack_user_id": slack_user_id}))  # always the clicker's own
        request_id = args.get("request_id")
        if reply is None and name in _DECISIONS and isinstance(request_id, int):
            reply = home.decision_answer(deps, request_id)
        return reply
    finally:  # a refusal (raised) is answered by the caller; the Home shows the state either way
        home.publish_home(deps, slack_user_id)
