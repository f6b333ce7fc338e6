"""`/claude-key budget …`, the "Set as Anthropic spend limit" button, a spike alert's Mark as planned and a
budget alert's View usage and Change budget (a modal): parse → ack → service → render."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Worker
from bot.slack.commands import Parsed, Sub
from bot.slack.ids import Action, Callback
from bot.spend import budget_form, budgets
from bot.spend.budget_form import BudgetFormMeta, ChangeBudgetPayload
from bot.spend.driver_model import PlannedPayload
from bot.spend.model import MirrorPayload, ViewUsagePayload
from handlers.answers import reply_for
from handlers.common import answer_later, tell_later
from handlers.middleware import button, modal
from handlers.router import Router
from handlers.tasks import JSON, Task

logger = logging.getLogger(__name__)


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

    # A budget alert's Change budget (admins): the modal opens at once (the trigger id lives 3 s), then shows the
    # form for an admin or the command's refusal for anyone else; the submission is re-checked by the task.
    @app.action(Action.BUDGET_CHANGE, middleware=[button(ChangeBudgetPayload)])
    async def on_change_budget(
        ref: ChangeBudgetPayload, clicker: str, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        meta = BudgetFormMeta(s=ref.s, c=(body.get("channel") or {}).get("id"))
        try:
            opened = await client.views_open(trigger_id=body["trigger_id"], view=budget_form.loading_modal())
        except SlackApiError as exc:
            logger.warning("could not open the budget form: %s", exc.response.get("error"))
            await respond(text=budget_form.FORM_NOT_OPENED, response_type="ephemeral", replace_original=False)
            return
        await fill_budget_form(worker, client, opened["view"]["id"], clicker, meta)

    @app.view(Callback.BUDGET_MODAL, middleware=[modal(BudgetFormMeta)])
    async def on_change_budget_submit(ack: AsyncAck, ref: BudgetFormMeta, clicker: str, view: dict[str, Any]) -> None:
        form = budget_form.read_budget_form(view)
        if isinstance(form, dict):
            await ack(response_action="errors", errors=form)
            return
        marks: JSON = list(form.thresholds) if form.thresholds is not None else None
        args: dict[str, JSON] = {"slack_user_id": clicker, "scope_key": ref.s, "amount": str(form.amount)}
        task = Task("budget.change", {**args, "thresholds": marks})
        await tell_later(worker, ack=ack, user=clicker, channel=ref.c, task=task)


async def fill_budget_form(
    worker: Worker, client: AsyncWebClient, view_id: str, clicker: str, meta: BudgetFormMeta
) -> None:
    """Replace the loading view with the form (an admin), or with the refusal or the failure's one sentence."""
    try:
        view = budget_form.budget_modal(await worker.run(budget_form.change_form, clicker, meta.s), meta)
    except Exception as exc:  # the command's refusal for non-admins; an unconfirmed role; the database down
        view = budget_form.refusal_modal(reply_for(exc).text)
    try:
        await client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:  # the clicker closed the modal meanwhile
        logger.info("budget form not updated: %s", exc.response.get("error"))
