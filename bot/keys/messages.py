"""The sentences of the key commands' refusals (each raised as a `UserError`), in one place."""

from __future__ import annotations

from bot.slack.commands import COMMAND
from bot.slack.text import escape

NOT_A_MEMBER = (
    "You aren't a member of the Anthropic organization yet, so you have no keys. "
    f"Ask for access with `{COMMAND} request`."
)
KEYS_OF_WHOM = f"Usage: `{COMMAND} keys @someone`."
NO_SUCH_ROTATION = "That rotation no longer exists."
OWNER_OR_ADMIN_DEACTIVATES = "Only the key's owner or an admin can deactivate it."
WHOLE_SECRET = (
    ":rotating_light: That looks like a whole secret key. Never paste keys into Slack: treat it as leaked, "
    f"deactivate it with `{COMMAND} revoke &lt;key-id&gt;` and create a new one. Check with the key id "
    "(`apikey_…`) or its last characters instead."
)
HINT_TOO_SHORT = "Give the key id (`apikey_…`) or at least 4 characters of its hint, e.g. `…4f2a`."


def admins_only(what: str) -> str:
    """'Only admins can list everyone's keys.'"""
    return f"Only admins can {what}."


def no_such_key(key_id: str) -> str:
    """An id the organization doesn't have."""
    return f"There is no key `{escape(key_id)}` in the Anthropic organization."


def someone_elses(key_id: str, verb: str) -> str:
    """A key of another person, for `revoke` and `rotate`."""
    return f"Key `{key_id}` belongs to someone else: only its owner or an admin can {verb} it."


def someone_elses_check(key_id: str) -> str:
    """A key of another person, for `check`."""
    return f"Key `{key_id}` belongs to someone else: its owner or an admin can check it."


def not_active(key_id: str, status: str, verb: str) -> str:
    """A key that is inactive, archived or expired: there is nothing to revoke or rotate."""
    if status == "archived":
        return f"Key `{key_id}` is archived: it can't be used or changed any more."
    if status == "expired":
        return f"Key `{key_id}` has expired and no longer works; there is nothing to {verb}."
    return f"Key `{key_id}` is already inactive; there is nothing to {verb}."


def slack_lookup_failed(slack_user_id: str) -> str:
    """Slack didn't answer who `@user` is."""
    return f"I couldn't look up <@{slack_user_id}> in Slack; try again in a minute."


def no_member_keys(slack_user_id: str) -> str:
    """`keys @user` for someone outside the organization."""
    return f"<@{slack_user_id}> isn't a member of the Anthropic organization, so they have no keys."


def rotation_race(key_id: str) -> str:
    """Two `rotate` commands for one key at once: the second is told to follow the first."""
    return f"Someone just started rotating key `{key_id}`; follow the steps they were sent."


def rotation_already_done(old_key_id: str) -> str:
    """A second "Deactivate old key" click."""
    return f"Already done: the old key `{old_key_id}` is off."


def no_hint_match(query: str, *, among_own: bool) -> str:
    """`check` with a hint no key has."""
    mine = " among your keys" if among_own else ""
    return f"No key{mine} has a hint matching `{escape(query)}`. `{COMMAND} keys` lists them."


def many_hint_matches(query: str, key_ids: list[str]) -> str:
    """`check` with a hint several keys share (the first ten are named)."""
    ids = ", ".join(f"`{k}`" for k in key_ids[:10])
    return f"{len(key_ids)} keys match `{escape(query)}`: {ids}. Check one by its id."
