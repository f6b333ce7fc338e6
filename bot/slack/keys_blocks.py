"""Block Kit for key hygiene: key lists, revoke and rotate, reminders, stale-key reports, check. Pure functions.

Everything a user or the Console named (key names, workspace names, emails, reasons) is escaped. Messages stay
within Slack's 50 blocks; long lists are cut with a count of what is not shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel
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

from bot.slack.commands import COMMAND
from bot.slack.ids import Action
from bot.slack.text import clip, escape

MAX_BLOCKS = 50
KEYS_PER_PAGE = 20  # one section per key: well under 50 blocks and Slack's ~13k characters of block text
LISTED_PER_MESSAGE = 20  # reminders, stale rows, digests
REASON_LIMIT = 500  # keeps a revoke button's value far below Slack's 2,000 characters

# --------------------------------------------------------------------------------------------------
# Typed payloads carried by buttons: ids only; everything else is re-read when the click arrives.
# --------------------------------------------------------------------------------------------------

KeyScope = Literal["mine", "all", "user"]


class KeysPageRef(BaseModel):
    """A page of `/claude-key keys`: whose keys, and which page."""

    s: KeyScope
    u: str | None = None
    p: int = 0


class KeyRef(BaseModel):
    """One API key."""

    k: str


class RevokeRef(BaseModel):
    """A confirmed revoke: the key and the reason given with the command."""

    k: str
    r: str = ""


class RotationRef(BaseModel):
    """One rotation (a row of key_rotation)."""

    r: int


# --------------------------------------------------------------------------------------------------
# What the builders show
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyView:
    """A key as shown in Slack; dates are in the configured time zone, `owner` is safe mrkdwn."""

    id: str
    name: str
    hint: str | None
    workspace: str | None  # a workspace name, or None for an organization-scoped key
    status: str  # active | inactive | archived | expired (expired also when expires_at has passed)
    created: date
    age_days: int
    expires: date | None
    rotation_due: date
    days_to_rotation: int  # negative: overdue by that many days
    rotating: bool = False
    last_used: date | None = None
    usage_known: bool = False  # False: activity was not looked up or is unavailable
    owner: str | None = None


@dataclass(frozen=True)
class Notice:
    """One reminder: a key, why (rotation due or expiry), and how many days are left (0: today)."""

    key: KeyView
    kind: Literal["rotation", "expiry"]
    days_left: int


@dataclass(frozen=True)
class Finding:
    """One line of a `check` diagnosis."""

    severity: Literal["fail", "warn", "ok", "info"]
    title: str  # mrkdwn, already safe
    fix: str = ""  # mrkdwn, already safe


@dataclass(frozen=True)
class Tally:
    """A count per label (workspace, owner) for summaries."""

    label: str
    count: int


@dataclass
class StaleRow:
    """A key in the stale-key report: a leaver's key or a key without usage."""

    key: KeyView
    leaver: bool
    owner_text: str = ""  # safe mrkdwn


def _status_label(status: str) -> str:
    return {
        "active": ":large_green_circle: active",
        "inactive": ":white_circle: inactive",
        "archived": ":black_circle: archived",
        "expired": ":red_circle: expired",
    }.get(status, escape(status))


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 key', '3 keys' (`many` for irregular plurals)."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def _days(n: int) -> str:
    return plural(n, "day")


def rotation_text(view: KeyView) -> str:
    """'rotation due 2026-12-01 (in 6 days)' / '(overdue by 12 days)' / 'rotation in progress'."""
    if view.rotating:
        return ":arrows_counterclockwise: rotation in progress"
    due = view.rotation_due.isoformat()
    if view.days_to_rotation > 0:
        return f"rotation due {due} (in {_days(view.days_to_rotation)})"
    if view.days_to_rotation == 0:
        return f":warning: rotation due today ({due})"
    return f":warning: rotation overdue since {due} ({_days(-view.days_to_rotation)})"


def _activity_text(view: KeyView, window_days: int) -> str:
    if not view.usage_known:
        return "last activity unknown"
    if view.last_used is None:
        return f"no use in the last {window_days} days"
    return f"last used {view.last_used.isoformat()}"


def key_title(view: KeyView) -> str:
    """'*name* `apikey_…` `hint`' in safe mrkdwn."""
    hint = f" `{escape(view.hint)}`" if view.hint else ""
    return f"*{escape(clip(view.name, 200))}* `{view.id}`{hint}"


