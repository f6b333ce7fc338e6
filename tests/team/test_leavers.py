"""`leaver-sweep` end to end on SQLite and PostgreSQL, the bot over HTTP against the strict stand-ins: one proposal
per person deactivated in Slack who still has something, never a second one on a rerun or another replica; the
Offboard click runs the offboarding sequence in the proposal's thread; Not a leaver silences the person until Slack
shows them active and then deactivated again (user_change events); clicks by non-admins are refused; a former
member who still owns keys is proposed (keys part only); the weekly no-Slack list; hostile names fit Block Kit."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import col, select

from bot.deps import Deps
from bot.registry import run_job
from bot.sandbox.signing import event_body, signed_headers
from bot.slack.ids import Action
from storage.db import session_scope
from storage.models import IdentityLink, LeaverCase
from tests.keys.support import add_key, audit_actions, buttons, click, ids, rendered
from tests.test_cli import _cli, _doctor_env


def _sweep(deps: Deps, **kwargs: Any) -> Any:
    result = run_job("leaver-sweep", deps, out=lambda _: None, **kwargs)
    assert result is not None
    return result


def _directory(deps: Deps) -> None:
    result = run_job("slack-directory", deps, out=lambda _: None)
    assert result is not None and not result.errors


def _proposals(slack: Any) -> list[Any]:
    """The bot's leaver proposals in the admin channel (root messages, decided ones too)."""
    return [m for m in slack.messages("C0ADMIN") if m.thread_ts is None and (m.text or "").startswith("Leaver")]


def _value(message: Any, action: str) -> str:
    (found,) = buttons(message.blocks, action)
    return str(found["value"])


def _leaver(slack: Any, admin: Any, deps: Deps, email: str = "leaver@example.com") -> dict[str, Any]:
    """An org member with a workspace and an active key, deactivated in Slack."""
    person = admin.add_user(email, name="Lee Ver", role="developer")
    _, _, ws = ids(admin)
    admin.add_member(ws, person["id"])
    add_key(admin, "lee-ci", owner=person["id"], workspace=ws, created=deps.clock() - timedelta(days=3))
    slack.add_user("U0LEE", name="lee", real_name="Lee Ver", email=email, deleted=True)
    return person


def _wait(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)  # polling with a deadline


def _user_change(http: httpx.Client, url: str, user: dict[str, Any], event_id: str) -> None:
    body = event_body({"type": "user_change", "user": user}, event_id=event_id)
    answer = http.post(
        f"{url}/slack/events", content=body, headers=signed_headers(body, content_type="application/json")
    )
    assert answer.status_code == 200


def _calls(admin: Any, path_part: str) -> int:
    return len([r for r in admin.requests if r.method == "GET" and path_part in r.path])


def test_a_deactivated_member_with_keys_gets_one_proposal(kdeps: Deps, slack_standin, anthropic_standin) -> None:
    _leaver(slack_standin, anthropic_standin, kdeps)
    _directory(kdeps)
    anthropic_standin.reset_requests()
    result = _sweep(kdeps)
    assert not result.errors and result.sent == 1
    (proposal,) = _proposals(slack_standin)
    shown = rendered(proposal.blocks)
    assert "leaver@example.com" in shown and "lee-ci" in shown and "default-ws" in shown
    assert "removed from the Anthropic organization" in shown and "can't delete them" in shown
    (offboard,) = buttons(proposal.blocks, Action.LEAVER_OFFBOARD)
    assert offboard["confirm"]["text"]["type"] == "plain_text"
    assert buttons(proposal.blocks, Action.LEAVER_NOT_A_LEAVER)
    assert _calls(anthropic_standin, "/api_keys") == 1  # one scan of active keys, not one call per person
    assert _calls(anthropic_standin, "/users") == 1
    anthropic_standin.reset_requests()
    again = _sweep(kdeps)  # a rerun
    other = _sweep(kdeps, holder="replica-2")  # another replica
    assert again.sent == 0 and other.sent == 0 and len(_proposals(slack_standin)) == 1
    assert _calls(anthropic_standin, "/api_keys") == 0  # the person has an open case: nothing to look up


