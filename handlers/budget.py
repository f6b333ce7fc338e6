"""`/claude-key budget …` and the "Set as Anthropic spend limit" button: parse → ack → service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Deps
from bot.services import budgets
from bot.slack.budget_blocks import MirrorPayload
from bot.slack.commands import Parsed, Sub
from bot.slack.ids import Action
from bot.slack.reply import Reply
from handlers.common import WORKING, answer_later
from handlers.fallbacks import STALE_BUTTON
from handlers.router import Router


async def on_budget(
    ack: AsyncAck, command: dict[str, Any], parsed: Parsed, deps: Deps, respond: AsyncRespond, **_: Any
) -> None:
    """Show, set, or change the thresholds of budgets."""
    try:
        wanted = budgets.parse_budget(parsed.args)
    except budgets.BudgetSyntaxError as exc:
        await ack(text=str(exc), response_type="ephemeral")
        return
    await ack(text=WORKING, response_type="ephemeral")
    user = command["user_id"]
    work: Callable[[], Reply]
    if wanted.action == "set" and wanted.amount is not None:
        amount, workspace = wanted.amount, wanted.workspace
        work = lambda: budgets.set_budget(deps, user, amount, workspace)  # noqa: E731
    elif wanted.action == "thresholds":
        marks = wanted.thresholds
        work = lambda: budgets.set_thresholds(deps, user, marks)  # noqa: E731
    else:
        work = lambda: budgets.show_budgets(deps, user)  # noqa: E731
    await answer_later(deps, respond, work)


def register(app: AsyncApp, deps: Deps, router: Router) -> None:
    """Claim the `budget` subcommand and the Mirror button."""
    router.add(Sub.BUDGET, on_budget)

    @app.action(Action.BUDGET_MIRROR)
    async def on_mirror(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        try:
            payload = MirrorPayload.model_validate_json(action.get("value") or "")
        except ValidationError:
            await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        user = body["user"]["id"]
        await answer_later(deps, respond, lambda: budgets.mirror_budget(deps, user, payload.scope_key))
