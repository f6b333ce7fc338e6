"""`/claude-key rotate` and the rotation's later messages: the steps, the "Deactivate old key" DM, the outcome."""

from __future__ import annotations

from dataclasses import replace

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject, SectionBlock

from bot.keys.blocks.common import NAME_SHOWN, context, key_title, rotation_text, title
from bot.keys.model import Replacement, RotationDone, RotationRef, RotationStarted, RotationSteps
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.slack.text import clip, confirm_text, escape, escape_clip, when


def build_rotation_started(steps: RotationSteps) -> list[Block]:
    """What to do to rotate a key: create the replacement; the bot does the rest."""
    view = steps.key
    where = f"in workspace *{escape_clip(view.workspace, NAME_SHOWN)}*" if view.workspace else "with the same scope"
    who = "Your key" if steps.for_owner else "Key"
    todo = (
        f"1. Create a new key named `{escape_clip(steps.suggested_name, NAME_SHOWN)}` {where} in the Claude Console: "
        f"{steps.console_url}\n"
        "   (the convention is `&lt;env&gt;-&lt;slack-handle&gt;-&lt;purpose&gt;`; "
        "keep the old name's stem so people recognise it)\n"
        "2. Put the new key wherever the old one is used.\n"
        "3. Within about 15 minutes I'll notice the new key and DM a *Deactivate old key* button.\n"
        f"4. If you don't press it, I deactivate the old key {steps.grace_hours} hours after the new one appears, "
        "but only once usage shows the old key unused for 24 hours."
    )
    return [
        SectionBlock(
            text=f":arrows_counterclockwise: *Rotation started.* {who} {key_title(view)} is due for a "
            f"replacement.\n{rotation_text(view)}"
        ),
        SectionBlock(text=todo),
        context("Secret keys never pass through Slack: I only see names, ids and the last characters."),
    ]


def rotation_started_reply(started: RotationStarted) -> Reply:
    """The answer to `rotate`: the steps, and whether the owner was sent them too."""
    steps, view = started.steps, started.steps.key
    if started.running_since is not None:
        text = f"Key {view.id} is already being rotated (since {when(started.running_since)})."
        return Reply(text, build_rotation_started(steps))
    text = f"Rotation of {escape(view.name)} started: create {escape(steps.suggested_name)} in the Console"
    if started.owner_told:
        text += f"; I sent the owner <@{started.owner_told}> these steps"
    elif started.owner_unreachable:
        text += "; I can't reach the key's owner in Slack, so please pass these steps on"
    return Reply(text, build_rotation_started(steps))


def owner_steps_dm(steps: RotationSteps, *, by: str) -> Reply:
    """The steps DM'd to a key's owner when someone else (`by`, a Slack id) started the rotation."""
    return Reply(f"<@{by}> started rotating your key", build_rotation_started(replace(steps, for_owner=True)))


def rotation_done_text(done: RotationDone) -> str:
    """How the rotation ended, for the owner's DM and the answer to the click."""
    if done.how == "by_person":
        return f":lock: Old key `{done.old_key_id}` deactivated by <@{done.by}>. Rotation complete."
    if done.how == "already_off":
        return f"The old key `{done.old_key_id}` was already off. Rotation complete."
    return (
        f":lock: Old key `{done.old_key_id}` deactivated: the grace period is over and it was unused "
        "for 24 hours. Rotation complete."
    )


def build_rotation_replaced(replacement: Replacement, done: RotationDone | None = None) -> list[Block]:
    """The owner's DM once the replacement is seen: the Deactivate button, or the outcome once done."""
    r = replacement
    head = (
        f":white_check_mark: I see your new key *{escape_clip(r.new_key_name, NAME_SHOWN)}* `{r.new_key_id}` replacing "
        f"{title(r.old_key_name, r.old_key_id)}."
    )
    if done is not None:
        return [SectionBlock(text=head), SectionBlock(text=rotation_done_text(done))]
    body = (
        "Once nothing uses the old key any more, deactivate it now. Otherwise I deactivate it after "
        f"{when(r.grace_until)}, as soon as usage shows it unused for 24 hours."
    )
    button = ButtonElement(
        text="Deactivate old key",
        action_id=Action.ROTATION_DEACTIVATE_OLD,
        style="danger",
        value=RotationRef(r=r.rotation_id).model_dump_json(),
        confirm=ConfirmObject(
            title="Deactivate the old key?",
            text=confirm_text(f"{clip(r.old_key_name, 200)} ({r.old_key_id}) stops working at once."),
            confirm="Deactivate",
            deny="Not yet",
        ),
    )
    return [SectionBlock(text=head), SectionBlock(text=body), ActionsBlock(elements=[button])]


def replaced_dm(replacement: Replacement) -> Reply:
    """The owner's DM with the "Deactivate old key" button."""
    text = f"Your replacement key was found; deactivate the old key {escape(replacement.old_key_name)}"
    return Reply(text, build_rotation_replaced(replacement))


def replaced_unreachable_post(replacement: Replacement) -> Reply:
    """The same, for the admin channel when the owner can't be reached in Slack."""
    dm = replaced_dm(replacement)
    name = escape(replacement.old_key_name)
    return Reply(f"Rotation of {name}: the owner can't be reached in Slack. {dm.text}", dm.blocks)


def replaced_done_edit(replacement: Replacement, done: RotationDone) -> Reply:
    """The owner's DM edited once the rotation completed: the outcome instead of the button."""
    return Reply(rotation_done_text(done), build_rotation_replaced(replacement, done))


def still_used_text(old_key_id: str, old_key_name: str) -> str:
    """The owner's DM when the grace period is over but the old key was used in the last 24 hours."""
    return (
        f"Your old key `{old_key_id}` ({escape(old_key_name)}) was still used in "
        "the last 24 hours, so I haven't deactivated it. Move the last callers to the new key; I "
        "check again every 15 minutes."
    )


def rotation_done_reply(done: RotationDone) -> Reply:
    """The answer to a "Deactivate old key" click."""
    return Reply(rotation_done_text(done))