def test_offboard_click_runs_the_sequence_in_the_thread(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
) -> None:
    person = _leaver(slack_standin, anthropic_standin, kdeps)
    _directory(kdeps)
    _sweep(kdeps)
    (proposal,) = _proposals(slack_standin)
    value = _value(proposal, Action.LEAVER_OFFBOARD)
    done = click(http, kbot, slack_standin, action_id=Action.LEAVER_OFFBOARD, value=value, user="U0ADMIN")
    assert done["text"].startswith("Offboarded leaver@example.com")
    assert kdeps.admin.find_user_by_email("leaver@example.com") is None
    assert {k.status for k in kdeps.admin.list_api_keys(created_by_user_id=person["id"])} == {"inactive"}
    thread = [m.text or "" for m in slack_standin.messages("C0ADMIN") if m.thread_ts == proposal.ts]
    assert any("lee-ci" in t and "inactive" in t for t in thread)
    assert any("Removed from the Anthropic organization" in t for t in thread)
    edited = [c for c in slack_standin.calls_to("chat.update") if c.body.get("ts") == proposal.ts]
    assert edited and "offboarded them" in json.dumps(edited[-1].body)
    assert Action.LEAVER_OFFBOARD not in json.dumps(edited[-1].body)  # the buttons are gone
    again = click(http, kbot, slack_standin, action_id=Action.LEAVER_OFFBOARD, value=value, user="U0ADMIN")
    assert "Nothing was left to do" in again["text"]
    assert _sweep(kdeps).sent == 0  # offboarded: no new proposal


def test_clicks_by_non_admins_are_refused(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
) -> None:
    _leaver(slack_standin, anthropic_standin, kdeps)
    _directory(kdeps)
    _sweep(kdeps)
    (proposal,) = _proposals(slack_standin)
    off = click(
        http, kbot, slack_standin, action_id=Action.LEAVER_OFFBOARD, value=_value(proposal, Action.LEAVER_OFFBOARD)
    )
    assert "Only admins can offboard" in off["text"]
    quiet = _value(proposal, Action.LEAVER_NOT_A_LEAVER)
    no = click(http, kbot, slack_standin, action_id=Action.LEAVER_NOT_A_LEAVER, value=quiet)
    assert "Only admins can decide" in no["text"]
    assert kdeps.admin.find_user_by_email("leaver@example.com") is not None
    with session_scope(kdeps.engine) as session:
        (case,) = session.exec(select(LeaverCase)).all()
        assert case.state == "proposed"


def test_not_a_leaver_silences_until_slack_changes_again(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
) -> None:
    _leaver(slack_standin, anthropic_standin, kdeps)
    _directory(kdeps)
    _sweep(kdeps)
    (proposal,) = _proposals(slack_standin)
    value = _value(proposal, Action.LEAVER_NOT_A_LEAVER)
    answer = click(http, kbot, slack_standin, action_id=Action.LEAVER_NOT_A_LEAVER, value=value, user="U0ADMIN")
    assert answer["text"].startswith("Noted: leaver@example.com is not a leaver")
    assert audit_actions(kdeps, "U0LEE") == ["leaver.not_a_leaver"]
    thread = [m.text or "" for m in slack_standin.messages("C0ADMIN") if m.thread_ts == proposal.ts]
    assert any("not a leaver" in t for t in thread)
    twice = click(http, kbot, slack_standin, action_id=Action.LEAVER_NOT_A_LEAVER, value=value, user="U0ADMIN")
    assert "already said" in twice["text"] and audit_actions(kdeps, "U0LEE") == ["leaver.not_a_leaver"]
    off = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.LEAVER_OFFBOARD,
        value=_value(proposal, Action.LEAVER_OFFBOARD),
        user="U0ADMIN",
    )
    assert "is not a leaver" in off["text"] and kdeps.admin.find_user_by_email("leaver@example.com") is not None
    assert _sweep(kdeps).sent == 0 and len(_proposals(slack_standin)) == 1  # silenced
    user = {"id": "U0LEE", "name": "lee", "real_name": "Lee Ver", "profile": {"email": "leaver@example.com"}}
    _user_change(http, kbot, {**user, "deleted": False}, "EvLEE1")  # back in Slack: the case closes

    def closed() -> bool:
        with session_scope(kdeps.engine) as session:
            return session.exec(select(LeaverCase).where(col(LeaverCase.open_key).is_not(None))).first() is None

    _wait(closed, "the case to close")
    assert len(_proposals(slack_standin)) == 1
    _user_change(http, kbot, {**user, "deleted": True}, "EvLEE2")  # deactivated again: proposed at once
    _wait(lambda: len(_proposals(slack_standin)) == 2, "a new proposal")
    assert _sweep(kdeps).sent == 0 and len(_proposals(slack_standin)) == 2


