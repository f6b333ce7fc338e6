"""The App Home tab's buttons over HTTP, on SQLite and PostgreSQL: each clicked as Slack sends a Home click
(a `view` container, no response_url), answered by DM, the Home re-published."""
# ruff: noqa: F811  (the shared fixtures from tests/keys/support.py are imported, then requested by name)

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
from sqlmodel import select

from bot.deps import Deps
from bot.slack.ids import Action, Callback
from storage.db import session_scope
from storage.models import AccessRequest, KeyRotation, RequestState
from tests.botserver import post_slack
from tests.home.test_home import open_home, text
from tests.keys.support import (  # noqa: F401 - fixtures
    T0,
    add_key,
    buttons,
    clock,
    http,
    ids,
    kbot,
    kdeps,
)


def home_click(
    http: httpx.Client, url: str, slack: Any, user: str, action_id: str, value: str = "home", **extra: Any
) -> str:
    """Click a button on `user`'s Home tab as Slack sends it; the trigger id it carried."""
    view = slack.home_view(user)
    assert view is not None, "open the Home first"
    trigger = slack.new_trigger_id(user_id=user)
    action: dict[str, Any] = {"type": "button", "action_id": action_id, "block_id": "b", "action_ts": "1.2"}
    action["value"] = value
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "trigger_id": trigger,
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "container": {"type": "view", "view_id": view["id"]},
        "view": {"id": view["id"], "type": "home", "blocks": [], "callback_id": "", "private_metadata": ""},
        "actions": [action],
        **extra,
    }
    response = post_slack(http, url, "payload=" + quote(json.dumps(payload)))
    assert response.status_code == 200, response.text
    return trigger


def compact(value: dict[str, Any]) -> str:
    """A button value as the builders write it (pydantic's compact JSON)."""
    return json.dumps(value, separators=(",", ":"))


def submit(http: httpx.Client, url: str, callback: str, values: dict[str, Any], metadata: str, user: str) -> None:
    payload = {
        "type": "view_submission",
        "user": {"id": user, "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "team": {"id": "T0STANDIN"},
        "trigger_id": "1.2.3",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": callback,
            "private_metadata": metadata,
            "state": {"values": values},
            "team_id": "T0STANDIN",
            "app_installed_team_id": "T0STANDIN",
        },
    }
    response = post_slack(http, url, "payload=" + quote(json.dumps(payload)))
    assert response.status_code == 200, response.text


