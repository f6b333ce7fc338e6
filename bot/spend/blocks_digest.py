"""Block Kit for the weekly spend digest (pure: a `Digest` in, a `Reply` out)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.core.format import day, last_day, percent, plural, usd
from bot.slack.reply import Reply
from bot.slack.text import escape_clip, when
from bot.spend.model import Digest, KeyRef

DIGEST_ROWS = 8
ROTATION_SHOWN = 10
# Names come from the Console (anyone with access types them): escaped, then cut, so eight rows stay within a
# field's 2,000 characters and ten labels within a section's 3,000.
NAME_SHOWN = 80
HINT_SHOWN = 20


def key_label(key: KeyRef) -> str:
    """`name` (hint), the bare id of a key no longer listed, or what spend without a key is."""
    if key.key_id is None:
        return "no API key (Console, Claude Code)"
    if key.name is None:
        return f"`{key.key_id}`"
    hint = f" ({escape_clip(key.hint, HINT_SHOWN)})" if key.hint else ""
    return f"`{escape_clip(key.name, NAME_SHOWN)}`{hint}"


def _ranked(amounts: dict[str, Decimal], total: Decimal, *, code: bool) -> str:
    ranked = sorted(amounts.items(), key=lambda item: (-item[1], item[0]))
    lines = []
    for name, amount in ranked[:DIGEST_ROWS]:
        shown = f"`{escape_clip(name, NAME_SHOWN)}`" if code else escape_clip(name, NAME_SHOWN)
        lines.append(f"{shown} {usd(amount)} ({percent(amount, total)})")
    if len(ranked) > DIGEST_ROWS:
        rest = sum((a for _, a in ranked[DIGEST_ROWS:]), Decimal(0))
        lines.append(f"{len(ranked) - DIGEST_ROWS} more: {usd(rest)}")
    return "\n".join(lines) or "—"


def digest(data: Digest) -> Reply:
    """The weekly spend digest."""
    tz, total, previous = data.tz, data.total, data.previous
    span = f"{day(data.week_start, tz)} to {last_day(data.week_end, tz)}"
    if previous > 0:
        change = (total - previous) * 100 / previous
        arrow = ":arrow_up:" if change > 0 else ":arrow_down:" if change < 0 else ":left_right_arrow:"
        wow = f"{arrow} {change.quantize(Decimal(1), rounding=ROUND_HALF_UP):+}% vs the week before ({usd(previous)})"
    else:
        wow = "no spend the week before"
    text = f"Weekly Claude spend {span}: {usd(total)}; {wow.split(' ', 1)[1] if previous > 0 else wow}."
    keys = "\n".join(f"{key_label(key)} {usd(amount)}" for key, amount in data.top_keys) or "—"
    # Oldest first (ties by label), as (label, age in days).
    due = [(label, age) for age, label in sorted(((a, key_label(k)) for k, a in data.rotation_due), reverse=True)]
    if due:
        shown = ", ".join(f"{label} ({plural(age_days, 'day')})" for label, age_days in due[:ROTATION_SHOWN])
        more = f" and {len(due) - ROTATION_SHOWN} more" if len(due) > ROTATION_SHOWN else ""
        rotation = f"*Keys due for rotation ({len(due)}):* {shown}{more}"
    else:
        rotation = "*Keys due for rotation:* none"
    blocks: list[Block] = [
        HeaderBlock(text=f"Weekly Claude spend, {span}"),
        SectionBlock(text=f"*{usd(total)}* · {wow}"),
        SectionBlock(
            fields=[
                MarkdownTextObject(text="*By workspace*\n" + _ranked(data.by_workspace, total, code=False)),
                MarkdownTextObject(text="*By model*\n" + _ranked(data.by_model, total, code=True)),
            ]
        ),
        SectionBlock(
            text=f"*Top {plural(len(data.top_keys), 'key')}*\n{keys}"
            if len(data.top_keys) != 1
            else f"*Top key*\n{keys}"
        ),
        SectionBlock(text=rotation),
        ContextBlock(elements=[MarkdownTextObject(text=f"Data as of {when(data.data_as_of, tz)}.")]),
    ]
    return Reply(text, blocks)
