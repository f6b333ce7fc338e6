"""How `run` brings its workers up: once HTTP is served, and each with the Admin API's SDK loaded first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import SimpleNamespace

from pydantic import SecretStr

from bot.anthropic_admin.lazy import lazy_gateway
from bot.cli import _when_serving
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
