"""Drive the bot as Slack does: the real ASGI app under uvicorn on loopback, signed requests over HTTP.

The helpers live in the package (bot/sandbox/botserver.py, bot/sandbox/signing.py) because the demo uses them
too; tests import them from here.
"""

from __future__ import annotations

from bot.sandbox.botserver import BotServer
from bot.sandbox.signing import SIGNING_SECRET, command_body, event_body, post_slack, signed_headers

__all__ = ["SIGNING_SECRET", "BotServer", "command_body", "event_body", "post_slack", "signed_headers"]
