"""Whom a team command is about: `<@U…>` (their Slack profile email) or an email address."""

from __future__ import annotations

import re

from slack_sdk.errors import SlackApiError

from bot.core.errors import UserError
from bot.deps import Deps
from bot.slack.notifier import MissingScope
from bot.slack.text import escape_clip

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_EMAIL = re.compile(r"^[^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+$")


def email_of(deps: Deps, word: str, usage: str) -> str:
    """The email `word` names (a mention is looked up in Slack); UserError with `usage` otherwise."""
    mention = _MENTION.match(word)
    if mention:
        try:
            email = deps.notifier.user_email(mention.group(1))
        except (SlackApiError, MissingScope) as exc:
            raise UserError("I couldn't read that person's email from Slack; use their email address instead.") from exc
        if not email:
            raise UserError("That Slack account shows no email; use their email address instead.")
        return email.strip().lower()
    mailto = _MAILTO.match(word)
    email = (mailto.group(1) if mailto else word).strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise UserError(f"`{escape_clip(word, 80)}` is neither a @mention nor an email address. {usage}")
    return email
