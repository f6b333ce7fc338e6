"""Block Kit for the leaver sweep: one proposal per leaver, its state once decided, the weekly no-Slack list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.format import plural, role_name, week_label
from bot.slack.commands import COMMAND
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.slack.text import confirm_text, escape_clip, when
from bot.team.blocks import CANT, _plan_lines
from bot.team.leaver_model import Leaver, LeaverRef, NoSlackMember

# Section text holds 3,000 characters; a little room is kept for Slack's own counting.
SECTION_ROOM = 2900
NO_SLACK_LISTED = 200


def _members_have(n: int) -> str:
    return f"{plural(n, 'org member')} {'has' if n == 1 else 'have'}"


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _who(email: str, name: str | None) -> str:
    shown = escape_clip(email, 320)
    return f"*{escape_clip(name, 80)}* ({shown})" if name else shown


def leaver_proposal(leaver: Leaver, case_id: int) -> Reply:
    """A deactivated Slack account that still has org membership, keys or invites: what offboarding would do, with
    Offboard (confirmed) and Not a leaver."""
    plan = leaver.plan
    who = _who(plan.email, leaver.name)
    value = LeaverRef(c=case_id).model_dump_json()
    confirm = ConfirmObject(
        title="Offboard this person?",
        text=confirm_text(f"Offboard {plan.email}? Their keys stop working at once."),
        confirm="Offboard",
        deny="Cancel",
    )
    blocks: list[Block] = [
        SectionBlock(text=f":bust_in_silhouette: {who} is deactivated in Slack. Offboarding would:"),
        *[SectionBlock(text=line) for line in _plan_lines(plan)],
        _context(CANT),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Offboard", action_id=Action.LEAVER_OFFBOARD, value=value, style="danger", confirm=confirm
                ),
                ButtonElement(text="Not a leaver", action_id=Action.LEAVER_NOT_A_LEAVER, value=value),
            ]
        ),
    ]
    return Reply(f"Leaver? {escape_clip(plan.email, 320)} is deactivated in Slack", blocks)


def leaver_decided(email: str, name: str | None, outcome: str) -> Reply:
    """The proposal once decided: who, and what was decided (no buttons)."""
    text = f":bust_in_silhouette: {_who(email, name)} is deactivated in Slack.\n{outcome}"
    return Reply(f"Leaver {escape_clip(email, 320)}: {outcome}", [SectionBlock(text=text)])


def offboarded_outcome(by: str) -> str:
    """The proposal's line after an Offboard click."""
    return f":white_check_mark: <@{by}> offboarded them; each step is in this thread."


def not_a_leaver_outcome(by: str) -> str:
    """The proposal's line after a Not a leaver click."""
    return f":ok_hand: <@{by}> says this is not a leaver: no proposal until their Slack account changes again."


def _chunks(lines: Sequence[str], room: int) -> list[str]:
    """Lines packed into as few section texts of at most `room` characters as they fit (each line is shorter)."""
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + 1 + len(line) <= room:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


def no_slack_list(members: Sequence[NoSlackMember], *, week: str, as_of: datetime, tz: tzinfo) -> Reply:
    """The weekly list of org members no Slack account stands behind (the first NO_SLACK_LISTED of them)."""
    lines = [
        f"• {escape_clip(m.email, 320)}"
        + (f" — {escape_clip(m.name, 80)}" if m.name else "")
        + f" ({role_name(m.role)})"
        for m in members[:NO_SLACK_LISTED]
    ]
    head = (
        f":mag: {_members_have(len(members))} no Slack account behind their email ({week_label(week)}). "
        f"If one left, `{COMMAND} offboard &lt;email&gt;`; someone who uses another address in Slack needs nothing."
    )
    blocks: list[Block] = [SectionBlock(text=head), *[SectionBlock(text=c) for c in _chunks(lines, SECTION_ROOM)]]
    if len(members) > NO_SLACK_LISTED:
        blocks.append(_context(f"…and {len(members) - NO_SLACK_LISTED} more"))
    blocks.append(_context(f"Org members as of {when(as_of, tz)}; the Slack directory as last stored."))
    return Reply(f"{_members_have(len(members))} no Slack account ({week_label(week)})", blocks)
