"""Block Kit for usage answers and money/token formatting (pure: data in, blocks out).

Money arrives as exact `Decimal` dollars (fractions of a cent included) and is rounded to cents here,
once, half-up, for display only.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.core.format import cents, last_day, percent, tokens, usd, when
from bot.slack.text import clip, escape

if TYPE_CHECKING:
    from bot.services.budgets import BudgetPosition
    from bot.services.usage import SpendSummary

__all__ = ["build_usage", "cents", "escape", "home_line", "percent", "plain_label", "tokens", "usd", "when"]

MAX_MODEL_LINES = 12


def plain_label(label: str) -> str:
    """A mrkdwn label as plain text (chart titles): `<@U1>` → `@U1`, entities decoded."""
    text = re.sub(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", r"@\1", label)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _token_line(t: object) -> str:
    from bot.services.usage import Tokens

    assert isinstance(t, Tokens)
    return f"{tokens(t.input)} in · {tokens(t.output)} out · {tokens(t.cache)} cache"


def budget_line(position: BudgetPosition, tz: tzinfo) -> str:
    """`Budget (org, 2026-11): $800.00 of $1,000.00 (80%) · forecast $1,240.00 by Dec 1`."""
    line = (
        f"*Budget* ({position.label}, {position.period}): {usd(position.spent)} of {usd(position.amount)} "
        f"({percent(position.spent, position.amount)})"
    )
    if position.forecast is not None:
        line += f" · forecast {usd(position.forecast)} by {last_day(position.period_end, tz)}"
    return line


def build_usage(
    *,
    label: str,
    period: str,
    summary: SpendSummary,
    position: BudgetPosition | None,
    tz: tzinfo,
    chart_coming: bool,
) -> tuple[str, list[Block]]:
    """The usage answer: totals, a line per model, the budget position, data as of."""
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
            line = f"`{escape(clip(model, 60))}` {usd(cost)}"
            if model in summary.tokens:
                line += f" · {_token_line(summary.tokens[model])}"
            lines.append(line)
        if len(models) > MAX_MODEL_LINES:
            rest = sum((summary.by_model.get(m, Decimal(0)) for m in models[MAX_MODEL_LINES:]), Decimal(0))
            lines.append(f"{len(models) - MAX_MODEL_LINES} more models: {usd(rest)}")
        blocks.append(SectionBlock(text="\n".join(lines)))
    else:
        blocks.append(SectionBlock(text="No usage in this period."))
    if position is not None:
        blocks.append(SectionBlock(text=budget_line(position, tz)))
    notes = [f"Data as of {when(summary.data_as_of, tz)}; usage data can lag a few hours."]
    if chart_coming:
        notes.append("A chart of spend per day is on its way to your DMs.")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" ".join(notes))]))
    return headline, blocks


def home_line(summary: SpendSummary, tz: tzinfo) -> str:
    """One mrkdwn line for the App Home: month-to-date cost and tokens, data as of."""
    line = f"*Your spend this month:* {usd(summary.total)}"
    if summary.tokens:
        line += f" · {tokens(summary.total_tokens.total)} tokens"
    return line + f" (data as of {when(summary.data_as_of, tz)})"
