"""The leaver-sweep proposal's buttons: Offboard (confirmed in Slack's dialog) and Not a leaver."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Worker
from bot.slack.ids import Action
from bot.team.leaver_model import LeaverRef
from handlers.common import answer_later
from handlers.middleware import button
from handlers.tasks import Task


def register(app: AsyncApp, worker: Worker) -> None:
    """Register the leaver proposal's buttons (answers are ephemeral; the proposal is edited by the task)."""

    @app.action(Action.LEAVER_OFFBOARD, middleware=[button(LeaverRef, acks=False)])
    async def on_leaver_offboard(ack: AsyncAck, ref: LeaverRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("team.leaver.offboard", {"slack_user_id": clicker, "case_id": ref.c})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)

    @app.action(Action.LEAVER_NOT_A_LEAVER, middleware=[button(LeaverRef, acks=False)])
    async def on_not_a_leaver(ack: AsyncAck, ref: LeaverRef, clicker: str, respond: AsyncRespond) -> None:
        task = Task("team.leaver.not_a_leaver", {"slack_user_id": clicker, "case_id": ref.c})
        await answer_later(worker, respond, ack=ack, working=None, task=task, replace_original=False)