def key_line(view: KeyView, *, activity_window_days: int = 31, with_status: bool = True) -> str:
    """Everything `/claude-key keys` shows about one key, in two lines."""
    where = f"workspace *{escape(view.workspace)}*" if view.workspace else "organization-wide"
    status = f" · {_status_label(view.status)}" if with_status else ""
    owner = f" · owner {view.owner}" if view.owner else ""
    expires = f"expires {view.expires.isoformat()}" if view.expires else "no expiry"
    first = f"{key_title(view)}\n{where}{status}{owner}"
    second = f"age {_days(view.age_days)} · {expires} · {_activity_text(view, activity_window_days)}"
    if view.status == "active":
        second += f" · {rotation_text(view)}"
    return f"{first}\n{second}"


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


# --------------------------------------------------------------------------------------------------
# /claude-key keys
# --------------------------------------------------------------------------------------------------


def build_key_list(
    views: Sequence[KeyView],
    *,
    heading: str,
    page: int,
    pages: int,
    total: int,
    archived_hidden: int,
    nav: KeysPageRef,
    activity_as_of: datetime | None,
    activity_window_days: int = 31,
) -> list[Block]:
    """One page of keys with Previous/Next buttons (the page is replaced in place)."""
    blocks: list[Block] = [HeaderBlock(text=clip(heading, 150))]
    if not views:
        blocks.append(SectionBlock(text="No API keys to show."))
    for view in views:
        blocks.append(SectionBlock(text=key_line(view, activity_window_days=activity_window_days)))
    notes = [f"{total} key{'s' if total != 1 else ''}"]
    if pages > 1:
        notes.append(f"page {page + 1} of {pages}")
    if archived_hidden:
        notes.append(f"{archived_hidden} archived not shown")
    if activity_as_of is not None:
        notes.append(f"usage data as of {activity_as_of:%Y-%m-%d %H:%M} UTC")
    blocks.append(_context(" · ".join(notes)))
    buttons = []
    if page > 0:
        buttons.append(
            ButtonElement(
                text="◂ Previous",
                action_id=Action.KEYS_PREV,
                value=nav.model_copy(update={"p": page - 1}).model_dump_json(),
            )
        )
    if page + 1 < pages:
        buttons.append(
            ButtonElement(
                text="Next ▸",
                action_id=Action.KEYS_NEXT,
                value=nav.model_copy(update={"p": page + 1}).model_dump_json(),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return blocks[:MAX_BLOCKS]


# --------------------------------------------------------------------------------------------------
# revoke
# --------------------------------------------------------------------------------------------------


def build_revoke_confirm(view: KeyView, reason: str) -> list[Block]:
    """The confirm step: names the key, with Deactivate and Cancel."""
    reason = clip(reason, REASON_LIMIT)
    why = f"\nReason: {escape(reason)}" if reason else ""
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
                    value=RevokeRef(k=view.id, r=reason).model_dump_json(),
                ),
                ButtonElement(text="Cancel", action_id=Action.REVOKE_CANCEL, value=KeyRef(k=view.id).model_dump_json()),
            ]
        ),
    ]


def build_revoked_notice(view: KeyView, *, by: str, reason: str) -> list[Block]:
    """The admin-channel post after a revoke."""
    why = f"\nReason: {escape(clip(reason, REASON_LIMIT))}" if reason else ""
    return [SectionBlock(text=f":lock: Key deactivated by {by}: {key_line(view, with_status=False)}{why}")]


# --------------------------------------------------------------------------------------------------
# rotate
# --------------------------------------------------------------------------------------------------


def build_rotation_started(
    view: KeyView, *, suggested_name: str, console_url: str, grace_hours: int, for_owner: bool
) -> list[Block]:
    """What to do to rotate a key: create the replacement; the bot does the rest."""
    where = f"in workspace *{escape(view.workspace)}*" if view.workspace else "with the same scope"
    who = "Your key" if for_owner else "Key"
    steps = (
        f"1. Create a new key named `{escape(suggested_name)}` {where} in the Claude Console: {console_url}\n"
        "   (the convention is `<env>-<slack-handle>-<purpose>`; keep the old name's stem so people recognise it)\n"
        "2. Put the new key wherever the old one is used.\n"
        "3. Within about 15 minutes I'll notice the new key and DM a *Deactivate old key* button.\n"
        f"4. If you don't press it, I deactivate the old key {grace_hours} hours after the new one appears, "
        "but only once usage shows the old key unused for 24 hours."
    )
    return [
        SectionBlock(
            text=f":arrows_counterclockwise: *Rotation started.* {who} {key_title(view)} is due for a "
            f"replacement.\n{rotation_text(view)}"
        ),
        SectionBlock(text=steps),
        _context("Secret keys never pass through Slack: I only see names, ids and the last characters."),
    ]


