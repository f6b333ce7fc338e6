"""Block Kit for budgets: the list, the "saved" answer with its Mirror offer, and the alerts (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.format import day, last_day, percent, usd, when
from bot.slack.ids import Action, Callback
from bot.slack.text import escape

if TYPE_CHECKING:
    from bot.services.budgets import BudgetPosition, BudgetView
    from storage.models import SpendLimitRequestPost

__all__ = [
    "AlertKind",
    "MirrorPayload",
    "SpendModalPayload",
    "SpendRequestPayload",
    "amount_error",
    "amount_from_view",
    "build_alert",
    "build_approve_modal",
    "build_budget_list",
    "build_budget_saved",
    "build_digest",
    "build_spend_request",
    "escape",
    "usd",
]


class AlertKind(StrEnum):
    """The four budget notices."""

    THRESHOLD = "threshold"
    FORECAST = "forecast"
    SPIKE = "spike"
    NEW_PERIOD = "new-period"


class MirrorPayload(BaseModel):
    """The Mirror button's value: which budget (amounts are re-read from the database on click)."""

    scope_key: str


def _facts(position: BudgetPosition, tz: tzinfo) -> str:
    forecast = usd(position.forecast) if position.forecast is not None else "after 3 days of data"
    return (
        f"*Spent:* {usd(position.spent)} · *Budget:* {usd(position.amount)} · "
        f"*Used:* {percent(position.spent, position.amount)} · *Forecast:* {forecast}\n"
        f"*Period:* {position.period}, ends {last_day(position.period_end, tz)} · "
        f"*Data as of:* {when(position.data_as_of, tz)}"
    )


def build_alert(
    *,
    kind: AlertKind,
    position: BudgetPosition,
    contacts: str,
    tz: tzinfo,
    threshold: int | None = None,
    day: date | None = None,
    day_spend: Decimal | None = None,
    mean: Decimal | None = None,
) -> tuple[str, list[Block]]:
    """One budget alert: what happened, the numbers, and who to talk to."""
    label = position.label
    if kind is AlertKind.THRESHOLD:
        headline = f":warning: *Budget alert: {label} has used {threshold}% of its budget for {position.period}.*"
        text = (
            f"Budget alert: {label} has used {threshold}% of its {usd(position.amount)} budget "
            f"({usd(position.spent)} spent)."
        )
    elif kind is AlertKind.FORECAST:
        projected = usd(position.forecast or Decimal(0))
        headline = (
            f":chart_with_upwards_trend: *{label} is on track to go over budget:* forecast {projected} "
            f"against {usd(position.amount)} by {last_day(position.period_end, tz)}."
        )
        text = f"Forecast alert: {label} is on track to spend {projected} of a {usd(position.amount)} budget."
    elif kind is AlertKind.SPIKE:
        shown = f"{day:%b} {day.day}" if day else "yesterday"
        headline = (
            f":zap: *Spend spike in {label}:* {usd(day_spend or Decimal(0))} on {shown}, more than 3x the "
            f"7-day average of {usd(mean or Decimal(0))}."
        )
        text = f"Spend spike: {label} spent {usd(day_spend or Decimal(0))} on {shown}."
    else:
        headline = (
            f":white_check_mark: *Back under budget: new period started for {label}.* The last period went "
            f"over budget; {position.period} starts again at {usd(position.amount)}."
        )
        text = f"Back under budget: new period started for {label}."
    blocks: list[Block] = [
        SectionBlock(text=headline),
        SectionBlock(text=_facts(position, tz)),
        ContextBlock(elements=[MarkdownTextObject(text=f"Questions about this budget? Talk to {contacts}.")]),
    ]
    return text, blocks


def build_budget_list(
    *,
    budgets: Sequence[BudgetView],
    positions: Sequence[BudgetPosition | None],
    thresholds: Sequence[int],
    alert_channel: str | None,
    tz: tzinfo,
) -> tuple[str, list[Block]]:
    """`/claude-key budget show`."""
    marks = ", ".join(f"{m}%" for m in thresholds)
    channel = f"<#{alert_channel}>" if alert_channel else "no channel (set ALERT_CHANNEL_ID)"
    blocks: list[Block] = [HeaderBlock(text="Budgets")]
    if not budgets:
        blocks.append(
            SectionBlock(
                text="No budget is set, so no budget alerts are sent. Admins: `/claude-key budget set <usd>` "
                "(or set MONTHLY_BUDGET_USD)."
            )
        )
    for budget, pos in list(zip(budgets, positions, strict=True))[:40]:
        source = " (from MONTHLY_BUDGET_USD)" if budget.from_settings else ""
        mirrored = " · enforced as an Anthropic spend limit" if budget.mirrored_limit_id else ""
        if pos is None:
            body = f"*{budget.label}*: {usd(budget.amount)} a month{source}{mirrored}\nSpend is unavailable right now."
        else:
            forecast = usd(pos.forecast) if pos.forecast is not None else "after 3 days of data"
            body = (
                f"*{budget.label}*: {usd(budget.amount)} a month{source}{mirrored}\n"
                f"{pos.period}: {usd(pos.spent)} spent ({percent(pos.spent, pos.amount)}) · forecast {forecast} · "
                f"data as of {when(pos.data_as_of, tz)}"
            )
        blocks.append(SectionBlock(text=body))
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"Alerts at {marks} of each budget go to {channel}.")])
    )
    text = f"{len(budgets)} budget(s); alerts at {marks} go to {channel}."
    return text, blocks


