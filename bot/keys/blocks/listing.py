"""`/claude-key keys` (a page of keys with Previous/Next) and `revoke` (confirm, done, the admin-channel notice)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from bot.keys.blocks.common import MAX_BLOCKS, context, key_line, key_title, plural
from bot.keys.model import (
    REASON_LIMIT,
    KeyList,
    KeyMenuChoice,
    KeyMenuRef,
    KeyRef,
    KeyView,
    Revoked,
    RevokeRef,
    RevokeRequest,
)
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.slack.text import clip, escape, escape_clip, when

REVOKE_CANCELLED = "Cancelled: the key was not changed."
#: How much of a reason a message shows (escaped), and the most a button value may hold (Slack's limits).
REASON_SHOWN = 1500
BUTTON_VALUE = 2000


def heading(keys: KeyList) -> str:
    """Whose keys these are."""
    if keys.scope == "mine":
        return "Your API keys"
    if keys.scope == "all":
        return "All API keys"
    return f"API keys of {keys.person}"


def build_key_list(keys: KeyList) -> list[Block]:
    """One page of keys with Previous/Next buttons (the page is replaced in place)."""
    blocks: list[Block] = [HeaderBlock(text=clip(heading(keys), 150))]
    if not keys.views:
        blocks.append(SectionBlock(text="No API keys to show."))
    for view in keys.views:
        line = key_line(view, activity_window_days=keys.activity_window_days)
        blocks.append(SectionBlock(text=line, accessory=key_menu(view, others=keys.scope != "mine")))
    notes = [plural(keys.total, "key")]
    if keys.pages > 1:
        notes.append(f"page {keys.page + 1} of {keys.pages}")
    if keys.archived_hidden:
        notes.append(f"{keys.archived_hidden} archived not shown")
    if keys.activity_as_of is not None:
        notes.append(f"usage data as of {when(keys.activity_as_of)}")
    blocks.append(context(" · ".join(notes)))
    buttons = []
    if keys.page > 0:
        buttons.append(
            ButtonElement(
                text="◂ Previous",
                action_id=Action.KEYS_PREV,
                value=keys.nav.model_copy(update={"p": keys.page - 1}).model_dump_json(),
            )
        )
    if keys.page + 1 < keys.pages:
        buttons.append(
            ButtonElement(
                text="Next ▸",
                action_id=Action.KEYS_NEXT,
                value=keys.nav.model_copy(update={"p": keys.page + 1}).model_dump_json(),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return blocks[:MAX_BLOCKS]


def _choice(label: str, choice: KeyMenuChoice, key_id: str) -> Option:
    return Option(label=label, value=KeyMenuRef(a=choice, k=key_id).model_dump_json())


def key_menu(view: KeyView, *, others: bool) -> OverflowMenuElement | ButtonElement:
    """A key's next steps: an overflow menu of Rotate, Revoke (Deactivate in an admin's list of other people's
    keys) and Check; a key that is off can only be checked. Revoke and Deactivate lead to the confirm step, and
    every choice is re-checked when it arrives (owner or admin)."""
    if view.status != "active":
        return ButtonElement(
            text="Check", action_id=Action.KEY_MENU, value=KeyMenuRef(a="check", k=view.id).model_dump_json()
        )
    rotate = [] if view.rotating else [_choice("Rotate", "rotate", view.id)]
    revoke = _choice("Deactivate" if others else "Revoke", "revoke", view.id)
    return OverflowMenuElement(action_id=Action.KEY_MENU, options=[*rotate, revoke, _choice("Check", "check", view.id)])


def key_list_reply(keys: KeyList) -> Reply:
    """The answer to `keys`: the page, or how to create a first key."""
    if keys.scope == "mine" and keys.total == 0:
        return Reply(
            "You have no API keys. Create one in the Claude Console "
            f"({keys.console_url}) in a workspace you have access to."
        )
    return Reply(f"{heading(keys)}: {keys.total} (page {keys.page + 1} of {keys.pages})", build_key_list(keys))


def revoke_value(key_id: str, reason: str) -> str:
    """The Deactivate button's value: the key and as much of the reason as fits Slack's 2,000 characters."""
    reason = reason[:REASON_LIMIT]
    value = RevokeRef(k=key_id, r=reason).model_dump_json()
    while len(value) > BUTTON_VALUE:  # JSON escaping ("\"", "\\", control characters) can grow the reason
        reason = reason[: len(reason) * 2 // 3]
        value = RevokeRef(k=key_id, r=reason).model_dump_json()
    return value


def build_revoke_confirm(request: RevokeRequest) -> list[Block]:
    """The confirm step: names the key, with Deactivate and Cancel."""
    view = request.key
    # Escaped first, then cut, so the section stays within Slack's 3,000 characters.
    why = f"\nReason: {escape_clip(request.reason, REASON_SHOWN)}" if request.reason else ""
    text = (
        f"Deactivate {key_line(view)}{why}\n\nAnything using this key stops working at once. "
        "An admin can reactivate an inactive key in the Claude Console."
    )
    return [
        SectionBlock(text=text),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Deactivate key",
                    action_id=Action.REVOKE_CONFIRM,
                    style="danger",
                    value=revoke_value(view.id, request.reason),
                ),
                ButtonElement(text="Cancel", action_id=Action.REVOKE_CANCEL, value=KeyRef(k=view.id).model_dump_json()),
            ]
        ),
    ]


def revoke_confirm_reply(request: RevokeRequest) -> Reply:
    """The answer to `revoke`: the confirm step."""
    view = request.key
    return Reply(f"Deactivate key {escape(view.name)} ({view.id})?", build_revoke_confirm(request))


def revoked_notice(revoked: Revoked) -> Reply:
    """The admin-channel post after a revoke."""
    view, by = revoked.key, f"<@{revoked.by}>"
    why = f"\nReason: {escape_clip(revoked.reason, REASON_SHOWN)}" if revoked.reason else ""
    blocks: list[Block] = [
        SectionBlock(text=f":lock: Key deactivated by {by}: {key_line(view, with_status=False)}{why}")
    ]
    return Reply(f"Key {escape(view.name)} ({view.id}) deactivated by {by}", blocks)


def revoked_reply(revoked: Revoked) -> Reply:
    """The answer to the confirm click."""
    note = " (I couldn't tell the admin channel.)" if revoked.admins_missed else ""
    return Reply(
        f":lock: Deactivated {key_title(revoked.key)}. Anything using it now gets an authentication error.{note}"
    )
