"""Events API retries (X-Slack-Retry-Num) are handled once, by event_id in the database, also across replicas;
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import create_app
from bot.config import Settings
from bot.deps import Deps, build_deps
from bot.http import create_web_app
from storage.db import session_scope
from storage.models import ProcessedEvent
from tests.botserver import BotServer, command_body, event_body, post_slack, signed_headers

HOME = {"type": "app_home_opened", "user": "U0DEV", "channel": "D0DEV", "tab": "home", "event_ts": "1.1"}


class Replica:
    """One bot process's app (own deps and worker pool) on the shared database."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.deps: Deps = build_deps(settings)
        self.deps.engine.dispose()
        self.deps.engine = engine
        self.server = BotServer(create_web_app(create_app(settings, self.deps), self.deps)).start()
        self.url = self.server.url

    def close(self) -> None:
        self.server.stop()
        self.deps.close()


@pytest.fixture
def replicas(settings: Settings, engine: Engine) -> Iterator[list[Replica]]:
    started = [Replica(settings, engine), Replica(settings, engine)]
    yield started
    for replica in started:
        replica.close()


def deliver(client: httpx.Client, url: str, event_id: str, *, retry: int | None = None) -> httpx.Response:
    """An event as Slack delivers it; a retry carries X-Slack-Retry-Num and X-Slack-Retry-Reason."""
    body = event_body(HOME, event_id=event_id)
    headers = signed_headers(body, content_type="application/json")
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return client.post(f"{url}/slack/events", content=body, headers=headers)


def processed(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return sorted(row.event_id for row in session.exec(select(ProcessedEvent)))


def publishes(slack: Any) -> list[Any]:
    return slack.calls_to("views.publish")


def test_a_retried_event_is_handled_once(replicas: list[Replica], engine: Engine, slack_standin) -> None:
    one = replicas[0]
    with httpx.Client(timeout=10) as client:
        assert deliver(client, one.url, "Ev0DUP1").status_code == 200
        slack_standin.wait_for("views.publish", count=1)
        for attempt in (1, 2):  # Slack retries up to three times
            response = deliver(client, one.url, "Ev0DUP1", retry=attempt)
            assert response.status_code == 200  # acked, so Slack stops retrying
        # A different event afterwards is handled: its publish is the second and last one.
        assert deliver(client, one.url, "Ev0OTHER").status_code == 200
        slack_standin.wait_for("views.publish", count=2)
    assert len(publishes(slack_standin)) == 2
    assert processed(engine) == ["Ev0DUP1", "Ev0OTHER"]


def test_a_retry_reaching_another_replica_is_skipped(replicas: list[Replica], engine: Engine, slack_standin) -> None:
    first, second = replicas
    with httpx.Client(timeout=10) as client:
        assert deliver(client, first.url, "Ev0REPL").status_code == 200
        slack_standin.wait_for("views.publish", count=1)
        assert deliver(client, second.url, "Ev0REPL", retry=1).status_code == 200
        assert deliver(client, second.url, "Ev0NEXT").status_code == 200
        slack_standin.wait_for("views.publish", count=2)
    assert len(publishes(slack_standin)) == 2
    assert processed(engine) == ["Ev0NEXT", "Ev0REPL"]


def test_simultaneous_deliveries_to_both_replicas_run_one_listener(
    replicas: list[Replica], engine: Engine, slack_standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    import concurrent.futures

    import bot.app

    # Eight deliveries at once on a loaded 2-core box can take over the 1 s the app waits for the database
    # before handling an event unchecked (by design: a slow database must not cost Slack's 3 s deadline).
    # This test is about the de-duplication itself, so it gives the database Slack's whole deadline.
    monkeypatch.setattr(bot.app, "EVENT_DEDUPE_TIMEOUT", 2.5)

    with httpx.Client(timeout=10) as client, concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(deliver, client, replicas[i % 2].url, "Ev0RACE", retry=(i or None)) for i in range(8)]
        assert [f.result().status_code for f in futures] == [200] * 8
        assert deliver(client, replicas[0].url, "Ev0AFTER").status_code == 200
        slack_standin.wait_for("views.publish", count=2)
    assert len(publishes(slack_standin)) == 2
    assert processed(engine) == ["Ev0AFTER", "Ev0RACE"]


def test_commands_and_clicks_record_no_event_ids(replicas: list[Replica], engine: Engine, slack_standin) -> None:
    with httpx.Client(timeout=10) as client:
        ack = post_slack(client, replicas[0].url, command_body("help"))
        assert ack.status_code == 200 and "Claude key bot commands" in json.loads(ack.text)["text"]
    assert processed(engine) == []
