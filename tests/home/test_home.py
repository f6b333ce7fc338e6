"""The App Home tab over HTTP (`app_home_opened` → `views.publish`), on SQLite and PostgreSQL."""
# ruff: noqa: F811  (the shared fixtures from tests/keys/support.py are imported, then requested by name)

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import httpx
import pytest

from bot.deps import Deps
from bot.home import service as home_service
from storage.db import session_scope
from storage.models import AccessRequest, KeyRotation, RequestState, RotationState
from tests.botserver import event_body, post_slack
from tests.keys.support import (  # noqa: F401 - fixtures
    T0,
    Clock,
    add_key,
    clock,
    http,
    ids,
    kbot,
    kdeps,
)

_events = itertools.count(1)


def open_home(http: httpx.Client, url: str, slack, user: str) -> dict:
    before = len(slack.calls_to("views.publish"))
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D{user[1:]}",
        "tab": "home",
        "event_ts": "1700000000.000100",
    }
    assert post_slack(http, url, event_body(event, event_id=f"EvHome{next(_events)}")).status_code == 200
    call = slack.wait_for("views.publish", count=before + 1, timeout=20)[before]
    assert call.status == 200 and call.response["ok"], call.response
    view = slack.home_view(user)
    assert view is not None and len(view["blocks"]) <= 100
    return view


def text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def usage_scans(anthropic) -> list:
    """Org-wide usage-by-key calls (the spend feature's Home line makes calls of its own)."""
    return [
        r
        for r in anthropic.matching("GET", "/v1/organizations/analytics/usage")
        if r.query.get("group_by[]") == ["api_key_id"] and "api_key_ids[]" not in r.query
    ]


def request(deps: Deps, state: str, *, user: str = "U0DEV", workspace: str = "default-ws", age_days: int = 1) -> None:
    with session_scope(deps.engine) as session:
        at = T0 - timedelta(days=age_days)
        session.add(
            AccessRequest(requester_slack_id=user, state=state, workspace_name=workspace, created_at=at, updated_at=at)
        )


def test_developer_home_shows_keys_requests_and_commands(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
) -> None:
    dev, admin, ws = ids(anthropic_standin)
    old = add_key(anthropic_standin, "prod-dev-old", owner=dev, workspace=ws, created=T0 - timedelta(days=95))
    add_key(anthropic_standin, "dev-dev-new", owner=dev, workspace=ws, created=T0 - timedelta(days=10))
    rotating = add_key(anthropic_standin, "dev-dev-rot", owner=dev, workspace=ws, created=T0 - timedelta(days=89))
    add_key(anthropic_standin, "dev-dev-off", owner=dev, workspace=ws, created=T0, status="inactive")
    add_key(anthropic_standin, "admin-key", owner=admin, workspace=ws, created=T0)
    with session_scope(kdeps.engine) as session:
        session.add(
            KeyRotation(
                old_key_id=rotating["id"],
                old_key_name="dev-dev-rot",
                started_by_slack_id="U0DEV",
                state=RotationState.WAITING,
                open_key_id=rotating["id"],
                started_at=T0,
            )
        )
    request(kdeps, RequestState.PENDING, workspace="research")
    request(kdeps, RequestState.GRANTED, workspace="default-ws")
    request(kdeps, RequestState.DENIED, workspace="secret-project")
    view = open_home(http, kbot, slack_standin, "U0DEV")
    shown = text(view)
    assert "prod-dev-old" in shown and old["id"] in shown and "rotation overdue since Oct 28, 2026 (5 days)" in shown
    assert "dev-dev-new" in shown and "rotation due Jan 21, 2027 (in 80 days)" in shown
    assert "rotation in progress" in shown
    assert "dev-dev-off" not in shown and "admin-key" not in shown
    assert "research" in shown and "waiting for approval" in shown and "create your key" in shown
    assert "secret-project" not in shown
    assert "/claude-key request" in shown and "/claude-key keys" in shown  # the command list stays
    assert "Pending approvals" not in shown  # no admin section for developers


