"""Paging stops: on a cursor the API already handed out, at the page cap, and at the listing's deadline."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from bot.anthropic_admin import AdminGateway, ListingIncomplete
from bot.anthropic_admin.transport import MAX_PAGES, PAGE_SIZE
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import ORG


def _seed_keys(standin: AnthropicStandIn, count: int) -> None:
    for n in range(count):
        standin.add_api_key(name=f"key-{n}", workspace_id=None)


def test_repeated_cursor_stops_the_listing(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    _seed_keys(standin, 3)
    standin.inject("GET", r"/api_keys$", status=None, repeat_cursor=True, times=10_000)

    with pytest.raises(ListingIncomplete, match="same page cursor"):
        gateway.list_api_keys()

    # the first page, then the one answer that repeated its cursor: no more
    assert len(standin.matching("GET", f"{ORG}/api_keys")) == 2


def test_page_cap_stops_a_listing_that_never_ends(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.anthropic_admin.api_keys.PAGE_SIZE", 1)
    _seed_keys(standin, 6)
    gateway = make_gateway(max_pages=3)

    with pytest.raises(ListingIncomplete, match="more than 3 pages"):
        gateway.list_api_keys()
    assert len(standin.matching("GET", f"{ORG}/api_keys")) == 3


def test_deadline_stops_a_slow_listing(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.anthropic_admin.api_keys.PAGE_SIZE", 1)
    _seed_keys(standin, 6)
    ticks = itertools.count(step=50.0)  # every look at the clock is 50 s later
    gateway = make_gateway(list_deadline=120.0, monotonic=lambda: next(ticks))

    with pytest.raises(ListingIncomplete, match="over 120s"):
        gateway.list_api_keys()
    assert len(standin.matching("GET", f"{ORG}/api_keys")) < 6


def test_the_default_cap_is_generous_enough_for_20000_keys() -> None:
    assert MAX_PAGES * PAGE_SIZE >= 20_000 * 5


def test_paging_with_small_pages_still_lists_everything(
    standin: AnthropicStandIn, gateway: AdminGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.anthropic_admin.api_keys.PAGE_SIZE", 1)
    before = len(gateway.list_api_keys())
    _seed_keys(standin, 4)
    assert len(gateway.list_api_keys()) == before + 4
