"""The `flow` fixture (the bot over HTTP with both stand-ins) for every test module in this folder."""

from tests.access.test_requests import flow  # noqa: F401
