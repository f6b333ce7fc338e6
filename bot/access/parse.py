"""Reading what people type: `request` and `invite` arguments, `requests mine|pending`, the two modals."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.access.model import REASON_LIMIT, Which
from bot.anthropic_admin import Workspace
from bot.core.errors import UserError
from bot.slack.text import escape_clip

MAX_DURATION_DAYS = 90
INVITABLE_ROLES = ("developer", "user", "billing", "claude_code_user", "managed")
EMAIL = re.compile(r"^[^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+$")
USAGE_REQUEST = (
    "Usage: `/claude-key request [workspace] [for 7d] [reason…]`, e.g. "
    "`/claude-key request ml-platform for 7d evaluating Claude for search`. With no arguments it opens a form."
)
USAGE_INVITE = "Usage: `/claude-key invite &lt;email&gt; [developer | user | billing | claude_code_user | managed]`"
USAGE_REQUESTS = "Usage: `/claude-key requests [mine | pending]`"
DENY_REASON_MISSING = "Please give a reason; the requester sees it."


@dataclass(frozen=True)
class RequestDraft:
    """A validated request before it is stored."""

    workspace: Workspace
    role: str
    duration_days: int | None
    reason: str


@dataclass(frozen=True)
class RequestForm:
    """The request modal's answers, checked for shape (the workspace and role are checked when filed)."""

    workspace_id: str
    role: str
    days: int | None
    reason: str


DURATION = re.compile(r"(\d{1,3})\s*(d|day|days)?", re.IGNORECASE)
# After "for", a word that starts like a number is meant as a duration (and refused when it isn't one);
# anything else ("for a side project") is the reason.
_LOOKS_LIKE_DURATION = re.compile(r"\d")


def _duration(word: str) -> int | None:
    match = DURATION.fullmatch(word)
    if not match:
        raise UserError(f"I can't read the duration `{escape_clip(word, 20)}`. " + USAGE_REQUEST)
    days = int(match.group(1))
    if not 1 <= days <= MAX_DURATION_DAYS:
        raise UserError(f"A time-bound grant lasts 1 to {MAX_DURATION_DAYS} days. " + USAGE_REQUEST)
    return days


def parse_request_args(args: Sequence[str], workspaces: list[Workspace]) -> RequestDraft:
    """`<workspace> [for 7d] [reason…]`; the workspace is matched by id or (case-insensitive) name."""
    by_name = {w.name.lower(): w for w in workspaces} | {w.id.lower(): w for w in workspaces}
    chosen: Workspace | None = None
    rest: list[str] = []
    for end in range(len(args), 0, -1):  # longest match first: names may contain spaces
        candidate = " ".join(args[:end]).lower()
        if candidate in by_name:
            chosen, rest = by_name[candidate], list(args[end:])
            break
    if chosen is None:
        names = ", ".join(f"`{escape_clip(w.name, 60)}`" for w in workspaces[:15]) or "none yet"
        raise UserError(f"I don't know the workspace `{escape_clip(args[0], 60)}`. Workspaces: {names}.")
    days: int | None = None
    if len(rest) >= 2 and rest[0].lower() == "for" and _LOOKS_LIKE_DURATION.match(rest[1]):
        days, rest = _duration(rest[1]), rest[2:]
    reason = " ".join(rest).strip()[:REASON_LIMIT]  # typed reasons are kept to the form's maximum
    if not reason:
        raise UserError("Please add a reason so the admins can decide. " + USAGE_REQUEST)
    return RequestDraft(workspace=chosen, role="workspace_developer", duration_days=days, reason=reason)


def parse_invite_args(args: Sequence[str]) -> tuple[str, str | None]:
    """`<email> [role]` → (email, org role or None: the org's key-creating role); `admin` is refused."""
    if not args:
        raise UserError(USAGE_INVITE)
    raw = args[0]
    mailto = re.fullmatch(r"<mailto:([^|>]+)(\|[^>]*)?>", raw)  # Slack escapes emails in command text
    email = (mailto.group(1) if mailto else raw).strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise UserError(f"`{escape_clip(raw, 80)}` is not an email address. " + USAGE_INVITE)
    role = args[1].lower() if len(args) > 1 else None
    if role == "admin":
        raise UserError("The Admin API cannot make anyone an admin. Invite them, then promote them in the Console.")
    if role is not None and role not in INVITABLE_ROLES:
        raise UserError(f"`{escape_clip(role, 30)}` is not a role I can invite with. " + USAGE_INVITE)
    if len(args) > 2:
        raise UserError(USAGE_INVITE)
    return email, role


def parse_requests_which(args: Sequence[str]) -> Which:
    """`requests [mine | pending]` → which list (default: mine)."""
    which = args[0].lower() if args else "mine"
    if len(args) > 1:
        raise UserError(USAGE_REQUESTS)
    if which == "mine":
        return "mine"
    if which == "pending":
        return "pending"
    raise UserError(USAGE_REQUESTS)


def _input(view: dict[str, Any], block: str) -> dict[str, Any]:
    values: dict[str, Any] = view.get("state", {}).get("values", {}).get(block, {}).get("value", {})
    return values


def read_request_form(view: dict[str, Any]) -> RequestForm | dict[str, str]:
    """The request modal's submission, or the field errors to show in the modal."""
    workspace = (_input(view, "workspace").get("selected_option") or {}).get("value")
    role = (_input(view, "role").get("selected_option") or {}).get("value") or "workspace_developer"
    raw_days = str((_input(view, "duration").get("selected_option") or {}).get("value") or "0")
    days = int(raw_days) if raw_days.isdecimal() and len(raw_days) < 4 else None  # a forged value: no limit
    reason = (_input(view, "reason").get("value") or "").strip()
    errors = {}
    if not workspace:
        errors["workspace"] = "Choose a workspace."
    if not reason:
        errors["reason"] = "Tell the admins why you need access."
    elif len(reason) > REASON_LIMIT:
        errors["reason"] = f"Keep it under {REASON_LIMIT} characters."
    if errors:
        return errors
    return RequestForm(workspace_id=str(workspace), role=role, days=days, reason=reason)


def read_deny_reason(view: dict[str, Any]) -> str:
    """The deny modal's reason, stripped ('' when blank)."""
    return (_input(view, "reason").get("value") or "").strip()
