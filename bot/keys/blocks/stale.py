"""`stale-keys`: the admin report (root message, rows with Deactivate in the thread), a clicked row's outcome,
and the owner's DM."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject, HeaderBlock, SectionBlock

from bot.core.format import week_label
from bot.keys.blocks.common import context, key_line, key_title, owner_label, plural
from bot.keys.model import (
    LISTED_PER_MESSAGE,
    KeyRef,
    KeyView,
    RevokeRef,
    StaleDeactivated,
    StaleDmRef,
    StaleRow,
    StillInUse,
    Tally,
)
from bot.slack.commands import COMMAND
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.slack.text import clip, confirm_text, escape, escape_clip, fit_lines, when


def stale_block_id(key_id: str) -> str:
    """The block id of a key's row, so a click can replace that row only."""
    return f"stale:{key_id}"


def stale_root(
    *,
    leavers: int,
    stale: int,
    by_workspace: Sequence[Tally],
    stale_days: int,
    listed: int,
    week: str,
    as_of: datetime | None,
) -> Reply:
    """The stale-key report's root message: counts; the keys follow in the thread."""
    text = (
        f"Stale-key audit, {week_label(week)}: {plural(leavers, 'key')} of former members, "
        f"{plural(stale, 'key')} unused for {stale_days} days"
    )
    lines = [
        f"• *{plural(leavers, 'active key')}* created by people who are no longer org members",
        f"• *{plural(stale, 'active key')}* with no usage in the last {stale_days} days",
    ]
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Stale-key audit, {week_label(week)}", 150)),
        SectionBlock(text="\n".join(lines)),
    ]
    if by_workspace:
        tallies = [f"• {escape_clip(t.label, 200)}: {t.count}" for t in by_workspace]
        blocks.append(SectionBlock(text="*By workspace*\n" + fit_lines(tallies, 2900)))
    total = leavers + stale
    more = f" (the first {listed} of {total}; the rest follow in next week's audit)" if listed < total else ""
    notes = [f"The keys are in the thread, former members' first{more}. Deactivate is for admins."]
    if as_of is not None:
        notes.append(f"Usage data as of {when(as_of)}.")
    blocks.append(context(" ".join(notes)))
    return Reply(text, blocks)


def _stale_text(row: StaleRow) -> str:
    why = ":door: creator left the org" if row.leaver else ":zzz: no usage"
    owner = f" · {owner_label(row.owner)}" if row.owner else ""
    return f"{key_line(row.key, with_status=False)}\n{why}{owner}"


def stale_rows(rows: Sequence[StaleRow]) -> Reply:
    """A thread reply: one row per key with an Admin-only Deactivate button (with a confirm)."""
    blocks: list[Block] = []
    for row in rows[:LISTED_PER_MESSAGE]:
        view = row.key
        button = ButtonElement(
            text="Deactivate",
            action_id=Action.STALE_DEACTIVATE,
            style="danger",
            value=KeyRef(k=view.id).model_dump_json(),
            confirm=ConfirmObject(
                title="Deactivate this key?",
                text=confirm_text(f"{clip(view.name, 200)} ({view.id}) stops working at once."),
                confirm="Deactivate",
                deny="Keep it",
            ),
        )
        blocks.append(SectionBlock(block_id=stale_block_id(view.id), text=_stale_text(row), accessory=button))
    return Reply(plural(len(blocks), "stale key"), blocks)


def replace_row(blocks: Sequence[dict[str, Any]], block_id: str, text: str) -> list[Block]:
    """A report message with one row's button replaced by `text` (the other rows keep theirs)."""
    out: list[Block] = []
    for raw in blocks:
        if raw.get("block_id") == block_id:
            section = raw.get("text") or {}
            original = str(section.get("text", "")) if isinstance(section, dict) else ""
            out.append(SectionBlock(block_id=block_id, text=f"{original}\n{text}".strip()))
            continue
        parsed = Block.parse(dict(raw))
        if parsed is not None:
            out.append(parsed)
    return out


