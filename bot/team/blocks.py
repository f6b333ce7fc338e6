"""Block Kit for the team commands: the role and offboarding confirms and their outcomes."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject, SectionBlock

from bot.core.format import plural, role_name
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.slack.text import confirm_text, escape, escape_clip
from bot.team.model import REASON_LIMIT, OffboardRef, RoleRef
from bot.team.offboard import OffboardPlan
from bot.team.roles import RoleChange

LISTED = 15
ROLE_CANCELLED = "Cancelled: no role was changed."
OFFBOARD_CANCELLED = "Cancelled: nothing was changed."


def role_confirm(change: RoleChange) -> Reply:
    """The confirm step of `role`."""
    question = f"Change the org role of {escape(change.email)} from `{change.old}` to `{change.new}`?"
    value = RoleRef(e=change.email, o=change.old, n=change.new).model_dump_json()
    blocks: list[Block] = [
        SectionBlock(text=question),
        ActionsBlock(
            elements=[
                ButtonElement(text="Change role", action_id=Action.ROLE_CONFIRM, value=value, style="primary"),
                ButtonElement(text="Cancel", action_id=Action.ROLE_CANCEL, value="cancel"),
            ]
        ),
    ]
    return Reply(question, blocks)


def role_done(change: RoleChange) -> Reply:
    """The answer to the Change role click."""
    return Reply(f"Done: {escape(change.email)} is now `{change.new}` (was `{change.old}`); they've been told.")


def _listed(lines: list[str]) -> list[str]:
    shown = lines[:LISTED]
    if len(lines) > LISTED:
        shown.append(f"…and {len(lines) - LISTED} more")
    return shown


# What offboarding can't do, said wherever it is proposed.
CANT = (
    "Keys are set inactive (the Admin API can't delete them); Claude.ai sessions are not ended "
    "(only Enterprise orgs have a sign-out call, and the bot doesn't make it)."
)


def _plan_lines(plan: OffboardPlan) -> list[str]:
    lines: list[str] = []
    if plan.keys:
        keys = [f"`{escape_clip(k.name, 80)}`" + (f" ({escape(k.hint)})" if k.hint else "") for k in plan.keys]
        lines.append(f"• {plural(len(plan.keys), 'active key')} set inactive: " + ", ".join(_listed(keys)))
    if plan.workspaces:
        names = [escape_clip(name, 80) for _, name in plan.workspaces]
        lines.append(f"• removed from {plural(len(plan.workspaces), 'workspace')}: " + ", ".join(_listed(names)))
    if plan.member is not None:
        lines.append(f"• removed from the Anthropic organization (now {role_name(plan.member.role)})")
    if plan.invites:
        lines.append(f"• {plural(len(plan.invites), 'pending invite')} withdrawn")
    if plan.requests:
        lines.append(f"• {plural(len(plan.requests), 'open access request')} cancelled")
    return lines


def offboard_confirm(plan: OffboardPlan, reason: str) -> Reply:
    """What offboarding would do, with Offboard (confirmed) and Cancel; nothing has been written."""
    who = escape(plan.email)
    if plan.empty:
        return Reply(f"There is nothing to offboard for {who}: no org membership, active keys or pending invites.")
    lines = _plan_lines(plan)
    text = f"Offboarding {who} will:\n" + "\n".join(lines)
    value = OffboardRef(e=plan.email, r=reason[:REASON_LIMIT]).model_dump_json()
    confirm = ConfirmObject(
        title="Offboard this person?",
        text=confirm_text(f"Offboard {plan.email}? Their keys stop working at once."),
        confirm="Offboard",
        deny="Cancel",
    )
    # One section a line: a plan of many long key and workspace names stays within a section's 3,000 characters.
    blocks: list[Block] = [
        SectionBlock(text=f"Offboarding {escape_clip(plan.email, 320)} will:"),
        *[SectionBlock(text=line) for line in lines],
        SectionBlock(text=CANT),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Offboard", action_id=Action.OFFBOARD_CONFIRM, value=value, style="danger", confirm=confirm
                ),
                ButtonElement(text="Cancel", action_id=Action.OFFBOARD_CANCEL, value="cancel"),
            ]
        ),
    ]
    return Reply(text, blocks)


def offboard_done(plan: OffboardPlan) -> Reply:
    """The answer to the Offboard click: what was done (the admin-channel thread has each step)."""
    who = escape(plan.email)
    if plan.empty:
        return Reply(f"Nothing was left to do for {who}.")
    return Reply(f"Offboarded {who}:\n" + "\n".join(_plan_lines(plan)) + "\nEach step is in the admin channel.")