def build_rotation_replaced(
    *, old: KeyView, new_name: str, new_id: str, grace_until: str, rotation_id: int, done_text: str | None = None
) -> list[Block]:
    """The owner's DM once the replacement is seen: the Deactivate button, or the outcome once done."""
    head = (
        f":white_check_mark: I see your new key *{escape(clip(new_name, 200))}* `{new_id}` replacing {key_title(old)}."
    )
    if done_text is not None:
        return [SectionBlock(text=head), SectionBlock(text=done_text)]
    body = (
        "Once nothing uses the old key any more, deactivate it now. Otherwise I deactivate it after "
        f"{grace_until}, as soon as usage shows it unused for 24 hours."
    )
    button = ButtonElement(
        text="Deactivate old key",
        action_id=Action.ROTATION_DEACTIVATE_OLD,
        style="danger",
        value=RotationRef(r=rotation_id).model_dump_json(),
        confirm=ConfirmObject(
            title="Deactivate the old key?",
            text=clip(f"{escape(old.name)} ({old.id}) stops working at once.", 300),
            confirm="Deactivate",
            deny="Not yet",
        ),
    )
    return [SectionBlock(text=head), SectionBlock(text=body), ActionsBlock(elements=[button])]


# --------------------------------------------------------------------------------------------------
# rotation-reminders
# --------------------------------------------------------------------------------------------------


def notice_text(notice: Notice) -> str:
    """One reminder line."""
    view = notice.key
    if notice.kind == "expiry":
        when = "today" if notice.days_left == 0 else f"in {_days(notice.days_left)}"
        assert view.expires is not None
        what = f":hourglass: expires {when} ({view.expires.isoformat()}); expiry can't be extended"
    elif notice.days_left > 0:
        what = f":calendar: rotation due in {_days(notice.days_left)} ({view.rotation_due.isoformat()})"
    elif notice.days_left == 0:
        what = f":warning: rotation due today ({view.rotation_due.isoformat()})"
    else:
        what = f":warning: rotation overdue by {_days(-notice.days_left)} (due {view.rotation_due.isoformat()})"
    where = f" in *{escape(view.workspace)}*" if view.workspace else ""
    return f"{key_title(view)}{where}\n{what}"


def build_reminder_dm(notices: Sequence[Notice], *, max_age_days: int) -> tuple[str, list[Block]]:
    """One DM per owner per run listing their keys that need rotating (or expire soon)."""
    shown = list(notices[:LISTED_PER_MESSAGE])
    blocks: list[Block] = [
        SectionBlock(
            text=f"Your API keys need attention. Keys are rotated every {max_age_days} days: start with "
            f"`{COMMAND} rotate <key-id>` and I walk you through it."
        )
    ]
    blocks += [SectionBlock(text=notice_text(n)) for n in shown]
    if len(notices) > len(shown):
        blocks.append(_context(f"…and {len(notices) - len(shown)} more: `{COMMAND} keys` lists them all."))
    text = (
        "An API key of yours needs rotating or expires soon"
        if len(notices) == 1
        else f"{len(notices)} of your API keys need rotating or expire soon"
    )
    return text, blocks


def build_unowned_reminders(notices: Sequence[tuple[Notice, str]]) -> tuple[str, list[Block]]:
    """Reminders for keys whose owner has no reachable Slack account, for the admin channel."""
    shown = list(notices[:LISTED_PER_MESSAGE])
    blocks: list[Block] = [
        SectionBlock(
            text=":bust_in_silhouette: These keys need rotating or expire soon, and I can't reach their "
            "owners in Slack:"
        )
    ]
    blocks += [SectionBlock(text=f"{notice_text(n)}\nowner: {owner}") for n, owner in shown]
    if len(notices) > len(shown):
        blocks.append(_context(f"…and {len(notices) - len(shown)} more."))
    return f"{plural(len(notices), 'key')} to rotate without a reachable owner", blocks


def build_overdue_digest(
    *, total: int, oldest: Sequence[KeyView], by_workspace: Sequence[Tally], week: str, max_age_days: int
) -> tuple[str, list[Block]]:
    """The weekly admin digest of keys past their rotation date: counts, then the most overdue."""
    text = f"Rotation backlog {week}: {plural(total, 'active key')} past {max_age_days} days"
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Rotation backlog {week}", 150)),
        SectionBlock(text=f"*{total}* active key{'s are' if total != 1 else ' is'} older than {max_age_days} days."),
    ]
    if by_workspace:
        lines = "\n".join(f"• {escape(t.label)}: {t.count}" for t in by_workspace)
        blocks.append(SectionBlock(text=f"*By workspace*\n{lines}"))
    if oldest:
        blocks.append(SectionBlock(text="*Most overdue*"))
        blocks += [SectionBlock(text=key_line(v, with_status=False)) for v in oldest[:LISTED_PER_MESSAGE]]
    blocks.append(
        _context(
            f"Owners were DM'd. `{COMMAND} keys all` lists every key; `{COMMAND} revoke <key-id>` deactivates one."
        )
    )
    return text, blocks[:MAX_BLOCKS]


