"""Workers over the work-item queue, on SQLite and PostgreSQL, against the Slack stand-in: answers through the
response_url (or by DM once it is too old), retries with backoff, giving up with a sentence for the user and a
line for the admins, a dead worker's item taken over, and PostgreSQL's NOTIFY waking another process's worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.deps import Deps
from bot.slack.reply import Reply
from bot.work import Retry, Wakeup, WorkRunner, enqueue
from storage import repositories as repo
from storage.db import make_engine, session_scope
from storage.models import WorkItem, WorkState
from tests.conftest import DepsFactory


def _poll(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _item(engine: Engine, item_id: int) -> WorkItem:
    with session_scope(engine) as session:
        item = session.get(WorkItem, item_id)
        assert item is not None
        return item


@pytest.fixture
def wdeps(make_deps: DepsFactory) -> Deps:
    return make_deps()


class Runs:
    """An execute function for the tests: answers "done <n>", or raises Retry for the first `fail` attempts."""

    def __init__(self, fail: int = 0) -> None:
        self.fail, self.calls = fail, 0

    def __call__(self, deps: Deps, item: WorkItem) -> Reply:
        self.calls += 1
        if item.attempts <= self.fail:
            raise Retry("the Admin API is having trouble")
        return Reply(f"done {item.args}")


@pytest.fixture
def runner(wdeps: Deps) -> Iterator[Callable[..., WorkRunner]]:
    started: list[WorkRunner] = []

    def start(execute: Any, **kwargs: Any) -> WorkRunner:
        kwargs.setdefault("wakeup", Wakeup(wdeps.engine))
        made = WorkRunner(wdeps, execute, holder=f"test-{len(started)}", threads=2, **kwargs).start()
        started.append(made)
        return made

    yield start
    for made in started:
        made.stop()


def test_an_item_is_answered_through_its_response_url_once(wdeps: Deps, runner, slack_standin) -> None:
    wakeup = Wakeup(wdeps.engine)
    runner(Runs(), wakeup=wakeup)
    url = slack_standin.new_response_url()
    item_id = enqueue(wdeps.engine, wakeup, "test.echo", {"n": 1}, user_id="U0DEV", response_url=url)
    (answer,) = slack_standin.wait_for_response(count=1, timeout=20)
    assert answer.body["text"] == 'done {"n": 1}'
    _poll(lambda: _item(wdeps.engine, item_id).state == WorkState.DONE, "the item to be done")
    assert len(slack_standin.responses) == 1


def test_an_item_older_than_its_response_url_is_answered_by_dm(wdeps: Deps, runner, slack_standin) -> None:
    wakeup = Wakeup(wdeps.engine)
    item_id = enqueue(
        wdeps.engine, wakeup, "test.echo", {"n": 2}, user_id="U0DEV", response_url=slack_standin.new_response_url()
    )
    with session_scope(wdeps.engine) as session:  # acked 40 minutes ago (the bot was down)
        session.execute(
            update(WorkItem)
            .where(col(WorkItem.id) == item_id)
            .values(created_at=repo.database_now(session=session) - timedelta(minutes=40))
        )
    runner(Runs(), wakeup=wakeup)
    _poll(lambda: bool(slack_standin.dms_to("U0DEV")), "a DM")
    assert 'done {"n": 2}' in (slack_standin.dms_to("U0DEV")[-1].text or "")
    assert slack_standin.responses == []


def test_an_item_whose_response_url_was_used_five_times_is_answered_by_dm(wdeps: Deps, runner, slack_standin) -> None:
    from slack_sdk.webhook import WebhookClient

    url = slack_standin.new_response_url()
    for n in range(5):  # Slack takes a response_url five times: the sixth is refused ("used_url")
        assert WebhookClient(url).send(text=f"earlier answer {n}").status_code == 200
    wakeup = Wakeup(wdeps.engine)
    enqueue(wdeps.engine, wakeup, "test.echo", {"n": 6}, user_id="U0DEV", response_url=url)
    runner(Runs(), wakeup=wakeup)
    _poll(lambda: bool(slack_standin.dms_to("U0DEV")), "a DM")
    assert 'done {"n": 6}' in (slack_standin.dms_to("U0DEV")[-1].text or "")
    refused = [r for r in slack_standin.responses if r.status != 200]
    assert len(refused) == 1 and len(slack_standin.responses) == 6  # tried once, refused, then the DM


def test_a_transient_failure_is_retried_with_backoff_and_answered_once(wdeps: Deps, runner, slack_standin) -> None:
    wakeup = Wakeup(wdeps.engine)
    runs = Runs(fail=2)
    runner(runs, wakeup=wakeup)
    url = slack_standin.new_response_url()
    item_id = enqueue(wdeps.engine, wakeup, "test.echo", {"n": 3}, user_id="U0DEV", response_url=url)
    slack_standin.wait_for_response(count=1, timeout=30)
    _poll(lambda: _item(wdeps.engine, item_id).state == WorkState.DONE, "the item to be done")
    item = _item(wdeps.engine, item_id)
    assert item.attempts == 3 and runs.calls == 3 and item.last_error == "the Admin API is having trouble"
    assert len(slack_standin.responses) == 1


def test_an_item_that_keeps_failing_is_given_up_and_said(wdeps: Deps, runner, slack_standin) -> None:
    wakeup = Wakeup(wdeps.engine)
    with session_scope(wdeps.engine) as session:
        item = repo.enqueue_work(
            session=session,
            task="test.echo",
            args="{}",
            at=repo.database_now(session=session),
            user_id="U0DEV",
            response_url=slack_standin.new_response_url(),
            max_attempts=2,
        )
    runner(Runs(fail=99), wakeup=wakeup)
    (answer,) = slack_standin.wait_for_response(count=1, timeout=30)
    assert "after 2 tries" in answer.body["text"] and "the Admin API is having trouble" in answer.body["text"]
    assert item.id is not None
    assert _item(wdeps.engine, item.id).state == WorkState.GIVEN_UP
    _poll(lambda: any("Gave up" in (m.text or "") for m in slack_standin.messages("C0ADMIN")), "the admin line")


def test_a_dead_workers_item_is_taken_over_once_its_claim_expires(wdeps: Deps, runner, slack_standin) -> None:
    wakeup = Wakeup(wdeps.engine)
    url = slack_standin.new_response_url()
    item_id = enqueue(wdeps.engine, wakeup, "test.echo", {"n": 5}, user_id="U0DEV", response_url=url)
    with session_scope(wdeps.engine) as session:  # claimed by a worker that then died
        now = repo.database_now(session=session)
        assert repo.claim_work(session=session, holder="dead", now=now, lease=timedelta(seconds=1))
    runner(Runs(), wakeup=wakeup, poll=0.2)
    (answer,) = slack_standin.wait_for_response(count=1, timeout=30)
    assert answer.body["text"] == 'done {"n": 5}'
    _poll(lambda: _item(wdeps.engine, item_id).state == WorkState.DONE, "the item to be done")
    assert _item(wdeps.engine, item_id).attempts == 2


# LISTEN/NOTIFY is PostgreSQL's; on SQLite one process claims and wakes its own workers.
@pytest.mark.parametrize("empty_database_url", ["postgres"], indirect=True)
def test_postgres_notify_wakes_a_worker_in_another_process(
    wdeps: Deps, runner, slack_standin, database_url: str
) -> None:
    # The worker polls only every 60 s: an answer well before that came from the NOTIFY.
    listening = Wakeup(wdeps.engine)
    runner(Runs(), wakeup=listening, poll=60)
    _poll(listening.listening.is_set, "the worker's LISTEN")
    other = make_engine(database_url)  # the acking process: its own engine and wake-up
    try:
        url = slack_standin.new_response_url()
        enqueue(other, Wakeup(other), "test.echo", {"n": 6}, user_id="U0DEV", response_url=url)
        (answer,) = slack_standin.wait_for_response(count=1, timeout=20)
        assert answer.body["text"] == 'done {"n": 6}'
    finally:
        other.dispose()
