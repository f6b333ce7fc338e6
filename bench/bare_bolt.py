"""The ack-latency baseline: a bare Bolt `AsyncApp` whose only listener acks `/claude-key`.

Served exactly as the bot is (uvicorn, asyncio loop, h11, no access log, no lifespan) through Bolt's async
Starlette adapter, so the only difference to the bot is the bot's own code.

    SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… SLACK_API_URL=http://127.0.0.1:N/api/ \
        python bench/bare_bolt.py --port 3001

The app's AsyncWebClient points at SLACK_API_URL, so the auth.test Bolt makes on the first request goes to
the Slack stand-in. Runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_web_app(token: str, signing_secret: str, slack_api_url: str) -> Starlette:
    """Starlette app with one route, POST /slack/events, handled by a bare AsyncApp."""
    app = AsyncApp(
        client=AsyncWebClient(token=token, base_url=slack_api_url, timeout=10),
        signing_secret=signing_secret,
    )

    @app.command("/claude-key")
    async def on_command(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args(argv)
    missing = [name for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET") if not os.environ.get(name)]
    if missing:
        print(f"bare_bolt: set {', '.join(missing)}", file=sys.stderr)
        return 2
    # Popped, so Bolt does not also read it from the environment and warn that the client's token wins.
    web_app = create_web_app(
        os.environ.pop("SLACK_BOT_TOKEN"),
        os.environ["SLACK_SIGNING_SECRET"],
        os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
    )
    # The same server settings as bot/cli.py's _serve_http.
    config = uvicorn.Config(
        web_app,
        host=options.host,
        port=options.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
