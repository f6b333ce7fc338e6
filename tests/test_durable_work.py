"""Acked work is stored before it runs: a bot process stopped with commands acked and their work waiting on a
slow Admin API leaves them in `work_item`, and the restarted process answers every one exactly once through its
response_url. SIGKILL with 20 commands (none answered before the kill); SIGTERM with 45, more than the worker
threads, so the running ones finish before the exit and the queued ones wait for the restart (before, those 13
were left at "Working on it…" for ever). Each on SQLite and on PostgreSQL."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, update
from sqlmodel import col, select

from bot.deps import build_deps
from storage import repositories as repo
from storage.db import session_scope
from storage.models import WorkItem, WorkState
from tests.botserver import command_body, post_slack
from tests.conftest import make_settings
from tests.test_replicas import BotProcess, bot_env, free_port

COMMANDS = {"kill": 20, "term": 45}


def _poll(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("empty_database_url", "how"),
    [("sqlite", "kill"), ("sqlite", "term"), ("postgres", "kill"), ("postgres", "term")],
    indirect=["empty_database_url"],
)
def test_work_acked_before_a_stop_is_answered_once_after_the_restart(
    tmp_path: Path, database_url: str, slack_standin, anthropic_standin, how: str
) -> None:
    env = bot_env(slack_standin, anthropic_standin, database_url, free_port())
    deps = build_deps(make_settings(slack_standin, anthropic_standin, database_url))
    engine = deps.engine

    def stored() -> int:
        with session_scope(engine) as session:
            return int(session.exec(select(func.count()).select_from(WorkItem)).one())

    anthropic_standin.latency = 4.0  # every Admin API call: the work is still waiting when the process stops
    bot = BotProcess.start(tmp_path, env, "first")
    count = COMMANDS[how]
    urls = [slack_standin.new_response_url() for _ in range(count)]
    try:
        bot.wait_healthy()
        with httpx.Client(timeout=15) as client:
            for url in urls:
                ack = post_slack(client, bot.url, command_body("keys", user_id="U0DEV", response_url=url))
                assert ack.status_code == 200 and "Working on it" in ack.text
        _poll(lambda: stored() == count, "every acked command to be stored")
        if how == "kill":
            bot.kill()
        else:
            bot.process.send_signal(signal.SIGTERM)
            bot.process.wait(timeout=60)
    finally:
        bot.stop()
    answered_before = Counter(r.url_id for r in slack_standin.responses)
    assert sum(answered_before.values()) < count  # some work was cut off

    anthropic_standin.latency = 0.0
    with session_scope(engine) as session:  # as if the claims had expired and the items had waited a while
        now = repo.database_now(session=session)
        session.execute(
            update(WorkItem)
            .where(col(WorkItem.state).in_([WorkState.QUEUED, WorkState.RUNNING]))
            .values(created_at=now - timedelta(minutes=1), claim_expires_at=now - timedelta(seconds=1))
        )
    restarted = BotProcess.start(tmp_path, env, "second")
    try:
        restarted.wait_healthy()
        _poll(lambda: len(slack_standin.responses) >= count, "every command to be answered", timeout=90)

        def done() -> int:  # an item is marked done just after its answer is sent
            with session_scope(engine) as session:
                query = select(func.count()).select_from(WorkItem).where(col(WorkItem.state) == "done")
                return int(session.exec(query).one())

        _poll(lambda: done() >= count, "every item to be marked done")
        assert done() == count
    finally:
        restarted.stop()
        deps.close()
    answers = Counter(r.url_id for r in slack_standin.responses)
    assert len(answers) == count and set(answers.values()) == {1}, answers
