"""The bot over HTTP on both databases (tests/keys/support.py) for the team-command tests."""

from tests.keys.support import clock, http, kbot, kdeps

__all__ = ["clock", "http", "kbot", "kdeps"]
