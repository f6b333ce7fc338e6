"""How `run` starts: its workers once HTTP is served, each with the Admin API's SDK loaded first; collection back on."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from bot.anthropic_admin.lazy import lazy_gateway
from bot.cli import YOUNG_COLLECTION_THRESHOLD, _freeze_startup_objects, _when_serving, cmd_run
from bot.worker import WorkerPool, _warm_up


def _poll(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    done = threading.Event()
    deadline = threading.Timer(timeout, done.set)
    deadline.start()
    try:
        while not condition():
            if done.wait(0.01):
                raise AssertionError(f"timed out waiting for {what}")
    finally:
        deadline.cancel()


def test_the_workers_start_only_once_the_server_listens() -> None:
    server = SimpleNamespace(started=False, should_exit=False)
    started: list[str] = []
    thread = threading.Thread(target=_when_serving, args=(server, lambda: started.append("workers")))
    thread.start()
    assert started == []  # nothing while uvicorn has not started
    server.started = True
    _poll(lambda: started == ["workers"], "the workers to start")
    thread.join(timeout=10)
    assert started == ["workers"]


def test_a_server_that_stops_before_it_listens_starts_no_workers() -> None:
    server = SimpleNamespace(started=False, should_exit=True)
    started: list[str] = []
    _when_serving(server, lambda: started.append("workers"))
    assert started == []


def test_a_pool_stopped_before_it_started_spawns_nothing() -> None:
    pool = WorkerPool(2)
    pool.stop()
    pool.start()
    assert pool.pids == []


def test_a_worker_loads_the_admin_gateway_before_it_claims() -> None:
    gateway = lazy_gateway(api_key=SecretStr("sk-ant-admin01-test"), base_url="http://127.0.0.1:9")
    assert gateway._real is None  # type: ignore[attr-defined]
    _warm_up(SimpleNamespace(admin=gateway))  # type: ignore[arg-type]
    assert gateway._real is not None  # type: ignore[attr-defined]
    gateway.close()


def test_run_turns_garbage_collection_back_on_however_it_ends(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` imports with collection off (a fifth faster); a start that fails must not leave it off."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "ANTHROPIC_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        cmd_run(argparse.Namespace(http=True, host="127.0.0.1"))
    assert gc.isenabled()


def test_the_acking_process_collects_its_young_generation_less_often_once_started() -> None:
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    try:
        _freeze_startup_objects()
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *thresholds[1:])
        assert gc.get_freeze_count() > 0 and gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
