"""The pieces every key message uses: a key's title and its lines, plurals, rotation and activity phrases."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot.core.format import calendar_day, duration
from bot.core.format import plural as plural
from bot.keys.model import KeyView, Owner
from bot.slack.text import escape, escape_clip

MAX_BLOCKS = 50
#: Console-side names and emails (anyone with Console access types them) are escaped, then cut to this.
NAME_SHOWN = 200


def status_label(status: str) -> str:
    """A key status with its coloured dot."""
    return {
        "active": ":large_green_circle: active",
        "inactive": ":white_circle: inactive",
        "archived": ":black_circle: archived",
        "expired": ":red_circle: expired",
    }.get(status, escape(status))


def days(n: int) -> str:
    """'1 day', '3 days'."""
    return duration(n)


def rotation_text(view: KeyView) -> str:
    """'rotation due Dec 1, 2026 (in 6 days)' / '(overdue by 12 days)' / 'rotation in progress'."""
    if view.rotating:
        return ":arrows_counterclockwise: rotation in progress"
    due = calendar_day(view.rotation_due)
    if view.days_to_rotation > 0:
        return f"rotation due {due} (in {days(view.days_to_rotation)})"
    if view.days_to_rotation == 0:
        return f":warning: rotation due today ({due})"
    return f":warning: rotation overdue since {due} ({days(-view.days_to_rotation)})"


def activity_text(view: KeyView, window_days: int) -> str:
    """'last used Oct 30, 2026', 'no use in the last 31 days' or 'last activity unknown'."""
    if not view.usage_known:
        return "last activity unknown"
    if view.last_used is None:
        return f"no use in the last {window_days} days"
    return f"last used {calendar_day(view.last_used)}"


def title(name: str, key_id: str, hint: str | None = None) -> str:
    """'*name* `apikey_…` `hint`' in safe mrkdwn."""
    shown_hint = f" `{escape_clip(hint, 40)}`" if hint else ""
    return f"*{escape_clip(name, NAME_SHOWN)}* `{key_id}`{shown_hint}"


def key_title(view: KeyView) -> str:
    """'*name* `apikey_…` `hint`' in safe mrkdwn."""
    return title(view.name, view.id, view.hint)


def member_email(owner: Owner) -> str:
    """The owner in an admin's key list: their email, or 'no current member'."""
    return escape_clip(owner.email, NAME_SHOWN) if owner.email is not None else "no current member"


def owner_label(owner: Owner) -> str:
    """The owner in admin-channel reports: email, 'former member `id`' or 'no recorded creator'."""
    if owner.user_id is None:
        return "no recorded creator"
    if owner.email is None:
        return f"former member `{owner.user_id}`"
    return escape_clip(owner.email, NAME_SHOWN)


def key_line(view: KeyView, *, activity_window_days: int = 31, with_status: bool = True) -> str:
    """Everything `/claude-key keys` shows about one key, in two lines."""
    where = f"workspace *{escape_clip(view.workspace, NAME_SHOWN)}*" if view.workspace else "organization-wide"
    status = f" · {status_label(view.status)}" if with_status else ""
    owner = f" · owner {member_email(view.owner)}" if view.owner else ""
    expires = f"expires {calendar_day(view.expires)}" if view.expires else "no expiry"
    first = f"{key_title(view)}\n{where}{status}{owner}"
    second = f"age {days(view.age_days)} · {expires} · {activity_text(view, activity_window_days)}"
    if view.status == "active":
        second += f" · {rotation_text(view)}"
    return f"{first}\n{second}"


def context(text: str) -> ContextBlock:
    """A context block of one mrkdwn text."""
    return ContextBlock(elements=[MarkdownTextObject(text=text)])
