"""Requests as Slack sends them to the bot: slash-command and Events API bodies, signed with the signing secret."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

#: The signing secret tests and the demo configure the bot with.
SIGNING_SECRET = "test-signing-secret-0123456789"


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers exactly as Slack sends them, signed with `secret` at `timestamp`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None  # None only without a timestamp or a body
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


# What Slack's client turns into markup before sending command text: mentions, channel links, special mentions,
# emails and URLs. It stays bracketed; every other "&", "<" and ">" the user typed arrives as an entity.
_MARKUP = re.compile(r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+|![a-z^]+|mailto:|https?://)[^<>]*>")


def slack_encoded(text: str) -> str:
    """Command text as Slack sends it: typed `&`, `<` and `>` entity-encoded, Slack's own markup left as is."""
    parts, last = [], 0
    for match in _MARKUP.finditer(text):
        parts.append(_encode(text[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_encode(text[last:]))
    return "".join(parts)


def _encode(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def command_body(
    text: str,
    *,
    user_id: str = "U0DEV",
    response_url: str = "",
    channel_id: str = "C0ADMIN",
    trigger_id: str = "1337.42.abcd",
) -> str:
    """A slash-command form body with the fields Slack sends (`text` as typed: encoded here as Slack does)."""
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0STANDIN",
            "team_domain": "standin",
            "channel_id": channel_id,
            "channel_name": "admins",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/claude-key",
            "text": slack_encoded(text),
            "api_app_id": "A0BOT",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def event_body(event: dict[str, Any], *, event_id: str = "Ev0001") -> str:
    """An Events API JSON body."""
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": "T0STANDIN",
            "api_app_id": "A0BOT",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": "T0STANDIN", "user_id": "U0BOT", "is_bot": True}],
        }
    )


def post_slack(client: httpx.Client, url: str, body: str, **kwargs: Any) -> httpx.Response:
    """POST a signed body to /slack/events."""
    content_type = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    return client.post(
        f"{url}/slack/events", content=body, headers=signed_headers(body, content_type=content_type, **kwargs)
    )
