"""Bot scopes the manifest requests, each with the Web API methods in this code base that need it.

A test keeps `manifest.yml` and this table equal and checks every listed method is really called.
"""

from __future__ import annotations

SCOPE_USES: dict[str, tuple[str, ...]] = {
    "commands": ("/claude-key",),
    "chat:write": ("chat_postMessage", "chat_postEphemeral", "chat_update"),
    "im:write": ("conversations_open",),
    "users:read": ("users_info",),
    "users:read.email": ("users_info", "users_lookupByEmail"),
    "channels:read": ("conversations_info",),
    "groups:read": ("conversations_info",),
    "files:write": ("files_upload_v2",),  # usage charts and the audit CSV (file upload v2)
}

REQUIRED_BOT_SCOPES = frozenset(SCOPE_USES)
