"""Key hygiene: list, revoke, rotate and check keys; the `rotation-reminders` and `stale-keys` jobs.

The Admin API can list keys and switch them active / inactive / archived, nothing more: it can't create keys or
set expiry, and keys have no last-used field, so activity comes from usage analytics grouped by key
(`bot.keys.activity`). Services return `bot.keys.model` values; `bot.keys.blocks` renders them. Every change is
an audit row.

The names below are what the App Home (`bot.home.service`) reads of this domain.
"""

from bot.keys.common import effective_status, key_view, open_rotations, workspace_names
from bot.keys.model import KeyView
from bot.keys.owners import Owners
from bot.keys.stale import KeyHealth, key_health

__all__ = [
    "KeyHealth",
    "KeyView",
    "Owners",
    "effective_status",
    "key_health",
    "key_view",
    "open_rotations",
    "workspace_names",
]