def _outcome(done: StaleDeactivated) -> str:
    if done.deactivated:
        return f":lock: deactivated by <@{done.by}>"
    return f":information_source: already {done.status}"


def stale_row_edit(done: StaleDeactivated, blocks: Sequence[dict[str, Any]]) -> Reply:
    """The report message after a Deactivate click: that row shows who did it (or that the key was off)."""
    outcome = _outcome(done)
    return Reply(f"Stale key {done.key_id}: {outcome}", replace_row(blocks, stale_block_id(done.key_id), outcome))


def stale_deactivated_reply(done: StaleDeactivated) -> Reply:
    """The answer to the clicker."""
    if done.deactivated:
        return Reply(f":lock: Deactivated `{done.key_id}` ({escape(done.name)}).")
    return Reply(f"Key `{done.key_id}` is already {done.status}; nothing changed.")


#: The reason a Deactivate my key click records (the revoke path's audit row and admin notice).
STALE_DM_REASON = "not needed (the owner's answer to the stale-key DM)"


def stale_dm_actions(view: KeyView, week: str) -> ActionsBlock:
    """Deactivate my key (with a confirm: the revoke path) and Still in use (tells the admins), for one key."""
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Deactivate my key",
                action_id=Action.STALE_DEACTIVATE_MINE,
                style="danger",
                value=RevokeRef(k=view.id, r=STALE_DM_REASON).model_dump_json(),
                confirm=ConfirmObject(
                    title="Deactivate this key?",
                    text=confirm_text(f"{clip(view.name, 200)} ({view.id}) stops working at once."),
                    confirm="Deactivate",
                    deny="Keep it",
                ),
            ),
            ButtonElement(
                text="Still in use",
                action_id=Action.STALE_IN_USE,
                value=StaleDmRef(k=view.id, w=week).model_dump_json(),
            ),
        ]
    )


def stale_owner_dm(views: Sequence[KeyView], *, stale_days: int, week: str) -> Reply:
    """The owner's DM: their keys without usage, each with Deactivate my key / Still in use."""
    shown = list(views[:LISTED_PER_MESSAGE])
    blocks: list[Block] = [
        SectionBlock(
            text=f"These API keys of yours had no usage in the last {stale_days} days. If you don't need one, "
            "press *Deactivate my key*: unused keys are a risk if they leak. If it is still in use, say so and "
            "I tell the admins. Admins were told too."
        )
    ]
    for view in shown:  # 1 + 2 * 20 + 1 blocks: within Slack's 50
        blocks += [SectionBlock(text=key_line(view, with_status=False)), stale_dm_actions(view, week)]
    if len(views) > len(shown):
        blocks.append(context(f"…and {len(views) - len(shown)} more: `{COMMAND} keys` lists them all."))
    text = "An API key of yours looks unused" if len(views) == 1 else f"{len(views)} of your API keys look unused"
    return Reply(text, blocks)


def still_in_use_notice(done: StillInUse, *, stale_days: int) -> Reply:
    """The admin-channel line (in the stale report's thread when known) after a Still in use click."""
    text = (
        f":white_check_mark: <@{done.by}> says {key_title(done.key)} is still in use, though it had no usage in "
        f"the last {stale_days} days."
    )
    return Reply(
        f"{escape(done.key.name)} ({done.key.id}) is still in use, says <@{done.by}>", [SectionBlock(text=text)]
    )


def still_in_use_reply(done: StillInUse) -> Reply:
    """The answer to the owner."""
    if done.admins_told:
        return Reply(f":white_check_mark: Thanks: I told the admins {key_title(done.key)} is still in use.")
    return Reply(
        f":white_check_mark: Noted that {key_title(done.key)} is still in use (I couldn't reach the admin channel; "
        "it is in the audit log)."
    )