def until(check: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def dm_text(slack: Any, user: str, after: int = 0) -> str:
    return " ".join(json.dumps([m.text, m.blocks], ensure_ascii=False) for m in slack.dms_to(user)[after:])


def republished(slack: Any, user: str, before: int) -> dict:
    """Wait for the Home of `user` to be published again (after `before` publishes in all); the new view."""
    slack.wait_for("views.publish", count=before + 1, predicate=lambda c: c.body.get("user_id") == user, timeout=15)
    view = slack.home_view(user)
    assert view is not None and len(view["blocks"]) <= 100
    return view


def publishes(slack: Any, user: str) -> int:
    return len([c for c in slack.calls_to("views.publish") if c.body.get("user_id") == user])


def pending_request(deps: Deps, *, user: str = "U0DEV", workspace: str = "research") -> int:
    with session_scope(deps.engine) as session:
        row = AccessRequest(
            requester_slack_id=user,
            requester_handle=user.lower(),
            state=RequestState.PENDING,
            workspace_name=workspace,
            reason="a demo",
            created_at=T0 - timedelta(days=1),
            updated_at=T0 - timedelta(days=1),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def state_of(deps: Deps, request_id: int) -> str:
    with session_scope(deps.engine) as session:
        row = session.get(AccessRequest, request_id)
        assert row is not None
        return row.state


def test_refresh_republishes_the_home(kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin):
    dev, _, ws = ids(anthropic_standin)
    view = open_home(http, kbot, slack_standin, "U0DEV")
    assert buttons(view["blocks"], Action.HOME_REFRESH) and buttons(view["blocks"], Action.HOME_REQUEST_ACCESS)
    assert "open this tab again" not in text(view).lower()
    add_key(anthropic_standin, "dev-dev-fresh", owner=dev, workspace=ws, created=T0)
    before = publishes(slack_standin, "U0DEV")
    home_click(http, kbot, slack_standin, "U0DEV", Action.HOME_REFRESH)
    view = republished(slack_standin, "U0DEV", before)
    assert "dev-dev-fresh" in text(view)


def test_request_access_opens_the_form_and_the_filed_request_shows_on_home(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
):
    _, _, ws = ids(anthropic_standin)
    open_home(http, kbot, slack_standin, "U0DEV")
    opens = len(slack_standin.calls_to("views.open"))
    home_click(http, kbot, slack_standin, "U0DEV", Action.HOME_REQUEST_ACCESS)
    call = slack_standin.wait_for("views.open", count=opens + 1)[opens]
    assert call.response["ok"], call.response
    assert call.body["view"]["callback_id"] == Callback.REQUEST_MODAL
    view_id = call.response["view"]["id"]
    until(lambda: "workspace" in json.dumps(slack_standin.views[view_id]["blocks"]), "the workspace list")
    metadata = slack_standin.views[view_id]["private_metadata"]
    assert json.loads(metadata)["home"] is True
    before, dms = publishes(slack_standin, "U0DEV"), len(slack_standin.dms_to("U0DEV"))
    values = {
        "workspace": {"value": {"type": "static_select", "selected_option": {"value": ws}}},
        "role": {"value": {"type": "static_select", "selected_option": {"value": "workspace_developer"}}},
        "duration": {"value": {"type": "static_select", "selected_option": {"value": "0"}}},
        "reason": {"value": {"type": "plain_text_input", "value": "home test"}},
    }
    submit(http, kbot, Callback.REQUEST_MODAL, values, metadata, "U0DEV")
    view = republished(slack_standin, "U0DEV", before)
    assert "waiting for approval" in text(view)
    until(lambda: len(slack_standin.dms_to("U0DEV")) > dms, "the receipt by DM")
    with session_scope(kdeps.engine) as session:
        assert len(session.exec(select(AccessRequest).where(AccessRequest.requester_slack_id == "U0DEV")).all()) == 1


def test_request_access_when_slack_refuses_the_form_says_so_by_dm(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin
):
    open_home(http, kbot, slack_standin, "U0DEV")
    view = slack_standin.home_view("U0DEV")
    payload_trigger = "9.9.expired"  # never minted: views.open refuses it
    payload = {
        "type": "block_actions",
        "user": {"id": "U0DEV", "username": "u0dev", "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "trigger_id": payload_trigger,
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "container": {"type": "view", "view_id": view["id"]},
        "view": {"id": view["id"], "type": "home", "blocks": []},
        "actions": [{"type": "button", "action_id": Action.HOME_REQUEST_ACCESS, "value": "home", "action_ts": "1"}],
    }
    assert post_slack(http, kbot, "payload=" + quote(json.dumps(payload))).status_code == 200
    until(lambda: "couldn't open the form" in dm_text(slack_standin, "U0DEV"), "the DM")


def test_key_buttons_rotate_check_and_revoke(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
):
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "prod-dev-old", owner=dev, workspace=ws, created=T0 - timedelta(days=95))
    view = open_home(http, kbot, slack_standin, "U0DEV")
    value = compact({"k": key["id"]})
    for action in (Action.HOME_KEY_ROTATE, Action.HOME_KEY_REVOKE, Action.HOME_KEY_CHECK):
        assert [b["value"] for b in buttons(view["blocks"], action)] == [value]
    revoke = buttons(view["blocks"], Action.HOME_KEY_REVOKE)[0]
    assert revoke["confirm"]["confirm"]["text"] == "Revoke" and "prod-dev-old" in revoke["confirm"]["text"]["text"]

    # Check: the key's details by DM, the Home re-published.
    before, dms = publishes(slack_standin, "U0DEV"), len(slack_standin.dms_to("U0DEV"))
    home_click(http, kbot, slack_standin, "U0DEV", Action.HOME_KEY_CHECK, value)
    republished(slack_standin, "U0DEV", before)
    until(lambda: key["id"] in dm_text(slack_standin, "U0DEV", dms), "the check answer")

    # Rotate: a rotation row, the steps by DM, the Home shows it in progress.
    before, dms = publishes(slack_standin, "U0DEV"), len(slack_standin.dms_to("U0DEV"))
    home_click(http, kbot, slack_standin, "U0DEV", Action.HOME_KEY_ROTATE, value)
    view = republished(slack_standin, "U0DEV", before)
    with session_scope(kdeps.engine) as session:
        assert len(session.exec(select(KeyRotation).where(KeyRotation.old_key_id == key["id"])).all()) == 1
    assert "rotation in progress" in text(view)
    until(lambda: len(slack_standin.dms_to("U0DEV")) > dms, "the rotation steps")

    # Revoke (after Slack's confirm dialog): deactivated, told by DM, gone from the Home.
    before, dms = publishes(slack_standin, "U0DEV"), len(slack_standin.dms_to("U0DEV"))
    home_click(http, kbot, slack_standin, "U0DEV", Action.HOME_KEY_REVOKE, value)
    view = republished(slack_standin, "U0DEV", before)
    assert kdeps.admin.get_api_key(key["id"]).status == "inactive"
    assert "prod-dev-old" not in text(view)
    until(lambda: len(slack_standin.dms_to("U0DEV")) > dms, "the revoke answer")


def test_someone_elses_key_button_is_refused(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
):
    _, admin, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "admin-key", owner=admin, workspace=ws, created=T0)
    open_home(http, kbot, slack_standin, "U0DEV")
    before = publishes(slack_standin, "U0DEV")
    home_click(http, kbot, slack_standin, "U0DEV", Action.HOME_KEY_REVOKE, json.dumps({"k": key["id"]}))
    republished(slack_standin, "U0DEV", before)
    until(lambda: "belongs to someone else" in dm_text(slack_standin, "U0DEV"), "the refusal")
    assert kdeps.admin.get_api_key(key["id"]).status == "active"


def test_admin_approves_from_home(kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin):
    request_id = pending_request(kdeps)
    view = open_home(http, kbot, slack_standin, "U0ADMIN")
    approve = buttons(view["blocks"], Action.APPROVE_REQUEST)
    assert [b["value"] for b in approve] == [compact({"r": request_id})]
    assert approve[0]["confirm"]["title"]["text"] == "Approve this request?"
    assert "research" in approve[0]["confirm"]["text"]["text"]
    assert [b["value"] for b in buttons(view["blocks"], Action.DENY_REQUEST)] == [compact({"r": request_id})]
    before, dms = publishes(slack_standin, "U0ADMIN"), len(slack_standin.dms_to("U0ADMIN"))
    home_click(http, kbot, slack_standin, "U0ADMIN", Action.APPROVE_REQUEST, json.dumps({"r": request_id}))
    view = republished(slack_standin, "U0ADMIN", before)
    assert state_of(kdeps, request_id) != RequestState.PENDING
    assert buttons(view["blocks"], Action.APPROVE_REQUEST) == []
    told = until(lambda: dm_text(slack_standin, "U0ADMIN", dms), "the admin's answer")
    assert f"Request #{request_id}" in told and "State" in told


def test_admin_denies_from_home_through_the_deny_form(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
):
    request_id = pending_request(kdeps)
    open_home(http, kbot, slack_standin, "U0ADMIN")
    opens = len(slack_standin.calls_to("views.open"))
    home_click(http, kbot, slack_standin, "U0ADMIN", Action.DENY_REQUEST, json.dumps({"r": request_id}))
    call = slack_standin.wait_for("views.open", count=opens + 1)[opens]
    assert call.response["ok"] and call.body["view"]["callback_id"] == Callback.DENY_MODAL
    metadata = call.body["view"]["private_metadata"]
    assert json.loads(metadata) == {"r": request_id, "home": True}
    before, dms = publishes(slack_standin, "U0ADMIN"), len(slack_standin.dms_to("U0ADMIN"))
    values = {"reason": {"value": {"type": "plain_text_input", "value": "not this quarter"}}}
    submit(http, kbot, Callback.DENY_MODAL, values, metadata, "U0ADMIN")
    view = republished(slack_standin, "U0ADMIN", before)
    assert state_of(kdeps, request_id) == RequestState.DENIED
    assert buttons(view["blocks"], Action.DENY_REQUEST) == []
    told = until(lambda: dm_text(slack_standin, "U0ADMIN", dms), "the admin's answer")
    assert f"Request #{request_id}" in told and "Denied" in told


def test_developer_sees_no_approvals_and_a_forged_approve_is_refused(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
):
    request_id = pending_request(kdeps, user="U0NEW")
    slack_standin.add_user("U0NEW", name="new", email="new@example.com")
    view = open_home(http, kbot, slack_standin, "U0DEV")
    assert buttons(view["blocks"], Action.APPROVE_REQUEST) == [] and "Pending approvals" not in text(view)
    before = publishes(slack_standin, "U0DEV")
    home_click(http, kbot, slack_standin, "U0DEV", Action.APPROVE_REQUEST, json.dumps({"r": request_id}))
    republished(slack_standin, "U0DEV", before)
    until(lambda: "Only admins can approve" in dm_text(slack_standin, "U0DEV"), "the refusal")
    assert state_of(kdeps, request_id) == RequestState.PENDING
    assert [r for r in anthropic_standin.requests if r.method != "GET"] == []


def test_admin_backlog_has_a_button_on_each_key_and_a_console_link(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
):
    dev, _, ws = ids(anthropic_standin)
    old = add_key(anthropic_standin, "prod-dev-ancient", owner=dev, workspace=ws, created=T0 - timedelta(days=200))
    view = open_home(http, kbot, slack_standin, "U0ADMIN")
    value = compact({"k": old["id"]})
    assert value in [b["value"] for b in buttons(view["blocks"], Action.HOME_KEY_CHECK)]  # overdue
    assert value in [b["value"] for b in buttons(view["blocks"], Action.HOME_KEY_REVOKE)]  # unused
    console = buttons(view["blocks"], Action.HOME_OPEN_CONSOLE)
    assert console and console[0]["url"].startswith("https://")
    # A link button still sends its click: acked, and nothing else happens.
    calls = len(slack_standin.calls)
    home_click(http, kbot, slack_standin, "U0ADMIN", Action.HOME_OPEN_CONSOLE, "")
    assert [c.method for c in slack_standin.calls[calls:]] == []


def test_hostile_names_and_long_lists_stay_within_block_kit_limits(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
):
    _, admin, _ = ids(anthropic_standin)
    hostile = "&<>*_~`" * 60
    workspace = anthropic_standin.add_workspace(name=("<!channel> & " * 20)[:40])
    for n in range(40):
        add_key(
            anthropic_standin, f"{hostile}{n}", owner=admin, workspace=workspace["id"], created=T0 - timedelta(days=300)
        )
    for n in range(30):
        pending_request(kdeps, user=f"U0REQ{n:02d}", workspace=hostile)
    view = open_home(http, kbot, slack_standin, "U0ADMIN")  # the strict stand-in accepted it
    shown = text(view)
    assert "…and 32 more" in shown  # 40 keys, 8 shown
    assert "…and 25 more" in shown  # 30 pending, 5 shown
    assert len(buttons(view["blocks"], Action.APPROVE_REQUEST)) == 5
    assert "<!channel>" not in shown
    assert all(len(b["confirm"]["text"]["text"]) <= 300 for b in buttons(view["blocks"], Action.HOME_KEY_REVOKE))
    block_ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