def test_a_former_member_who_owns_keys_is_proposed_for_the_keys(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
) -> None:
    _, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "old-batch", owner="user_01FORMER", workspace=ws, created=kdeps.clock())
    with session_scope(kdeps.engine) as session:
        session.add(IdentityLink(slack_user_id="U0OLD", email="old@example.com", anthropic_user_id="user_01FORMER"))
        session.commit()
    slack_standin.add_user("U0OLD", name="old", real_name="Old Timer", email="old@example.com", deleted=True)
    slack_standin.add_user("U0GONE", name="gone", email="gone@example.com", deleted=True)  # nothing in the org
    slack_standin.add_user("U0DEVOLD", name="dev-old", email="dev@example.com", deleted=True)  # U0DEV is active
    _directory(kdeps)
    assert _sweep(kdeps).sent == 1
    (proposal,) = _proposals(slack_standin)
    shown = rendered(proposal.blocks)
    assert "old-batch" in shown and "removed from the Anthropic organization" not in shown
    value = _value(proposal, Action.LEAVER_OFFBOARD)
    done = click(http, kbot, slack_standin, action_id=Action.LEAVER_OFFBOARD, value=value, user="U0ADMIN")
    assert done["text"].startswith("Offboarded old@example.com")
    assert kdeps.admin.get_api_key(key["id"]).status == "inactive"


def test_members_without_slack_are_listed_once_a_week(kdeps: Deps, clock, slack_standin, anthropic_standin) -> None:
    anthropic_standin.add_user("ghost@example.com", name="Gho St", role="user")
    _directory(kdeps)
    assert _sweep(kdeps).sent == 1
    lists = [m for m in slack_standin.messages("C0ADMIN") if "no Slack account" in (m.text or "")]
    assert len(lists) == 1 and "ghost@example.com" in rendered(lists[0].blocks)
    assert "dev@example.com" not in rendered(lists[0].blocks)  # in Slack
    clock.advance(days=1)
    assert _sweep(kdeps).sent == 0  # the same ISO week
    clock.advance(days=7)
    assert _sweep(kdeps).sent == 1


def test_a_dry_run_prints_and_writes_nothing(kdeps: Deps, slack_standin, anthropic_standin) -> None:
    _leaver(slack_standin, anthropic_standin, kdeps)
    _directory(kdeps)
    printed: list[str] = []
    result = run_job("leaver-sweep", kdeps, dry_run=True, out=printed.append)
    assert result is not None and result.sent == 1
    assert any(line.startswith("would post to C0ADMIN: Leaver? leaver@example.com") for line in printed)
    assert _proposals(slack_standin) == []
    with session_scope(kdeps.engine) as session:
        assert session.exec(select(LeaverCase)).all() == []


def test_no_directory_no_sweep(kdeps: Deps, slack_standin, anthropic_standin) -> None:
    _leaver(slack_standin, anthropic_standin, kdeps)
    result = _sweep(kdeps)
    assert result.sent == 0 and any("directory is not stored" in n for n in result.notes)


def test_hostile_names_fit_block_kit(kdeps: Deps, slack_standin, anthropic_standin) -> None:
    hostile = "<!channel> & <https://evil.example|click> " * 20
    person = anthropic_standin.add_user("h@example.com", name=hostile[:200], role="developer")
    for i in range(30):
        ws = anthropic_standin.add_workspace(f"{i} {hostile}"[:40])["id"]
        anthropic_standin.add_member(ws, person["id"])
        add_key(anthropic_standin, f"{i} {hostile}"[:250], owner=person["id"], workspace=ws, created=kdeps.clock())
    slack_standin.add_user("U0H", name="h", real_name=hostile[:250], email="h@example.com", deleted=True)
    for i in range(260):
        anthropic_standin.add_user(f"g{i}-{'x' * 40}@example.com", name=hostile[:200], role="user")
    _directory(kdeps)
    result = _sweep(kdeps)
    assert not result.errors and result.sent == 2  # the proposal and the no-Slack list, both accepted
    posted = [m for m in slack_standin.messages("C0ADMIN") if m.thread_ts is None]
    assert len(posted) == 2
    for message in posted:
        assert "<!channel>" not in rendered(message.blocks) and "<https://" not in rendered(message.blocks)


def test_jobs_run_leaver_sweep_dry_run_prints_the_proposal(
    tmp_path: Path, slack_standin, anthropic_standin, sqlite_url: str
) -> None:
    values = _doctor_env(slack_standin, anthropic_standin, sqlite_url)
    anthropic_standin.add_user("leaver@example.com", name="Lee Ver", role="developer")
    slack_standin.add_user("U0LEE", name="lee", real_name="Lee Ver", email="leaver@example.com", deleted=True)
    stored = _cli(["jobs", "run", "slack-directory"], tmp_path, **values)
    assert stored.returncode == 0, stored.stdout + stored.stderr
    result = _cli(["jobs", "run", "leaver-sweep", "--dry-run"], tmp_path, **values)
    assert result.returncode == 0, result.stdout + result.stderr
    would = [line for line in result.stdout.splitlines() if line.startswith("would post to C0ADMIN: ")]
    assert len(would) == 1 and "leaver@example.com" in would[0]
    assert "leaver-sweep (dry run): sent 1, skipped 0, errors 0" in result.stdout
    assert [c.method for c in slack_standin.calls if c.method.startswith("chat.")] == []
