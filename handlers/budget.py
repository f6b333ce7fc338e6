"""`/claude-key budget …` and the "Set as Anthropic spend limit" button: parse → ack → service → render."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Deps, Worker
from bot.slack.commands import Parsed, Sub
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.spend import blocks_budgets, budgets
from bot.spend.model import BudgetCommand, MirrorPayload
from handlers.common import WORKING, answer_later
from handlers.middleware import button
from handlers.router import Router


def _answer(deps: Deps, user: str, wanted: BudgetCommand) -> Reply:
    """Run the parsed `budget` command and render its answer."""
    if wanted.action == "set" and wanted.amount is not None:
        return blocks_budgets.budget_saved(budgets.set_budget(deps, user, wanted.amount, wanted.workspace))
    if wanted.action == "thresholds":
        return blocks_budgets.thresholds_saved(budgets.set_thresholds(deps, user, wanted.thresholds))
    return blocks_budgets.budget_list(budgets.show_budgets(deps, user))


async def on_budget(
    ack: AsyncAck, command: dict[str, Any], parsed: Parsed, worker: Worker, respond: AsyncRespond, **_: Any
) -> None:
    """Show, set, or change the thresholds of budgets."""
    try:
        wanted = budgets.parse_budget(parsed.args)
    except budgets.BudgetSyntaxError as exc:
        await ack(text=str(exc), response_type="ephemeral")
        return
    await ack(text=WORKING, response_type="ephemeral")
    user = command["user_id"]
    await answer_later(worker, respond, lambda deps: _answer(deps, user, wanted))


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Claim the `budget` subcommand and the Mirror button."""
    router.add(Sub.BUDGET, on_budget)

    @app.action(Action.BUDGET_MIRROR, middleware=[button(MirrorPayload)])
    async def on_mirror(ref: MirrorPayload, clicker: str, respond: AsyncRespond) -> None:
        await answer_later(
            worker,
            respond,
            lambda deps: blocks_budgets.mirror_outcome(budgets.mirror_budget(deps, clicker, ref.scope_key)),
        )
