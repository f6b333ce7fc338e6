"""AdminGateway calls about API keys, and paging through many of them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from bot.anthropic_admin import AdminGateway, ApiKey, KeyLimitReached
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import ORG, Recorder, seeded_id


def test_api_keys(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    ws_id, dev_id = seeded_id(standin, "workspace"), seeded_id(standin, "developer")
    expires = datetime(2027, 1, 1, tzinfo=UTC)
    mine = standin.add_api_key(
        name="dev-key",
        workspace_id=ws_id,
        created_by_user_id=dev_id,
        expires_at=expires,
        partial_key_hint="sk-ant-api03-ab...CD",
    )
    org_key = standin.add_api_key(name="org-key", workspace_id=None, status="inactive")

    key = gateway.get_api_key(mine["id"])
    assert key == ApiKey(
        id=mine["id"],
        name="dev-key",
        status="active",
        workspace_id=ws_id,
        created_at=key.created_at,
        expires_at=expires,
        created_by_user_id=dev_id,
        partial_key_hint="sk-ant-api03-ab...CD",
    )
    other = gateway.get_api_key(org_key["id"])
    assert (other.workspace_id, other.created_by_user_id, other.status) == (None, None, "inactive")

    assert [k.id for k in gateway.list_api_keys(created_by_user_id=dev_id)] == [mine["id"]]
    assert [k.id for k in gateway.list_api_keys(status="inactive")] == [org_key["id"]]
    assert [k.id for k in gateway.list_api_keys(workspace_id=ws_id)] == [mine["id"]]
    assert len(gateway.list_api_keys()) == 2

    renamed = gateway.update_api_key(mine["id"], name="dev-key-2", status="inactive")
    assert (renamed.name, renamed.status) == ("dev-key-2", "inactive")
    (post,) = standin.matching("POST", f"{ORG}/api_keys/{mine['id']}")
    assert post.body == {"name": "dev-key-2", "status": "inactive"}
    assert gateway.update_api_key(mine["id"], status="archived").status == "archived"
    with pytest.raises(ValueError):
        gateway.update_api_key(mine["id"])

    standin.org_api_key_limit = 0
    with pytest.raises(KeyLimitReached) as limit:
        gateway.update_api_key(org_key["id"], status="active")
    assert limit.value.error_code == "org_api_key_limit_exceeded"
    assert "archive unused keys" in limit.value.user_message


def test_2500_keys_take_exactly_three_pages_of_1000(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.seed_scale(n_users=10, n_workspaces=2, n_keys=2500)
    standin.reset_requests()

    keys = gateway.list_api_keys()

    assert len(keys) == 2500 and len({k.id for k in keys}) == 2500
    pages = standin.matching("GET", f"{ORG}/api_keys")
    assert len(pages) == 3 == standin.count("GET", f"{ORG}/api_keys")
    assert [p.query["limit"] for p in pages] == [["1000"]] * 3
    assert "after_id" not in pages[0].query and pages[1].query["after_id"] == [keys[999].id]
    assert recorder.calls == [("api_keys.list", 200)] * 3

    standin.reset_requests()
    first_five = list(itertools.islice(gateway.iter_api_keys(status="active"), 5))
    assert len(first_five) == 5 and all(k.status == "active" for k in first_five)
    assert standin.count("GET", f"{ORG}/api_keys") == 1  # the iterator fetches lazily


def test_a_429_on_a_later_page_is_retried_within_the_paging(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.seed_scale(n_users=2, n_workspaces=1, n_keys=1500)
    standin.reset_requests()
    standin.inject("GET", r"/api_keys$", status=None, times=1)  # pass-through for page 1
    standin.inject("GET", r"/api_keys$", status=429, headers={"retry-after": "1"})

    assert len(gateway.list_api_keys()) == 1500
    assert recorder.sleeps == [1.0]
    assert [c[1] for c in recorder.calls] == [200, 429, 200]
