"""Drive the bot as Slack does: the real ASGI app under uvicorn on loopback, signed requests over HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette

SIGNING_SECRET = "test-signing-secret-0123456789"


class BotServer:
    """uvicorn serving an ASGI app on 127.0.0.1 in a background thread."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> BotServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


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
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


def command_body(
    text: str,
    *,
    user_id: str = "U0DEV",
    response_url: str = "",
    channel_id: str = "C0ADMIN",
    trigger_id: str = "1337.42.abcd",
) -> str:
    """A slash-command form body with the fields Slack sends."""
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
            "text": text,
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
