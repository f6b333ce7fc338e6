"""Block Kit for the App Home tab: your keys, requests and usage; for admins, the org's backlog. Pure functions.

Home views hold at most 100 blocks: every list here is cut short with a count, so an admin of an org with
thousands of keys sees summaries, never endless lists.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.core.format import plural
from bot.home.model import AdminHome, HomeData, RequestItem
from bot.keys.blocks.common import key_title, rotation_text
from bot.keys.model import KeyView
from bot.slack.blocks import build_help
from bot.slack.commands import COMMAND
from bot.slack.text import clip_escaped, escape, escape_clip, when

MAX_HOME_BLOCKS = 100
MY_KEYS_SHOWN = 8
REQUESTS_SHOWN = 5
ADMIN_ITEMS_SHOWN = 5
#: Workspace names (typed in the Console) are escaped, then cut to this, so every list stays within a section.
NAME_SHOWN = 200

REQUEST_STATES: dict[str, str] = {
    "pending": ":hourglass_flowing_sand: waiting for approval",
    "approved": ":gear: approved, being set up",
    "invited": ":email: invite sent: accept it from your inbox",
    "granted": ":white_check_mark: access granted: create your key in the Console",
    "failed": ":warning: failed: an admin can retry",
}


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _key_item(view: KeyView) -> str:
    where = f" · *{escape_clip(view.workspace, NAME_SHOWN)}*" if view.workspace else ""
    state = rotation_text(view) if view.status == "active" else view.status
    return f"{key_title(view)}{where}\n{state}"


def _request_item(item: RequestItem, *, who: bool = False) -> str:
    state = REQUEST_STATES.get(item.state, escape(item.state))
    workspace = f" for *{escape_clip(item.workspace, NAME_SHOWN)}*" if item.workspace else ""
    by = f" from <@{item.requester_slack_id}>" if who and item.requester_slack_id else ""
    return f"#{item.id}{by}{workspace} · {state} · since {when(item.created, style='date')}"


def _my_keys(data: HomeData) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text="*Your API keys*")]
    if data.keys_problem:
        blocks.append(SectionBlock(text=data.keys_problem))
    elif not data.member:
        blocks.append(
            SectionBlock(text=f"You aren't in the Anthropic organization yet: `{COMMAND} request` asks for access.")
        )
    elif not data.keys:
        blocks.append(
            SectionBlock(
                text=f"No active keys. Create one in the Claude Console ({data.console_url}) in "
                "a workspace you can use."
            )
        )
    else:
        blocks += [SectionBlock(text=_key_item(v)) for v in data.keys[:MY_KEYS_SHOWN]]
        more = data.keys_total - min(len(data.keys), MY_KEYS_SHOWN)
        tail = f"…and {more} more. " if more > 0 else ""
        blocks.append(
            _context(
                f"{tail}`{COMMAND} keys` lists them with age, expiry and last use; "
                f"`{COMMAND} rotate <key-id>` starts a rotation."
            )
        )
    return blocks


def _my_requests(data: HomeData) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text="*Your open requests*")]
    if not data.requests:
        blocks.append(SectionBlock(text=f"None. `{COMMAND} request` asks for access to a workspace."))
        return blocks
    lines = [_request_item(r) for r in data.requests[:REQUESTS_SHOWN]]
    more = data.requests_total - len(lines)
    if more > 0:
        lines.append(f"…and {more} more: `{COMMAND} requests`")
    blocks.append(SectionBlock(text="\n".join(lines)))
    return blocks


def _key_list(title: str, count: int, oldest: Sequence[KeyView], empty: str) -> list[Block]:
    if count == 0:
        return [SectionBlock(text=f"{title}: none. {empty}".rstrip())]
    blocks: list[Block] = [SectionBlock(text=f"{title}: *{count}*")]
    blocks += [SectionBlock(text=_key_item(v)) for v in oldest[:ADMIN_ITEMS_SHOWN]]
    if count > ADMIN_ITEMS_SHOWN:
        blocks.append(_context(f"…and {count - ADMIN_ITEMS_SHOWN} more."))
    return blocks


def _admin(admin: AdminHome) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text="Admin")]
    blocks.append(SectionBlock(text=f"*Pending approvals: {admin.pending}*"))
    if admin.pending_oldest:
        lines = [_request_item(r, who=True) for r in admin.pending_oldest[:ADMIN_ITEMS_SHOWN]]
        if admin.pending > len(lines):
            lines.append(f"…and {admin.pending - len(lines)} more: `{COMMAND} requests pending`")
        blocks.append(SectionBlock(text="\n".join(lines)))
    if admin.problem:
        blocks.append(SectionBlock(text=admin.problem))
        return blocks
    blocks += _key_list(
        "*Keys of former members*", admin.leavers, admin.leavers_oldest, "Every active key has a current member."
    )
    blocks += _key_list(
        "*Keys overdue for rotation*", admin.overdue, admin.overdue_oldest, "Every key is within its rotation period."
    )
    blocks += _key_list(
        f"*Keys unused for {admin.stale_days} days*",
        admin.stale,
        admin.stale_oldest,
        "Every key older than that was used.",
    )
    notes = [plural(admin.active_keys, "active key") if admin.active_keys is not None else "active keys unknown"]
    if admin.as_of is not None:
        notes.append(f"usage data as of {when(admin.as_of)}")
    notes.append(f"`{COMMAND} keys all` lists every key")
    blocks.append(_context(" · ".join(notes)))
    return blocks


def build_home(data: HomeData) -> list[Block]:
    """The whole Home tab, within Slack's 100 blocks."""
    blocks: list[Block] = [HeaderBlock(text="Claude keys")]
    if data.problem:
        blocks.append(SectionBlock(text=clip_escaped(data.problem, 3000)))
    else:
        blocks += _my_keys(data)
        blocks += _my_requests(data)
        if data.usage_line:
            blocks.append(SectionBlock(text=f"*This month*\n{data.usage_line}"))
        if data.admin is not None:
            blocks += _admin(data.admin)
    blocks.append(_context(f"Updated {when(data.updated)}. Open this tab again to refresh."))
    blocks.append(DividerBlock())
    blocks += build_help()
    return blocks[:MAX_HOME_BLOCKS]
