"""The org's Default Workspace, which `workspaces.list` leaves out unless asked (`include_default`), while keys
and analytics rows carry its real `wrkspc_` id: the bot lists it, names it, and lets people pick it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from bot.deps import Deps
from bot.registry import run_job
from bot.spend.model import Period, ScopeKind, UsageQuery
from storage.db import session_scope
from storage.models import AccessRequest
from tests.botserver import command_body, post_slack
from tests.conftest import DepsFactory
from tests.spend.test_usage import usage_answer

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LAST_WEEK = datetime(2026, 11, 16, tzinfo=UTC)
DAY = timedelta(days=1)


def test_the_gateway_lists_the_default_workspace_by_name(make_deps: DepsFactory, anthropic_standin) -> None:
    deps = make_deps()
    default = anthropic_standin.default_workspace_id
    assert default.startswith("wrkspc_")
    names = {w.id: w.name for w in deps.admin.list_workspaces()}
    assert names[default] == "Default" and "default-ws" in names.values()
    (listing,) = anthropic_standin.matching("GET", "/v1/organizations/workspaces")
    assert listing.query["include_default"] == ["true"]
    assert [w.name for w in deps.workspaces()] == ["Default", "default-ws"]


def test_digest_names_the_default_workspace_and_never_shows_an_id(
    make_deps: DepsFactory, anthropic_standin, slack_standin
) -> None:
    deps = make_deps(clock=lambda: MONDAY)
    default = anthropic_standin.default_workspace_id
    key = anthropic_standin.add_api_key(name="default-key", workspace_id=default)["id"]
    anthropic_standin.add_cost(
        starting_at=LAST_WEEK, ending_at=LAST_WEEK + DAY, amount_cents="12345", workspace_id=default, api_key_id=key
    )
    # An Enterprise org's analytics give the Default Workspace no id: counted under the same name.
    anthropic_standin.add_cost(starting_at=LAST_WEEK, ending_at=LAST_WEEK + DAY, amount_cents="100")
    result = run_job("weekly-digest", deps, out=lambda _: None)
    assert result is not None and result.errors == [] and result.sent == 1
    (message,) = slack_standin.messages("C0ADMIN")
    rendered = json.dumps(message.blocks)
    assert "Default $124.45" in rendered
    assert "wrkspc_" not in rendered and "wrkspc_" not in (message.text or "")


def test_stale_report_counts_default_workspace_keys_under_its_name(
    make_deps: DepsFactory, anthropic_standin, slack_standin
) -> None:
    deps = make_deps(clock=lambda: MONDAY)
    dev = anthropic_standin.seeded["developer"]["id"]
    default = anthropic_standin.default_workspace_id
    created = MONDAY - 90 * DAY
    anthropic_standin.add_api_key(name="in-default", workspace_id=default, created_by_user_id=dev, created_at=created)
    anthropic_standin.add_api_key(name="org-wide", workspace_id=None, created_by_user_id=dev, created_at=created)
    result = run_job("stale-keys", deps, out=lambda _: None)
    assert result is not None and result.errors == []
    root = slack_standin.messages("C0ADMIN")[0]
    by_workspace = json.dumps(root.blocks).split("By workspace")[1]
    assert "Default: 1" in by_workspace and "organization-wide: 1" in by_workspace
    assert "wrkspc_" not in json.dumps([m.blocks for m in slack_standin.messages("C0ADMIN")])


def test_usage_workspace_default_resolves(make_deps: DepsFactory, anthropic_standin) -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    deps = make_deps(clock=lambda: now)
    default = anthropic_standin.default_workspace_id
    anthropic_standin.add_cost(starting_at=now - DAY, ending_at=now, amount_cents="4200", workspace_id=default)
    answer = usage_answer(deps, "U0ADMIN", UsageQuery(ScopeKind.WORKSPACE, Period.D7, workspace="Default"))
    assert "workspace Default" in answer.reply.text and "$42.00" in answer.reply.text
    cost = anthropic_standin.matching("GET", "/v1/organizations/analytics/cost")
    assert cost and all(r.query["workspace_ids[]"] == [default] for r in cost)


def test_a_request_can_pick_the_default_workspace(bot_url: str, deps: Deps, slack_standin, anthropic_standin) -> None:
    response_url = slack_standin.new_response_url()
    with httpx.Client(timeout=15) as client:
        body = command_body("request Default to try the batch API", user_id="U0DEV", response_url=response_url)
        assert post_slack(client, bot_url, body).status_code == 200
    slack_standin.wait_for_response(count=1)
    with session_scope(deps.engine) as session:
        request = session.get(AccessRequest, 1)
        assert request is not None
        assert (request.workspace_id, request.workspace_name) == (anthropic_standin.default_workspace_id, "Default")
