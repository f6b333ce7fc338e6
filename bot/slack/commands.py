"""The `/claude-key` grammar (README: Commands in Slack): parse text into a subcommand and its arguments."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.slack.text import decode

COMMAND = "/claude-key"


class Sub(StrEnum):
    """Every subcommand, defined once (help text and dispatch both use it)."""

    HELP = "help"
    REQUEST = "request"
    INVITE = "invite"
    USAGE = "usage"
    KEYS = "keys"
    ROTATE = "rotate"
    REVOKE = "revoke"
    CHECK = "check"
    REQUESTS = "requests"
    BUDGET = "budget"
    AUDIT = "audit"
    ROLE = "role"
    OFFBOARD = "offboard"
    MEMBERS = "members"
    # Claude Code analytics
    CLAUDE_CODE = "claude-code"
    # rate limits
    LIMITS = "limits"


# (usage line, one-line description) in the order help shows them.
USAGE: dict[Sub, tuple[str, str]] = {
    Sub.HELP: ("help", "this list"),
    Sub.REQUEST: (
        "request [workspace] [for 7d] [reason…]",
        "ask for access to a workspace (no arguments opens a form)",
    ),
    Sub.INVITE: ("invite <email> [role]", "invite someone to the Anthropic org (role defaults to developer)"),
    Sub.USAGE: (
        "usage [me | org | workspace <name> | @user] [today | 7d | 30d | mtd]",
        "tokens and cost (default: your own, month to date)",
    ),
    Sub.KEYS: ("keys [mine | all | @user]", "API keys with age, expiry and rotation due date"),
    Sub.ROTATE: ("rotate <key-id>", "start rotating a key"),
    Sub.REVOKE: ("revoke <key-id> [reason…]", "deactivate a key"),
    Sub.CHECK: ("check <key-id | hint>", "why does my key fail?"),
    Sub.REQUESTS: ("requests [mine | pending]", "open access requests"),
    Sub.BUDGET: ("budget [show | set <usd> [workspace <name>] | thresholds 50,75,90,100]", "budgets and alerts"),
    Sub.AUDIT: ("audit [days]", "admins: the audit log as a CSV file"),
    Sub.ROLE: ("role <@user | email> <role>", "admins: change someone's org role (never admin)"),
    Sub.OFFBOARD: ("offboard <@user | email> [reason…]", "admins: a leaver's keys off, workspaces, org, invites"),
    Sub.MEMBERS: (
        "members [admins | developers | viewers | workspace <name> | invites]",
        "org members and invites (admins and billing; others see who the admins are)",
    ),
    # Claude Code analytics
    Sub.CLAUDE_CODE: (
        "claude-code [me | org | @user] [7d | 30d | mtd]",
        "Claude Code activity and estimated cost (alias `cc`; default: yours, last 7 days)",
    ),
    # rate limits
    Sub.LIMITS: ("limits [workspace <name>]", "rate limits per model group, with the busiest minute of the day"),
}

# Other words for a subcommand (the first word only).
ALIASES: dict[str, Sub] = {
    "cc": Sub.CLAUDE_CODE,  # Claude Code analytics
}

# Slack sends at most ~4,000 characters of command text; anything longer is not a real command.
MAX_TEXT = 4000


@dataclass(frozen=True)
class Parsed:
    """A parsed command: `sub` is None when the first word is not a known subcommand."""

    sub: Sub | None
    args: tuple[str, ...]
    word: str = ""


def parse(text: str | None) -> Parsed:
    """Split command text; an empty text means help, an unknown first word keeps `sub=None`.

    Slack sends typed `&`, `<` and `>` as entities; they are decoded here, once, so the arguments are what the
    user typed (a workspace `R&D` matches) and every builder escapes them once."""
    words = decode((text or "")[:MAX_TEXT]).split()
    if not words:
        return Parsed(Sub.HELP, ())
    first = words[0].lower()
    if first in ALIASES:
        return Parsed(ALIASES[first], tuple(words[1:]), first)
    try:
        return Parsed(Sub(first), tuple(words[1:]), first)
    except ValueError:
        return Parsed(None, tuple(words[1:]), words[0])
