"""A bot process killed with SIGKILL in the middle of an approval: after a restart, `invite-sync` resumes the
request and it ends `invited` with exactly one invite, whether or not the lost call reached the Admin API."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from bot.anthropic_admin import AdminGateway
from bot.deps import build_deps
from bot.registry import run_job
from bot.slack.ids import Action
from storage.db import session_scope
from storage.models import AccessRequest, RequestState
from tests.botserver import command_body, post_slack
from tests.conftest import make_settings
from tests.test_replicas import BIN, BotProcess, bot_env, click_payload, free_port, wait_state

S = RequestState
INVITES = "/v1/organizations/invites"


# One backend each keeps the runtime down: "answer" on SQLite, "request" on PostgreSQL.
@pytest.mark.parametrize(
    ("empty_database_url", "lost"), [("sqlite", "answer"), ("postgres", "request")], indirect=["empty_database_url"]
)
def test_sigkill_during_the_invite_call_is_resumed_after_restart(
    tmp_path: Path, database_url: str, slack_standin, anthropic_standin, lost: str
) -> None:
    slack_standin.add_user("U0NEW", name="newbie", email="new@example.com")
    env = bot_env(slack_standin, anthropic_standin, database_url, free_port())
    deps = build_deps(make_settings(slack_standin, anthropic_standin, database_url))
    engine = deps.engine
    bot = BotProcess.start(tmp_path, env, "first")
    try:
        bot.wait_healthy()
        with httpx.Client(timeout=15) as client:
            url = slack_standin.new_response_url()
            body = command_body("request default-ws for 7d crash test", user_id="U0NEW", response_url=url)
            assert post_slack(client, bot.url, body).status_code == 200
            wait_state(engine, 1, (S.PENDING,))
            # "answer": the invite is created but its answer never reaches the bot; "request": it never arrives.
            anthropic_standin.inject("POST", INVITES, status=None, delay=1.5, reset_connection=lost == "request")
            click = click_payload(
                Action.APPROVE_REQUEST,
                1,
                "U0ADMIN",
                slack_standin.new_response_url(),
                slack_standin.new_trigger_id(user_id="U0ADMIN"),
            )
            assert post_slack(client, bot.url, click).status_code == 200
            anthropic_standin.wait_for("POST", INVITES, timeout=10)
        bot.kill_all()  # the invite call is in flight (in the worker process)
    finally:
        bot.stop()
    assert bot.process.returncode == -9
    stuck = wait_state(engine, 1, (S.APPROVED,), timeout=1)  # the approval committed, the fulfilment did not
    assert stuck.invite_id is None

    restarted = BotProcess.start(tmp_path, env, "second")
    try:
        restarted.wait_healthy()
        # Within 5 minutes a running approval is left alone (it may still be in progress elsewhere).
        early = run_job("invite-sync", deps, out=lambda _: None)
        assert early is not None and early.errors == []
        assert wait_state(engine, 1, (S.APPROVED,), timeout=1)
        with session_scope(engine) as session:  # as if ten minutes passed
            session.execute(
                update(AccessRequest)
                .where(col(AccessRequest.id) == 1)
                .values(updated_at=stuck.updated_at - timedelta(minutes=10))
            )
        resumed = _jobs_run(tmp_path, env)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "errors 0" in resumed.stdout
        request = wait_state(engine, 1, (S.INVITED,), timeout=1)
        again = run_job("invite-sync", deps, out=lambda _: None)
        assert again is not None and again.errors == [] and again.sent == 0
    finally:
        restarted.stop()
        deps.close()
    gateway = AdminGateway(api_key=_secret(anthropic_standin.admin_key), base_url=anthropic_standin.base_url)
    with gateway:
        invites = gateway.list_invites(email="new@example.com")
    assert [i.id for i in invites] == [request.invite_id]
    posts = anthropic_standin.count("POST", INVITES)
    assert posts == 2  # the lost one and the resumed one (which met the first as already pending, if it landed)
    threads = [m.text for m in slack_standin.messages("C0ADMIN") if m.thread_ts and m.text]
    assert sum("Resuming this approval" in t for t in threads) == 1
    assert sum("Invite sent to new@example.com" in t for t in threads) == 1
    assert any("accept the invitation" in (m.text or "") for m in slack_standin.dms_to("U0NEW"))
    assert "Traceback" not in restarted.output()


def _jobs_run(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "jobs", "run", "invite-sync"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


def test_a_killed_holders_lease_expires_within_ten_minutes(engine, settings) -> None:
    from storage import repositories as repo

    def taken_ago(age: timedelta) -> None:  # a replica took the lease `age` ago (db clock), then died
        with session_scope(engine) as session:
            taken = repo.database_now(session=session) - age
            assert repo.try_acquire_lease(
                session=session, name="request-nudges", holder="dead:1", now=taken, ttl=timedelta(minutes=10)
            )

    deps = build_deps(settings)
    deps.engine.dispose()
    deps.engine = engine
    try:
        taken_ago(timedelta(minutes=9, seconds=50))
        assert run_job("request-nudges", deps, holder="alive:2", out=lambda _: None) is None  # still held
        taken_ago(timedelta(minutes=10))
        result = run_job("request-nudges", deps, holder="alive:2", out=lambda _: None)
        assert result is not None and result.errors == []
    finally:
        deps.close()
