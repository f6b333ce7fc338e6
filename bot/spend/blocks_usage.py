"""Block Kit for usage answers, the chart that follows them, and the App Home line (pure: data in, text out).

Money arrives as exact `Decimal` dollars (fractions of a cent included) and is rounded to cents here,
once, half-up, for display only.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from decimal import Decimal

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.core.format import percent, tokens, usd
from bot.slack.reply import Reply
from bot.slack.text import escape, escape_clip, when
from bot.spend.blocks_budgets import budget_line
from bot.spend.model import ChartRequest, Period, ScopeKind, SpendSummary, Tokens, UsageReport, Who

MAX_MODEL_LINES = 12

PERIOD_LABELS = {
    Period.TODAY: "today",
    Period.D7: "the last 7 days",
    Period.D30: "the last 30 days",
    Period.MTD: "this month",
}

CHART_FAILED = "I couldn't upload the chart to your DMs this time; the numbers above are complete."


def who_label(who: Who) -> str:
    """Whose usage, as mrkdwn: `you`, `the organization`, `workspace <name>`, `<@U…>`."""
    if who.kind is ScopeKind.ME:
        return "you"
    if who.kind is ScopeKind.ORG:
        return "the organization"
    if who.kind is ScopeKind.WORKSPACE:
        return f"workspace {escape(who.workspace_name or '')}"
    return f"<@{who.slack_user_id}>"


def plain_label(label: str) -> str:
    """A mrkdwn label as plain text (chart titles): `<@U1>` → `@U1`, entities decoded."""
    text = re.sub(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", r"@\1", label)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _token_line(t: Tokens) -> str:
    return f"{tokens(t.input)} in · {tokens(t.output)} out · {tokens(t.cache)} cache"


def usage_reply(report: UsageReport) -> Reply:
    """The usage answer: totals, a line per model, the budget position, data as of."""
    summary, tz = report.summary, report.tz
    label, period = who_label(report.who), PERIOD_LABELS[report.period]
    total_tokens = summary.total_tokens
    headline = f"Usage for {label}, {period}: {usd(summary.total)}"
    blocks: list[Block] = [
        SectionBlock(
            text=f"*Usage for {label}, {period}*\n*{usd(summary.total)}* · "
            + (f"{tokens(total_tokens.total)} tokens ({_token_line(total_tokens)})" if summary.tokens else "no tokens")
        )
    ]
    models = sorted(
        set(summary.by_model) | set(summary.tokens), key=lambda m: (-summary.by_model.get(m, Decimal(0)), m)
    )
    if models:
        lines = []
        for model in models[:MAX_MODEL_LINES]:
            cost = summary.by_model.get(model, Decimal(0))
            line = f"`{escape_clip(model, 60)}` {usd(cost)}"
            if model in summary.tokens:
                line += f" · {_token_line(summary.tokens[model])}"
            lines.append(line)
        if len(models) > MAX_MODEL_LINES:
            rest = sum((summary.by_model.get(m, Decimal(0)) for m in models[MAX_MODEL_LINES:]), Decimal(0))
            lines.append(f"{len(models) - MAX_MODEL_LINES} more models: {usd(rest)}")
        blocks.append(SectionBlock(text="\n".join(lines)))
    else:
        blocks.append(SectionBlock(text="No usage in this period."))
    split = product_split(summary)
    if split is not None:
        blocks.append(SectionBlock(text=split))
    if report.position is not None:
        blocks.append(SectionBlock(text=budget_line(report.position, tz)))
    notes = [f"Data as of {when(summary.data_as_of, tz)}; usage data can lag a few hours."]
    if report.chart_days is not None:
        notes.append("A chart of spend per day is on its way to your DMs.")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" ".join(notes))]))
    return Reply(headline, blocks)


def product_split(summary: SpendSummary) -> str | None:
    """`API and other $x · Claude Code $y` when the report split cost by product and Claude Code had a share."""
    claude_code = summary.claude_code
    if claude_code is None:
        return None
    rest = summary.total - claude_code
    return (
        f"*By product:* API and other {usd(rest)} ({percent(rest, summary.total)}) · "
        f"Claude Code {usd(claude_code)} ({percent(claude_code, summary.total)})"
    )


def usage_chart(report: UsageReport) -> ChartRequest | None:
    """The chart that follows the answer, titled and named for the upload; None when the report has none."""
    if report.chart_days is None:
        return None
    start, end = report.chart_days
    title = f"Spend per day: {plain_label(who_label(report.who))}, {PERIOD_LABELS[report.period]}"
    return ChartRequest(
        slack_user_id=report.slack_user_id,
        title=title,
        comment=f"{title} (stacked by model)"
        + ("; beside it, the budget's cumulative spend, budget line and forecast." if report.burn else "."),
        filename=f"spend-{start.isoformat()}-{end.isoformat()}.png",
        daily=report.summary.daily,
        start=start,
        end=end,
        burn=report.burn,
    )


def home_line(summary: SpendSummary, tz: tzinfo) -> str:
    """One mrkdwn line for the App Home: month-to-date cost and tokens, data as of."""
    line = f"*Your spend this month:* {usd(summary.total)}"
    if summary.tokens:
        line += f" · {tokens(summary.total_tokens.total)} tokens"
    return line + f" (data as of {when(summary.data_as_of, tz)})"