# --------------------------------------------------------------------------------------------------
# stale-keys
# --------------------------------------------------------------------------------------------------


def stale_block_id(key_id: str) -> str:
    """The block id of a key's row, so a click can replace that row only."""
    return f"stale:{key_id}"


def build_stale_root(
    *,
    leavers: int,
    stale: int,
    by_workspace: Sequence[Tally],
    stale_days: int,
    listed: int,
    week: str,
    as_of: datetime | None,
) -> tuple[str, list[Block]]:
    """The stale-key report's root message: counts; the keys follow in the thread."""
    text = (
        f"Stale-key audit {week}: {plural(leavers, 'key')} of former members, {plural(stale, 'key')} unused "
        f"for {stale_days} days"
    )
    lines = [
        f"• *{leavers}* active key{'s' if leavers != 1 else ''} created by people who are no longer org members",
        f"• *{stale}* active key{'s' if stale != 1 else ''} with no usage in the last {stale_days} days",
    ]
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Stale-key audit {week}", 150)),
        SectionBlock(text="\n".join(lines)),
    ]
    if by_workspace:
        blocks.append(
            SectionBlock(text="*By workspace*\n" + "\n".join(f"• {escape(t.label)}: {t.count}" for t in by_workspace))
        )
    total = leavers + stale
    more = f" (the first {listed} of {total}; the rest follow in next week's audit)" if listed < total else ""
    notes = [f"The keys are in the thread, former members' first{more}. Deactivate is for admins."]
    if as_of is not None:
        notes.append(f"Usage data as of {as_of:%Y-%m-%d %H:%M} UTC.")
    blocks.append(_context(" ".join(notes)))
    return text, blocks


def _stale_text(row: StaleRow) -> str:
    why = ":door: creator left the org" if row.leaver else ":zzz: no usage"
    owner = f" · {row.owner_text}" if row.owner_text else ""
    return f"{key_line(row.key, with_status=False)}\n{why}{owner}"


def build_stale_rows(rows: Sequence[StaleRow]) -> tuple[str, list[Block]]:
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
                text=clip(f"{escape(view.name)} ({view.id}) stops working at once.", 300),
                confirm="Deactivate",
                deny="Keep it",
            ),
        )
        blocks.append(SectionBlock(block_id=stale_block_id(view.id), text=_stale_text(row), accessory=button))
    return plural(len(blocks), "stale key"), blocks


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


def build_stale_owner_dm(views: Sequence[KeyView], *, stale_days: int) -> tuple[str, list[Block]]:
    """The owner's DM: their keys without usage, and what to do."""
    shown = list(views[:LISTED_PER_MESSAGE])
    blocks: list[Block] = [
        SectionBlock(
            text=f"These API keys of yours had no usage in the last {stale_days} days. If you don't need one, "
            f"deactivate it with `{COMMAND} revoke <key-id>`; unused keys are a risk if they leak. "
            "Admins were told too."
        )
    ]
    blocks += [SectionBlock(text=key_line(v, with_status=False)) for v in shown]
    if len(views) > len(shown):
        blocks.append(_context(f"…and {len(views) - len(shown)} more: `{COMMAND} keys` lists them all."))
    text = "An API key of yours looks unused" if len(views) == 1 else f"{len(views)} of your API keys look unused"
    return text, blocks


# --------------------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------------------

_SEVERITY = {"fail": ":x:", "warn": ":warning:", "ok": ":white_check_mark:", "info": ":information_source:"}


def build_check(view: KeyView, findings: Sequence[Finding], *, as_of: datetime | None) -> tuple[str, list[Block]]:
    """The diagnosis: what is wrong with the key (failures first) and what to do."""
    failures = [f for f in findings if f.severity == "fail"]
    if failures:
        verdict = (
            f":x: *This key fails because {failures[0].title}*"
            if len(failures) == 1
            else (f":x: *This key fails for {len(failures)} reasons.*")
        )
    else:
        verdict = ":white_check_mark: *Nothing the Admin API can see stops this key.*"
    blocks: list[Block] = [SectionBlock(text=f"{verdict}\n{key_line(view)}"), DividerBlock()]
    order = {"fail": 0, "warn": 1, "info": 2, "ok": 3}
    for finding in sorted(findings, key=lambda f: order[f.severity])[: MAX_BLOCKS - 4]:
        fix = f"\n{finding.fix}" if finding.fix else ""
        blocks.append(SectionBlock(text=f"{_SEVERITY[finding.severity]} {finding.title}{fix}"))
    if as_of is not None:
        blocks.append(_context(f"Usage and spend data as of {as_of:%Y-%m-%d %H:%M} UTC (it can lag a few hours)."))
    text = f"Key check for {escape(view.name)}: " + (failures[0].title if failures else "no problem found")
    return clip(text, 300), blocks
