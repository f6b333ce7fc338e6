"""The key-hygiene fixtures (tests/keys/support.py) for every test in tests/keys/."""

from tests.keys.support import clock, http, kbot, kdeps

__all__ = ["clock", "http", "kbot", "kdeps"]