def test_admin_home_summarises_thousands_of_keys(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
) -> None:
    anthropic_standin.seed_scale(300, 20, 3000)
    for n in range(12):
        request(kdeps, RequestState.PENDING, user=f"U0REQ{n:02d}", age_days=n)
    anthropic_standin.reset_requests()
    view = open_home(http, kbot, slack_standin, "U0ADMIN")
    shown = text(view)
    assert "Pending approvals: 12" in shown and "…and 7 more" in shown
    # Every active scale key is 377 days old and unused: counts in the thousands, a few listed.
    assert "*Keys overdue for rotation*: *2640*" in shown and "*Keys unused for 30 days*: *2640*" in shown
    listed = [b for b in view["blocks"] if b["type"] == "section" and "scale-key-" in b["text"]["text"]]
    assert "2,640 active keys" in shown and len(listed) == 10
    assert len(json.dumps(view)) < 250_000
    # Pages of 1,000: 2,640 active keys take 3 calls.
    scans = [r for r in anthropic_standin.matching("GET", "/v1/organizations/api_keys") if r.query.get("status")]
    assert len(scans) == 3
    assert len(usage_scans(anthropic_standin)) == 1
    # A second open within HEALTH_TTL reuses the scan.
    open_home(http, kbot, slack_standin, "U0ADMIN")
    assert len(usage_scans(anthropic_standin)) == 1
    key_pages = anthropic_standin.matching("GET", "/v1/organizations/api_keys")
    assert len([r for r in key_pages if r.query.get("status")]) == 3


def test_home_explains_who_you_are_problems(kbot: str, http: httpx.Client, kdeps: Deps, slack_standin) -> None:
    slack_standin.add_user("U0HIDDEN", name="hidden")
    shown = text(open_home(http, kbot, slack_standin, "U0HIDDEN"))
    assert "no visible email address" in shown and "/claude-key request" in shown
    slack_standin.add_user("U0NEW", name="new", email="new@example.com")
    shown = text(open_home(http, kbot, slack_standin, "U0NEW"))
    assert "You aren't in the Anthropic organization yet" in shown


def test_home_survives_an_admin_api_outage(
    kbot: str,
    http: httpx.Client,
    kdeps: Deps,
    slack_standin,
    anthropic_standin,
) -> None:
    open_home(http, kbot, slack_standin, "U0DEV")  # links the identity while the API is up
    anthropic_standin.inject("GET", "/api_keys", status=503, times=20, headers={"x-should-retry": "false"})
    shown = text(open_home(http, kbot, slack_standin, "U0DEV"))
    assert "I couldn't load your keys" in shown and "/claude-key request" in shown


@pytest.mark.parametrize("variant", ["line", "none", "raises", "missing"])
def test_usage_section_only_when_the_spend_feature_gives_a_line(
    kbot: str,
    http: httpx.Client,
    kdeps: Deps,
    slack_standin,
    monkeypatch: pytest.MonkeyPatch,
    variant: str,
) -> None:
    import importlib

    def boom(deps, actor):
        raise RuntimeError("spend feature broke")

    usage = importlib.import_module("bot.spend.usage")
    replacement = {
        "line": lambda deps, actor: "*$12.34* so far this month",
        "none": lambda deps, actor: None,
        "raises": boom,
    }
    if variant == "missing":
        monkeypatch.delattr(usage, "home_usage_line", raising=False)
    else:
        monkeypatch.setattr(usage, "home_usage_line", replacement[variant], raising=False)
    shown = text(open_home(http, kbot, slack_standin, "U0DEV"))
    assert ("*This month*" in shown) is (variant == "line")
    assert ("$12.34" in shown) is (variant == "line")
    assert "/claude-key request" in shown


def test_health_cache_expires(kdeps: Deps, clock: Clock, anthropic_standin) -> None:
    home_service.home_data(kdeps, "U0ADMIN")
    scans = anthropic_standin.count("GET", "/v1/organizations/users")
    home_service.home_data(kdeps, "U0ADMIN")
    assert anthropic_standin.count("GET", "/v1/organizations/users") == scans  # identity and key scan cached
    clock.advance(seconds=home_service.HEALTH_TTL.total_seconds() + 1)
    home_service.home_data(kdeps, "U0ADMIN")
    assert anthropic_standin.count("GET", "/v1/organizations/users") == scans + 1  # the members scan again