def build_budget_saved(
    *,
    budget: BudgetView,
    position: BudgetPosition | None,
    mirror: str,
    console_url: str,
    tz: tzinfo,
) -> tuple[str, list[Block]]:
    """The answer to `budget set`: saved, where it stands, and the spend-limit offer (or why there is none)."""
    text = f"Saved: the monthly budget for {budget.label} is {usd(budget.amount)}."
    lines = [f"*{text}*"]
    if position is not None:
        lines.append(
            f"{position.period} so far: {usd(position.spent)} ({percent(position.spent, position.amount)}), "
            f"data as of {when(position.data_as_of, tz)}."
        )
    blocks: list[Block] = [SectionBlock(text="\n".join(lines))]
    if mirror == "off":
        blocks.append(
            SectionBlock(
                text="This budget is the bot's own: it sends alerts but can't stop spend. Setting Anthropic spend "
                "limits through the API isn't enabled for this organization (early access), so to enforce a "
                f"limit set it in the Console: {console_url}/settings/limits"
            )
        )
    else:
        payload = MirrorPayload(scope_key=budget.scope_key).model_dump_json()
        blocks.append(
            SectionBlock(
                text="Anthropic can also enforce this amount as a monthly spend limit (early access: if it isn't "
                "enabled for this organization I'll say so).",
                accessory=ButtonElement(
                    text="Set as Anthropic spend limit",
                    action_id=Action.BUDGET_MIRROR,
                    value=payload,
                    confirm=ConfirmObject(
                        title="Set a spend limit?",
                        text=f"Anthropic will stop API spend for {budget.label} at {usd(budget.amount)} a month.",
                        confirm="Set limit",
                        deny="Cancel",
                    ),
                ),
            )
        )
    return text, blocks


# --------------------------------------------------------------------------------------------------
# Spend-limit increase requests
# --------------------------------------------------------------------------------------------------

AMOUNT_BLOCK = "amount"
AMOUNT_INPUT = "amount_input"


class SpendRequestPayload(BaseModel):
    """Approve/Deny button value: the request, and the amount to start the modal with."""

    request_id: str
    suggested: str


class SpendModalPayload(BaseModel):
    """The Approve modal's private_metadata: the request and where the clicker saw it."""

    request_id: str
    channel_id: str | None = None


_STATE_LINES = {
    "approving": ":hourglass_flowing_sand: Being approved…",
    "denying": ":hourglass_flowing_sand: Being denied…",
    "approved": ":white_check_mark: Approved",
    "denied": ":no_entry: Denied",
    "resolved": ":information_source: Resolved outside the bot",
}


def build_spend_request(
    post: SpendLimitRequestPost, *, suggestion: Decimal, tz: tzinfo, outcome_line: str | None = None
) -> tuple[str, list[Block]]:
    """The admin-channel message for one increase request; buttons only while it can still be decided."""
    who = (
        f"<@{post.requester_slack_id}>"
        if post.requester_slack_id
        else escape(post.requester_name or post.requester_email or post.requester_user_id or "an API key")
    )
    email = f" ({escape(post.requester_email)})" if post.requester_email and post.requester_slack_id else ""
    limit = usd(post.current_limit_usd) if post.current_limit_usd is not None else "none set"
    spend = usd(post.spend_usd) if post.spend_usd is not None else "unknown"
    text = f"Spend-limit increase request from {who}: {post.period} limit {limit}, spent {spend}."
    blocks: list[Block] = [
        SectionBlock(text=f":money_with_wings: *Spend-limit increase request* from {who}{email}"),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Current {post.period} limit*\n{limit}"),
                MarkdownTextObject(text=f"*Spent this {_period_noun(post.period)}*\n{spend}"),
                MarkdownTextObject(text="*Requested amount*\nnot stated (Anthropic's requests carry none)"),
                MarkdownTextObject(text=f"*Suggested*\n{usd(suggestion)} (editable on Approve)"),
            ]
        ),
    ]
    state = str(post.state)
    if state in ("pending", "failed"):
        payload = SpendRequestPayload(request_id=post.request_id, suggested=str(suggestion)).model_dump_json()
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Approve…", action_id=Action.SPEND_REQUEST_APPROVE, value=payload, style="primary"
                    ),
                    ButtonElement(
                        text="Deny",
                        action_id=Action.SPEND_REQUEST_DENY,
                        value=payload,
                        style="danger",
                        confirm=ConfirmObject(
                            title="Deny this request?",
                            text="The member keeps their current limit.",
                            confirm="Deny",
                            deny="Cancel",
                        ),
                    ),
                ]
            )
        )
        if state == "failed" and post.last_error:
            blocks.append(
                ContextBlock(
                    elements=[
                        MarkdownTextObject(
                            text=f":warning: Last attempt failed: {escape(post.last_error)} You can try again."
                        )
                    ]
                )
            )
    else:
        line = outcome_line or _STATE_LINES.get(state, state)
        if state == "approved" and post.approved_amount_usd is not None:
            line += f" at {usd(post.approved_amount_usd)} a {_period_noun(post.period)}"
        if post.decided_by_slack_id and state in ("approved", "denied"):
            line += f" by <@{post.decided_by_slack_id}>"
        if post.decided_at is not None:
            line += f", {when(post.decided_at, tz)}"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line + ".")]))
    return text, blocks


