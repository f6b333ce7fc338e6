"""`/claude-key usage …`: parse → ack → answer after the ack → chart after the answer."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Deps, Worker
from bot.slack.commands import Parsed, Sub
from bot.slack.reply import Reply
from bot.spend import blocks_usage, usage
from bot.spend.model import ChartRequest
from handlers.common import WORKING, answer_later
from handlers.router import Router

logger = logging.getLogger(__name__)


async def on_usage(
    ack: AsyncAck, command: dict[str, Any], parsed: Parsed, worker: Worker, respond: AsyncRespond, **_: Any
) -> None:
    """Answer with tokens and cost; a chart of spend per day follows in the user's DM."""
    try:
        query = usage.parse_usage(parsed.args)
    except usage.UsageSyntaxError as exc:
        await ack(text=str(exc), response_type="ephemeral")
        return
    await ack(text=WORKING, response_type="ephemeral")
    charts: list[ChartRequest] = []

    def work(deps: Deps) -> Reply:
        report = usage.usage_report(deps, command["user_id"], query)
        chart = blocks_usage.usage_chart(report)
        if chart is not None:
            charts.append(chart)
        return blocks_usage.usage_reply(report)

    await answer_later(worker, respond, work)
    for chart in charts:  # the text answer is out; the chart never delays it
        await _send_chart(worker, respond, chart)


async def _send_chart(worker: Worker, respond: AsyncRespond, chart: ChartRequest) -> None:
    try:
        uploaded = await worker.run(usage.post_chart, chart)
    except Exception as exc:
        logger.warning("chart failed: %s", type(exc).__name__, exc_info=exc)
        uploaded = False
    if not uploaded:
        await respond(text=blocks_usage.CHART_FAILED, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp, worker: Worker, router: Router) -> None:
    """Claim the `usage` subcommand."""
    router.add(Sub.USAGE, on_usage)
