"""Block Kit for the App Home tab: your keys, requests and usage; for admins, the org's backlog. Pure functions.

Every next step is a button: Request access and Refresh at the top, Rotate / Revoke / Check on each of your
keys, Approve / Deny on each pending request (the same action ids and values as the admin-channel card, so the
same listeners re-check who may press them), and a button on each backlog key. Home views hold at most 100
blocks: every list here is cut short with a count, so an admin of an org with thousands of keys sees summaries,
never endless lists.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.access.model import RequestRef
from bot.core.format import plural
from bot.home.model import AdminHome, HomeData, RequestItem
from bot.keys.blocks.common import key_title, rotation_text
from bot.keys.model import KeyRef, KeyView
from bot.slack.blocks import build_help
from bot.slack.commands import COMMAND
from bot.slack.ids import Action
from bot.slack.text import clip, clip_escaped, confirm_text, escape, escape_clip, when

MAX_HOME_BLOCKS = 100
MY_KEYS_SHOWN = 8
REQUESTS_SHOWN = 5
ADMIN_ITEMS_SHOWN = 5
#: Workspace names (typed in the Console) are escaped, then cut to this, so every list stays within a section.
NAME_SHOWN = 200
#: A key's name in a confirm dialog (plain text, at most 300 characters with the sentence around it).
CONFIRM_NAME = 120

REQUEST_STATES: dict[str, str] = {
    "pending": ":hourglass_flowing_sand: waiting for approval",
    "approved": ":gear: approved, being set up",
    "invited": ":email: invite sent: accept it from your inbox",
    "granted": ":white_check_mark: access granted: create your key in the Console",
    "failed": ":warning: failed: an admin can retry",
}


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _key_value(view: KeyView) -> str:
    return KeyRef(k=view.id).model_dump_json()


def rotate_button(view: KeyView) -> ButtonElement:
    """Start a rotation of the key (the answer, with the steps, comes as a DM)."""
    return ButtonElement(text="Rotate", action_id=Action.HOME_KEY_ROTATE, value=_key_value(view))


def check_button(view: KeyView) -> ButtonElement:
    """The key's details and last use (as a DM)."""
    return ButtonElement(text="Check", action_id=Action.HOME_KEY_CHECK, value=_key_value(view))


def revoke_button(view: KeyView) -> ButtonElement:
    """Deactivate the key, after Slack's confirm dialog."""
    name = clip(view.name, CONFIRM_NAME)
    return ButtonElement(
        text="Revoke",
        action_id=Action.HOME_KEY_REVOKE,
        value=_key_value(view),
        style="danger",
        confirm=ConfirmObject(
            title="Revoke this key?",
            text=confirm_text(f"{name} will be deactivated: anything using it stops working at once."),
            confirm="Revoke",
            deny="Keep it",
            style="danger",
        ),
    )


def _key_item(view: KeyView) -> str:
    where = f" · *{escape_clip(view.workspace, NAME_SHOWN)}*" if view.workspace else ""
    state = rotation_text(view) if view.status == "active" else view.status
    return f"{key_title(view)}{where}\n{state}"


def _request_item(item: RequestItem, *, who: bool = False) -> str:
    state = REQUEST_STATES.get(item.state, escape(item.state))
    workspace = f" for *{escape_clip(item.workspace, NAME_SHOWN)}*" if item.workspace else ""
    by = f" from <@{item.requester_slack_id}>" if who and item.requester_slack_id else ""
    return f"#{item.id}{by}{workspace} · {state} · since {when(item.created, style='date')}"


def _top_buttons() -> ActionsBlock:
    return ActionsBlock(
        block_id="home_top",
        elements=[
            ButtonElement(text="Request access", action_id=Action.HOME_REQUEST_ACCESS, value="home", style="primary"),
            ButtonElement(text="Refresh", action_id=Action.HOME_REFRESH, value="home"),
        ],
    )


def _my_keys(data: HomeData) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text="*Your API keys*")]
    if data.keys_problem:
        blocks.append(SectionBlock(text=data.keys_problem))
    elif not data.member:
        blocks.append(
            SectionBlock(text="You aren't in the Anthropic organization yet: *Request access* above asks for it.")
        )
    elif not data.keys:
        blocks.append(
            SectionBlock(
                text=f"No active keys. Create one in the Claude Console ({data.console_url}) in "
                "a workspace you can use."
            )
        )
    else:
        for n, view in enumerate(data.keys[:MY_KEYS_SHOWN]):
            blocks.append(SectionBlock(text=_key_item(view)))
            blocks.append(
                ActionsBlock(
                    block_id=f"home_key_{n}", elements=[rotate_button(view), revoke_button(view), check_button(view)]
                )
            )
        more = data.keys_total - min(len(data.keys), MY_KEYS_SHOWN)
        tail = f"…and {more} more. " if more > 0 else ""
        blocks.append(_context(f"{tail}`{COMMAND} keys` lists them with age, expiry and last use."))
    return blocks


