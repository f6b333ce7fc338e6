"""`rotation-reminders`: the owner's DM, the admin-channel list of keys without a reachable owner, the weekly
overdue digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock, SectionBlock

from bot.core.format import calendar_day, day, week_label
from bot.keys.blocks.common import MAX_BLOCKS, context, days, key_line, key_title, owner_label, plural
from bot.keys.model import LISTED_PER_MESSAGE, KeyRef, KeyView, Notice, Owner, Snoozed, Tally
from bot.slack.commands import COMMAND
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.slack.text import clip, escape_clip, fit_lines


def notice_text(notice: Notice) -> str:
    """One reminder line."""
    view = notice.key
    if notice.kind == "expiry":
        when = "today" if notice.days_left == 0 else f"in {days(notice.days_left)}"
        assert view.expires is not None
        what = f":hourglass: expires {when} ({view.expires.isoformat()}); expiry can't be extended"
    elif notice.days_left > 0:
        what = f":calendar: rotation due in {days(notice.days_left)} ({calendar_day(view.rotation_due)})"
    elif notice.days_left == 0:
        what = f":warning: rotation due today ({calendar_day(view.rotation_due)})"
    else:
        what = f":warning: rotation overdue by {days(-notice.days_left)} (due {calendar_day(view.rotation_due)})"
    where = f" in *{escape_clip(view.workspace, 200)}*" if view.workspace else ""
    return f"{key_title(view)}{where}\n{what}"


def reminder_actions(key_id: str) -> ActionsBlock:
    """Start rotation (what `rotate <key-id>` does) and Snooze 7 days, for one key."""
    value = KeyRef(k=key_id).model_dump_json()
    return ActionsBlock(
        elements=[
            ButtonElement(text="Start rotation", action_id=Action.REMINDER_ROTATE, style="primary", value=value),
            ButtonElement(text="Snooze 7 days", action_id=Action.REMINDER_SNOOZE, value=value),
        ]
    )


def reminder_dm(notices: Sequence[Notice], *, max_age_days: int) -> Reply:
    """One DM per owner per run listing their keys that need rotating (or expire soon), each with its buttons."""
    shown = list(notices[:LISTED_PER_MESSAGE])
    blocks: list[Block] = [
        SectionBlock(
            text=f"Your API keys need attention. Keys are rotated every {max_age_days} days: press *Start "
            "rotation* and I walk you through it."
        )
    ]
    for notice in shown:  # 1 + 2 * 20 + 1 blocks: within Slack's 50
        blocks += [SectionBlock(text=notice_text(notice)), reminder_actions(notice.key.id)]
    if len(notices) > len(shown):
        blocks.append(context(f"…and {len(notices) - len(shown)} more: `{COMMAND} keys` lists them all."))
    text = (
        "An API key of yours needs rotating or expires soon"
        if len(notices) == 1
        else f"{len(notices)} of your API keys need rotating or expire soon"
    )
    return Reply(text, blocks)


def unowned_reminders(notices: Sequence[tuple[Notice, Owner]]) -> Reply:
    """Reminders for keys whose owner has no reachable Slack account, for the admin channel."""
    shown = list(notices[:LISTED_PER_MESSAGE])
    blocks: list[Block] = [
        SectionBlock(
            text=":bust_in_silhouette: These keys need rotating or expire soon, and I can't reach their "
            "owners in Slack:"
        )
    ]
    blocks += [SectionBlock(text=f"{notice_text(n)}\nowner: {owner_label(owner)}") for n, owner in shown]
    if len(notices) > len(shown):
        blocks.append(context(f"…and {len(notices) - len(shown)} more."))
    return Reply(f"{plural(len(notices), 'key')} to rotate without a reachable owner", blocks)


def overdue_digest(
    *, total: int, oldest: Sequence[KeyView], by_workspace: Sequence[Tally], week: str, max_age_days: int
) -> Reply:
    """The weekly admin digest of keys past their rotation date: counts, then the most overdue."""
    text = f"Rotation backlog, {week_label(week)}: {plural(total, 'active key')} past {max_age_days} days"
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Rotation backlog, {week_label(week)}", 150)),
        SectionBlock(text=f"*{plural(total, 'active key')}* older than {max_age_days} days."),
    ]
    if by_workspace:
        lines = fit_lines([f"• {escape_clip(t.label, 200)}: {t.count}" for t in by_workspace], 2900)
        blocks.append(SectionBlock(text=f"*By workspace*\n{lines}"))
    if oldest:
        blocks.append(SectionBlock(text="*Most overdue*"))
        blocks += [SectionBlock(text=key_line(v, with_status=False)) for v in oldest[:LISTED_PER_MESSAGE]]
    blocks.append(
        context(
            f"Owners were DM'd. `{COMMAND} keys all` lists every key; "
            f"`{COMMAND} revoke &lt;key-id&gt;` deactivates one."
        )
    )
    return Reply(text, blocks[:MAX_BLOCKS])


def snoozed_reply(snoozed: Snoozed, *, tz: tzinfo) -> Reply:
    """The answer to a Snooze click."""
    return Reply(
        f":zzz: Snoozed: no reminders about {key_title(snoozed.key)} until {day(snoozed.until, tz)}. "
        f"`{COMMAND} rotate {snoozed.key.id}` starts the rotation any time."
    )