def _period_noun(period: str) -> str:
    return {"daily": "day", "weekly": "week"}.get(period, "month")


def build_approve_modal(payload: SpendRequestPayload, *, channel_id: str | None) -> View:
    """The Approve modal: the amount, prefilled with the suggestion."""
    return View(
        type="modal",
        callback_id=Callback.SPEND_APPROVE_MODAL,
        title=PlainTextObject(text="Approve increase"),
        submit=PlainTextObject(text="Approve"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=SpendModalPayload(request_id=payload.request_id, channel_id=channel_id).model_dump_json(),
        blocks=[
            InputBlock(
                block_id=AMOUNT_BLOCK,
                label=PlainTextObject(text="New limit in USD"),
                element=PlainTextInputElement(action_id=AMOUNT_INPUT, initial_value=payload.suggested),
                hint=PlainTextObject(
                    text="Dollars and cents, e.g. 250 or 1,500.00. Anthropic writes it as the member's own limit."
                ),
            )
        ],
    )


def amount_from_view(view: dict[str, Any]) -> str:
    """The amount typed into the Approve modal (the one place that walks the view state)."""
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get(AMOUNT_BLOCK) or {}).get(AMOUNT_INPUT) or {}).get("value") or "")


def amount_error() -> dict[str, str]:
    """The modal's validation error for a bad amount."""
    return {AMOUNT_BLOCK: "Enter a positive amount in dollars and cents, e.g. 250 or 1,500.00."}


# --------------------------------------------------------------------------------------------------
# The weekly digest
# --------------------------------------------------------------------------------------------------

DIGEST_ROWS = 8


def _ranked(amounts: dict[str, Decimal], total: Decimal, *, code: bool) -> str:
    ranked = sorted(amounts.items(), key=lambda item: (-item[1], item[0]))
    lines = []
    for name, amount in ranked[:DIGEST_ROWS]:
        shown = f"`{escape(name)}`" if code else escape(name)
        lines.append(f"{shown} {usd(amount)} ({percent(amount, total)})")
    if len(ranked) > DIGEST_ROWS:
        rest = sum((a for _, a in ranked[DIGEST_ROWS:]), Decimal(0))
        lines.append(f"{len(ranked) - DIGEST_ROWS} more: {usd(rest)}")
    return "\n".join(lines) or "—"


def build_digest(
    *,
    week_start: datetime,
    week_end: datetime,
    total: Decimal,
    previous: Decimal,
    by_workspace: dict[str, Decimal],
    by_model: dict[str, Decimal],
    top_keys: Sequence[tuple[str, Decimal]],
    rotation_due: Sequence[tuple[str, int]],
    data_as_of: datetime | None,
    tz: tzinfo,
) -> tuple[str, list[Block]]:
    """The weekly spend digest."""
    span = f"{day(week_start, tz)} to {last_day(week_end, tz)}"
    if previous > 0:
        change = (total - previous) * 100 / previous
        arrow = ":arrow_up:" if change > 0 else ":arrow_down:" if change < 0 else ":left_right_arrow:"
        wow = f"{arrow} {change.quantize(Decimal(1), rounding=ROUND_HALF_UP):+}% vs the week before ({usd(previous)})"
    else:
        wow = "no spend the week before"
    text = f"Weekly Claude spend {span}: {usd(total)}; {wow.split(' ', 1)[1] if previous > 0 else wow}."
    keys = "\n".join(f"{label} {usd(amount)}" for label, amount in top_keys) or "—"
    if rotation_due:
        shown = ", ".join(f"{label} ({age_days} d)" for label, age_days in rotation_due[:10])
        more = f" and {len(rotation_due) - 10} more" if len(rotation_due) > 10 else ""
        rotation = f"*Keys due for rotation ({len(rotation_due)}):* {shown}{more}"
    else:
        rotation = "*Keys due for rotation:* none"
    blocks: list[Block] = [
        HeaderBlock(text=f"Weekly Claude spend, {span}"),
        SectionBlock(text=f"*{usd(total)}* · {wow}"),
        SectionBlock(
            fields=[
                MarkdownTextObject(text="*By workspace*\n" + _ranked(by_workspace, total, code=False)),
                MarkdownTextObject(text="*By model*\n" + _ranked(by_model, total, code=True)),
            ]
        ),
        SectionBlock(text=f"*Top {len(top_keys)} keys*\n{keys}"),
        SectionBlock(text=rotation),
        ContextBlock(elements=[MarkdownTextObject(text=f"Data as of {when(data_as_of, tz)}.")]),
    ]
    return text, blocks
