"""Slack's own method documents (``methods/<method>.json``, shipped with the package): scopes, required
arguments and documented errors the stand-in checks against."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from bot.sandbox.slack.errors import SlackError, invalid_arguments
from bot.sandbox.slack.records import Json

METHOD_DOCS_DIR = Path(__file__).resolve().with_name("methods")

#: For a missing required argument: documented errors to prefer, first one the method lists wins.
_MISSING_ARG_ERRORS: dict[str, tuple[str, ...]] = {
    "channel": ("channel_not_found",),
    "user": ("user_not_found",),
    "email": ("users_not_found",),
    "usergroup": ("no_such_subteam",),
    "ts": ("message_not_found",),
    "timestamp": ("no_item_specified", "bad_timestamp"),
    "name": ("invalid_name",),
    "length": ("missing_argument",),
    "filename": ("missing_argument",),
}


@functools.cache
def method_doc(method: str) -> Json:
    """Slack's document of ``method`` ({} when there is none)."""
    path = METHOD_DOCS_DIR / f"{method}.json"
    if not path.is_file():
        return {}
    doc: Json = json.loads(path.read_text(encoding="utf-8"))
    return doc


def missing_arg_error(method: str, arg: str) -> SlackError:
    """The error for a missing required argument: a documented one if it fits."""
    documented = method_doc(method).get("errors", {})
    for error in _MISSING_ARG_ERRORS.get(arg, ()):
        if error in documented:
            return SlackError(error)
    return invalid_arguments(f"missing required field: {arg}")