def _my_requests(data: HomeData) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text="*Your open requests*")]
    if not data.requests:
        blocks.append(SectionBlock(text="None. *Request access* above asks for access to a workspace."))
        return blocks
    lines = [_request_item(r) for r in data.requests[:REQUESTS_SHOWN]]
    more = data.requests_total - len(lines)
    if more > 0:
        lines.append(f"…and {more} more: `{COMMAND} requests`")
    blocks.append(SectionBlock(text="\n".join(lines)))
    return blocks


def approve_button(item: RequestItem) -> ButtonElement:
    """The admin card's Approve, with its confirm dialog: same action id and value, so the same listener."""
    requester = item.requester_handle or "the requester"
    return ButtonElement(
        text="Approve",
        action_id=Action.APPROVE_REQUEST,
        value=RequestRef(r=item.id).model_dump_json(),
        style="primary",
        confirm=ConfirmObject(
            title="Approve this request?",
            text=confirm_text(f"The bot will give {requester} {item.what or 'what they asked for'}."),
            confirm="Approve",
            deny="Cancel",
        ),
    )


def deny_button(item: RequestItem) -> ButtonElement:
    """The admin card's Deny (it opens the deny form)."""
    return ButtonElement(
        text="Deny", action_id=Action.DENY_REQUEST, value=RequestRef(r=item.id).model_dump_json(), style="danger"
    )


def _pending(admin: AdminHome) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=f"*Pending approvals: {admin.pending}*")]
    for item in admin.pending_oldest[:ADMIN_ITEMS_SHOWN]:
        blocks.append(SectionBlock(text=_request_item(item, who=True)))
        blocks.append(ActionsBlock(block_id=f"request_{item.id}", elements=[approve_button(item), deny_button(item)]))
    shown = min(len(admin.pending_oldest), ADMIN_ITEMS_SHOWN)
    if admin.pending > shown:
        blocks.append(_context(f"…and {admin.pending - shown} more: `{COMMAND} requests pending`"))
    return blocks


def _key_list(
    title: str, count: int, oldest: Sequence[KeyView], empty: str, *, act: str = "check", more: str = ""
) -> list[Block]:
    if count == 0:
        return [SectionBlock(text=f"{title}: none. {empty}".rstrip())]
    blocks: list[Block] = [SectionBlock(text=f"{title}: *{count}*")]
    for view in oldest[:ADMIN_ITEMS_SHOWN]:
        accessory = revoke_button(view) if act == "revoke" else check_button(view)
        blocks.append(SectionBlock(text=_key_item(view), accessory=accessory))
    if count > ADMIN_ITEMS_SHOWN:
        blocks.append(_context(f"…and {count - ADMIN_ITEMS_SHOWN} more{more}."))
    return blocks


def _admin(admin: AdminHome, console_url: str) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text="Admin"), *_pending(admin)]
    if admin.problem:
        blocks.append(SectionBlock(text=admin.problem))
        return blocks
    all_keys = f": `{COMMAND} keys all`"
    blocks += _key_list(
        "*Keys of former members*",
        admin.leavers,
        admin.leavers_oldest,
        "Every active key has a current member.",
        act="revoke",
        more=all_keys,
    )
    blocks += _key_list(
        "*Keys overdue for rotation*",
        admin.overdue,
        admin.overdue_oldest,
        "Every key is within its rotation period.",
        more=all_keys,
    )
    blocks += _key_list(
        f"*Keys unused for {admin.stale_days} days*",
        admin.stale,
        admin.stale_oldest,
        "Every key older than that was used.",
        act="revoke",
        more=all_keys,
    )
    notes = [plural(admin.active_keys, "active key") if admin.active_keys is not None else "active keys unknown"]
    if admin.as_of is not None:
        notes.append(f"usage data as of {when(admin.as_of)}")
    notes.append(f"`{COMMAND} keys all` lists every key")
    blocks.append(_context(" · ".join(notes)))
    blocks.append(
        ActionsBlock(
            block_id="home_admin_links",
            elements=[
                ButtonElement(text="Open the Claude Console", action_id=Action.HOME_OPEN_CONSOLE, url=console_url)
            ],
        )
    )
    return blocks


def build_home(data: HomeData) -> list[Block]:
    """The whole Home tab, within Slack's 100 blocks."""
    blocks: list[Block] = [HeaderBlock(text="Claude keys"), _top_buttons()]
    if data.problem:
        blocks.append(SectionBlock(text=clip_escaped(data.problem, 3000)))
    else:
        blocks += _my_keys(data)
        blocks += _my_requests(data)
        if data.usage_line:
            blocks.append(SectionBlock(text=f"*This month*\n{data.usage_line}"))
        if data.admin is not None:
            blocks += _admin(data.admin, data.console_url)
    blocks.append(
        _context(
            f"Updated {when(data.updated)}. Press *Refresh* to see changes; "
            "answers to your clicks come as a direct message."
        )
    )
    blocks.append(DividerBlock())
    blocks += build_help()
    return blocks[:MAX_HOME_BLOCKS]
