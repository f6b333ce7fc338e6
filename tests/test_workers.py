"""Worker processes (`claude-key-bot worker`), real processes on SQLite and PostgreSQL: two workers racing over
200 stored items do each once; a worker killed during an Admin API write leaves its item to another worker
once the claim expires, and that write is not made again; `run` with WORKERS=0 starts none and a worker started
on its own answers its commands; scheduled jobs are handed on as one work item each and run by a worker."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.deps import Deps, build_deps
from bot.jobs.scheduler import start_scheduler
from bot.registry import JOBS
from bot.work import enqueue, wakeup_for
from bot.work.runner import INTERRUPTED_UNSURE
from bot.worker import enqueue_job, job_task, runner_for
from storage.db import session_scope
from storage.models import AdminWrite, AdminWriteState, JobRun, WorkItem, WorkState
from tests.botserver import command_body, post_slack
from tests.conftest import make_settings
from tests.keys.support import T0, add_key, ids
from tests.test_replicas import BIN, BotProcess, bot_env, free_port


def _poll(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@dataclass
class Worker:
    """One `claude-key-bot worker` process, in a process group of its own."""

    process: subprocess.Popen[str]
    log: Path

    @classmethod
    def start(cls, cwd: Path, env: dict[str, str], name: str, *args: str) -> Worker:
        log = cwd / f"{name}.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [str(BIN), "worker", *args],
                cwd=cwd,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        return cls(process, log)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30) -> None:
        _poll(lambda: "worker ready" in self.output() or self.process.poll() is not None, "the worker", timeout)
        assert self.process.poll() is None, self.output()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def world(
    tmp_path: Path, database_url: str, slack_standin: Any, anthropic_standin: Any
) -> Iterator[tuple[dict[str, str], Deps]]:
    env = bot_env(slack_standin, anthropic_standin, database_url, free_port())
    deps = build_deps(make_settings(slack_standin, anthropic_standin, database_url))
    try:
        yield env, deps
    finally:
        deps.close()


def _items(engine: Engine) -> list[WorkItem]:
    with session_scope(engine) as session:
        return list(session.exec(select(WorkItem).order_by(col(WorkItem.id))))


def _store(engine: Engine, task: str, args: dict[str, Any], *, user: str, response_url: str) -> int:
    return enqueue(engine, wakeup_for(engine), task, args, user_id=user, response_url=response_url)


def test_two_workers_racing_over_200_items_do_each_once(
    tmp_path: Path, world: tuple[dict[str, str], Deps], slack_standin: Any, anthropic_standin: Any
) -> None:
    env, deps = world
    anthropic_standin.latency = 0.02  # the work takes a moment: both workers have items in hand at once
    workers = [Worker.start(tmp_path, env, f"worker-{n}") for n in range(2)]
    try:
        for worker in workers:
            worker.wait_ready()
        urls = [slack_standin.new_response_url() for _ in range(200)]
        for url in urls:
            _store(
                deps.engine, "request.list", {"slack_user_id": "U0DEV", "which": "mine"}, user="U0DEV", response_url=url
            )

        def all_done() -> bool:
            return all(item.state == WorkState.DONE for item in _items(deps.engine))

        _poll(all_done, "every item to be done", timeout=120)
    finally:
        for worker in workers:
            worker.stop()
    items = _items(deps.engine)
    assert len(items) == 200
    assert {item.attempts for item in items} == {1}  # claimed once each, never taken over
    assert len({item.claimed_by for item in items}) == 2  # both workers took part in the race
    assert all(item.started_at is not None and item.finished_at is not None for item in items)
    answers = Counter(r.url_id for r in slack_standin.responses)
    assert len(answers) == 200 and set(answers.values()) == {1}
    for worker in workers:
        assert worker.process.returncode == 0
        assert "Traceback" not in worker.output()


def test_a_worker_killed_during_a_write_leaves_the_item_to_another_that_does_not_repeat_it(
    tmp_path: Path, world: tuple[dict[str, str], Deps], slack_standin: Any, anthropic_standin: Any
) -> None:
    env, deps = world
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-dev-interrupted", owner=dev, workspace=ws, created=T0)
    update_path = re.compile(f".*/api_keys/{key['id']}$")
    anthropic_standin.inject("POST", update_path.pattern, status=None, delay=30.0)  # the write is in flight for a while
    url = slack_standin.new_response_url()
    first = Worker.start(tmp_path, env, "first", "--lease-seconds", "2")
    try:
        first.wait_ready()
        item_id = _store(
            deps.engine,
            "keys.revoke.confirm",
            {"slack_user_id": "U0DEV", "key_id": key["id"], "reason": "leaked"},
            user="U0DEV",
            response_url=url,
        )
        anthropic_standin.wait_for("POST", update_path, timeout=30)
        first.kill()
    finally:
        first.stop()
    (item,) = _items(deps.engine)
    assert item.state == WorkState.RUNNING and item.attempts == 1
    with session_scope(deps.engine) as session:
        (write,) = session.exec(select(AdminWrite))
    assert (write.kind, write.work_item_id, write.state) == ("key.status", item_id, AdminWriteState.PENDING)

    second = Worker.start(tmp_path, env, "second", "--lease-seconds", "2")
    try:
        second.wait_ready()
        _poll(lambda: _items(deps.engine)[0].state == WorkState.DONE, "the second worker to take the item over")
    finally:
        second.stop()
    (item,) = _items(deps.engine)
    assert item.attempts == 2
    assert anthropic_standin.count("POST", update_path) == 1  # the write was not made again
    (answer,) = [r.body for r in slack_standin.responses]
    assert answer["text"] == INTERRUPTED_UNSURE
    assert "Traceback" not in second.output()


def test_run_with_no_workers_leaves_the_work_to_a_worker_started_on_its_own(
    tmp_path: Path, world: tuple[dict[str, str], Deps], slack_standin: Any
) -> None:
    env, deps = world
    env = {**env, "WORKERS": "0"}
    bot = BotProcess.start(tmp_path, env, "bot")
    worker: Worker | None = None
    try:
        bot.wait_healthy()
        url = slack_standin.new_response_url()
        with httpx.Client(timeout=15) as client:
            ack = post_slack(client, bot.url, command_body("requests mine", user_id="U0DEV", response_url=url))
        assert ack.status_code == 200 and "Working on it" in ack.text
        _poll(lambda: len(_items(deps.engine)) == 1, "the command to be stored")
        assert _items(deps.engine)[0].state == WorkState.QUEUED  # nobody in `run` takes it
        assert "no worker processes here" in bot.output()
        worker = Worker.start(tmp_path, env, "worker")
        worker.wait_ready()
        slack_standin.wait_for_response(count=1, timeout=30)
    finally:
        if worker is not None:
            worker.stop()
        bot.stop()
    assert _items(deps.engine)[0].state == WorkState.DONE
    assert [r.url_id for r in slack_standin.responses] == [url.rstrip("/").rsplit("/", 1)[-1]]


def test_a_scheduled_job_is_one_work_item_that_a_worker_runs_under_its_lease(
    world: tuple[dict[str, str], Deps],
) -> None:
    _, deps = world
    assert enqueue_job("housekeeping", deps) is True
    assert enqueue_job("housekeeping", deps) is False  # one queued already: a slow worker gets one run, not two
    (item,) = _items(deps.engine)
    assert item.task == job_task("housekeeping") and item.user_id is None
    runner = runner_for(deps, threads=1)
    assert runner.run_once() is True
    assert runner.run_once() is False
    (item,) = _items(deps.engine)
    assert item.state == WorkState.DONE
    with session_scope(deps.engine) as session:
        (run,) = session.exec(select(JobRun))
    assert (run.job, run.status) == ("housekeeping", "ok")
    assert enqueue_job("housekeeping", deps) is True  # done: the next fire adds the next run


def test_the_scheduler_of_run_hands_jobs_on_instead_of_running_them(world: tuple[dict[str, str], Deps]) -> None:
    _, deps = world
    handed: list[str] = []
    scheduler = start_scheduler(deps, JOBS, hand_on=lambda name, _deps: handed.append(name))
    try:
        for job in scheduler.get_jobs():
            job.modify(next_run_time=datetime.now(UTC))  # due now
        scheduler.wakeup()
        _poll(lambda: len(handed) == len(JOBS), "every job to be handed on", timeout=30)
    finally:
        scheduler.shutdown(wait=True)
    assert sorted(handed) == sorted(JOBS)
    with session_scope(deps.engine) as session:
        assert list(session.exec(select(JobRun))) == []  # nothing ran in this process
