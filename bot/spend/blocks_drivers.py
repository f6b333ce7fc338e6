"""Block Kit for an alert's drivers and its Mark as planned button (pure: data in, blocks out).

Key, workspace and person names are typed by anyone with Console access: escaped and clipped here. Money is
rounded to cents here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.format import calendar_day, percent_value, usd
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.slack.text import clip, confirm_text, escape_clip, when
from bot.spend.driver_model import Basis, Driver, DriverKind, Drivers, PlannedOutcome, PlannedPayload

PLANNED_BLOCK = "spike_planned"
NAME_LIMIT = 80
HINT_LIMIT = 40
TITLES = {
    DriverKind.KEY: "Keys",
    DriverKind.MODEL: "Models",
    DriverKind.WORKSPACE: "Workspaces",
    DriverKind.PERSON: "People",
}


def short_day(day: date) -> str:
    """`Oct 17, 2026` (the one date form, `bot/core/format.py` calendar_day)."""
    return calendar_day(day)


def _name(kind: DriverKind, driver: Driver) -> str:
    if kind is DriverKind.PERSON and driver.slack_user_id:
        return f"<@{driver.slack_user_id}>"
    name = escape_clip(driver.label, NAME_LIMIT)
    if kind is DriverKind.KEY and driver.detail:
        return f"`{name}` ({escape_clip(driver.detail, HINT_LIMIT)})"
    if kind in (DriverKind.KEY, DriverKind.MODEL):
        return f"`{name}`"
    return name


def _signed(amount: Decimal) -> str:
    text = usd(amount)
    return text if text.startswith("-") else f"+{text}"


def driver_line(kind: DriverKind, driver: Driver, basis: Basis) -> str:
    """`• `prod-search` (apikey_1 …4f2a): $95.00, +$90.00 on $5.00/day` or `• Research: $400.00 (40%)`."""
    if basis is Basis.CHANGE:
        return (
            f"• {_name(kind, driver)}: {usd(driver.amount)}, {_signed(driver.change)} "
            f"on {usd(driver.baseline or Decimal(0))}/day"
        )
    share = f" ({percent_value(driver.share * 100)})" if driver.share is not None else ""
    return f"• {_name(kind, driver)}: {usd(driver.amount)}{share}"


def driver_blocks(drivers: Drivers | None, tz: tzinfo) -> list[Block]:
    """The "What drove it" section: one field per dimension, the figures and their basis."""
    if drivers is None:
        return [
            ContextBlock(
                elements=[MarkdownTextObject(text="What drove it is unavailable right now (the Admin API failed).")]
            )
        ]
    if drivers.basis is Basis.CHANGE and drivers.day is not None:
        head = (
            f"*What drove it:* {short_day(drivers.day)} against the daily mean of the "
            f"{drivers.baseline_days} days before ({usd(drivers.baseline_total)}/day)"
        )
    else:
        head = f"*What drove it:* share of the period's {usd(drivers.total)}"
    if drivers.empty:
        nothing = (
            "no key, model, workspace or person rose against its daily mean"
            if drivers.basis is Basis.CHANGE
            else "no spend recorded yet"
        )
        return [SectionBlock(text=f"{head}: {nothing}.")]
    fields = []
    for kind in DriverKind:
        found = drivers.by_kind.get(kind, ())
        if not found:
            continue
        lines = "\n".join(driver_line(kind, d, drivers.basis) for d in found)
        fields.append(MarkdownTextObject(text=f"*{TITLES[kind]}*\n{lines}"[:2000]))
    return [
        SectionBlock(text=head),
        SectionBlock(fields=fields),
        ContextBlock(elements=[MarkdownTextObject(text=f"Drivers: data as of {when(drivers.data_as_of, tz)}.")]),
    ]


def planned_button(scope_key: str, label: str, day: date) -> ActionsBlock:
    """Mark as planned (admins; confirm first): `label` is the budget's plain-text label."""
    shown = short_day(day)
    return ActionsBlock(
        block_id=PLANNED_BLOCK,
        elements=[
            ButtonElement(
                text="Mark as planned",
                action_id=Action.SPIKE_PLANNED,
                value=PlannedPayload(s=scope_key, d=day.isoformat()).model_dump_json(),
                confirm=ConfirmObject(
                    title="Mark this spike as planned?",
                    text=confirm_text(
                        f"No more spike alerts for {clip(label, 120)} on {shown}, and that day leaves the baseline "
                        "of later spike checks. Admins only; recorded in the audit log."
                    ),
                    confirm="Mark as planned",
                    deny="Cancel",
                ),
            )
        ],
    )


def planned_note(by_slack_id: str, at: datetime, tz: tzinfo) -> str:
    """What replaces the button once someone marked the spike as planned."""
    return f":white_check_mark: Marked as planned by <@{by_slack_id}> on {when(at, tz)}."


def planned_edit(blocks: Sequence[dict[str, Any]], outcome: PlannedOutcome, tz: tzinfo) -> Reply:
    """The spike alert after Mark as planned: the button's place says who marked it and when."""
    note = planned_note(outcome.by_slack_id, outcome.at, tz)
    out: list[Block] = []
    for raw in blocks:
        if raw.get("block_id") == PLANNED_BLOCK:
            out.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
            continue
        parsed = Block.parse(dict(raw))
        if parsed is not None:
            out.append(parsed)
    return Reply(f"Spend spike on {short_day(outcome.day)}: marked as planned.", out)


def planned_reply(outcome: PlannedOutcome) -> Reply:
    """The answer to the clicker."""
    shown = short_day(outcome.day)
    if outcome.already:
        return Reply(f"{shown} was already marked as planned for {escape_clip(outcome.scope_label, 200)}.")
    return Reply(
        f":white_check_mark: Marked as planned: no more spike alerts for {escape_clip(outcome.scope_label, 200)} "
        f"on {shown}, and that day leaves the baseline of later spike checks. Recorded in the audit log."
    )
