"""`/claude-key budget …`, the "Set as Anthropic spend limit" button and a spike alert's Mark as planned:
parse → ack → service → render."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Worker
from bot.slack.commands import Parsed, Sub
from bot.slack.ids import Action
from bot.spend import budgets
from bot.spend.driver_model import PlannedPayload
from bot.spend.model import MirrorPayload, ViewUsagePayload
from handlers.common import answer_later
from handlers.middleware import button
from handlers.router import Router
from handlers.tasks import Task


async def on_budget(
    ack: AsyncAck, command: dict[str, Any], parsed: Parsed, worker: Worker, respond: AsyncRespond, **_: Any
) -> None:
    """Show, set, or change the thresholds of budgets."""
    try:
        budgets.parse_budget(parsed.args)  # refuse bad words in the ack; the task parses them again
    except budgets.BudgetSyntaxError as exc:
        await ack(text=str(exc), response_type="ephemeral")
        return
    task = Task("budget.answer", {"slack_user_id": command["user_id"], "args": list(parsed.args)})
    await answer_later(worker, respond, task, ack=ack)


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Claim the `budget` subcommand and the Mirror button."""
    router.add(Sub.BUDGET, on_budget)

    @app.action(Action.BUDGET_MIRROR, middleware=[button(MirrorPayload, acks=False)])
    async def on_mirror(ack: AsyncAck, ref: MirrorPayload, clicker: str, respond: AsyncRespond) -> None:
        task = Task("budget.mirror", {"slack_user_id": clicker, "scope_key": ref.scope_key})
        await answer_later(worker, respond, ack=ack, working=None, task=task)

    # Spend alerts that explain themselves: Mark as planned on a spike alert (admins, re-checked by the task).
    @app.action(Action.SPIKE_PLANNED, middleware=[button(PlannedPayload, acks=False)])
    async def on_spike_planned(
        ack: AsyncAck, ref: PlannedPayload, clicker: str, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        container = body.get("container") or {}
        blocks = (body.get("message") or {}).get("blocks") or []
        where = {"channel": container.get("channel_id"), "ts": container.get("message_ts"), "blocks": blocks}
        task = Task("budget.spike_planned", {"slack_user_id": clicker, "scope_key": ref.s, "day": ref.d, **where})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    # A button at every next step: a budget alert's View usage, for whoever clicks (the usage task
    # decides what they may see).
    @app.action(Action.BUDGET_VIEW_USAGE, middleware=[button(ViewUsagePayload, acks=False)])
    async def on_view_usage(ack: AsyncAck, ref: ViewUsagePayload, clicker: str, respond: AsyncRespond) -> None:
        task = Task("budget.view_usage", {"slack_user_id": clicker, "workspace_id": ref.w})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)
