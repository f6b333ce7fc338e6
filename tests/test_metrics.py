"""GET /metrics: commands, clicks, Admin API calls, jobs and acks counted, scraped over HTTP and parsed with
prometheus_client's own text parser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from bot.config import Settings
from bot.deps import Deps
from bot.http import create_web_app
from bot.jobs.context import JobContext, JobResult
from bot.jobs.spec import JobSpec
from bot.registry import run_job
from bot.slack.ids import Action
from tests.botserver import BotServer, command_body, post_slack


def scrape(client: httpx.Client, url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of GET /metrics by (name, labels)."""
    response = client.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, metric: str, /, **labels: str) -> float:
    return samples.get((metric, frozenset(labels.items())), 0.0)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=15) as c:
        yield c


def command(client: httpx.Client, url: str, slack, text: str, *, user: str) -> str:
    before = len(slack.responses)
    ack = post_slack(client, url, command_body(text, user_id=user, response_url=slack.new_response_url()))
    assert ack.status_code == 200
    if "Working on it" not in ack.text:
        return ack.text
    return json.dumps(slack.wait_for_response(count=before + 1)[-1].body)


def click(client: httpx.Client, url: str, slack, action: str, *, user: str) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "trigger_id": slack.new_trigger_id(user_id=user),
        "response_url": slack.new_response_url(),
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "channel": {"id": "C0ADMIN", "name": "admins"},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0ADMIN"},
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "block_id": "request_1",
                "value": json.dumps({"r": 1}),
                "action_ts": "1.2",
            }
        ],
    }
    assert post_slack(client, url, "payload=" + quote(json.dumps(payload))).status_code == 200


def test_commands_clicks_admin_calls_and_acks_are_counted(
    bot_url: str, client: httpx.Client, slack_standin, anthropic_standin
) -> None:
    start = scrape(client, bot_url)
    assert value(start, "claude_key_bot_ack_seconds_count") == 0

    answer = command(client, bot_url, slack_standin, "request default-ws for 7d metrics", user="U0DEV")
    assert "Request #1 sent" in answer
    refused = command(client, bot_url, slack_standin, "request no-such-ws for 7d metrics", user="U0DEV")
    assert "Request #" not in refused
    command(client, bot_url, slack_standin, "help", user="U0DEV")  # answered in the ack: not an outcome
    click(client, bot_url, slack_standin, Action.APPROVE_REQUEST, user="U0DEV")  # not an admin
    slack_standin.wait_for_response(predicate=lambda r: "Only admins can approve" in json.dumps(r.body))
    click(client, bot_url, slack_standin, Action.APPROVE_REQUEST, user="U0ADMIN")
    slack_standin.wait_for("chat.postMessage", predicate=lambda c: "Added to default-ws" in str(c.body.get("text")))

    anthropic_standin.inject("GET", r"/v1/organizations/api_keys", status=500, times=20)
    failed = command(client, bot_url, slack_standin, "keys mine", user="U0DEV")
    anthropic_standin.clear_faults()
    assert "Request #" not in failed

    samples = scrape(client, bot_url)
    interactions = "claude_key_bot_interactions_total"
    assert value(samples, interactions, kind="command", name="request", outcome="ok") == 1
    assert value(samples, interactions, kind="command", name="request", outcome="refused") == 1
    assert value(samples, interactions, kind="command", name="keys", outcome="error") == 1
    assert value(samples, interactions, kind="action", name=Action.APPROVE_REQUEST, outcome="refused") == 1
    assert value(samples, interactions, kind="action", name=Action.APPROVE_REQUEST, outcome="ok") == 1
    assert not [key for key in samples if key[0] == interactions and ("name", "help") in key[1]]
    calls = "claude_key_bot_admin_api_calls_total"
    assert value(samples, calls, endpoint="workspaces.members.add", status="200") == 1
    assert value(samples, calls, endpoint="api_keys.list", status="500") >= 2  # retried, then given up
    assert value(samples, calls, endpoint="users.list", status="200") >= 1
    # Six requests to /slack/events; the scrapes themselves are not timed.
    assert value(samples, "claude_key_bot_ack_seconds_count") == 6
    assert value(samples, "claude_key_bot_ack_seconds_bucket", le="+Inf") == 6
    assert 0 < value(samples, "claude_key_bot_ack_seconds_sum") < 6 * 3


def test_job_runs_durations_and_alerts_sent_are_counted(settings: Settings, deps: Deps, client: httpx.Client) -> None:
    def sends_two(ctx: JobContext) -> JobResult:
        return JobResult(sent=2)

    def breaks(ctx: JobContext) -> JobResult:
        raise RuntimeError("boom")

    registry = {
        "demo-sender": JobSpec("demo-sender", "sends two notices", "hourly", {}, sends_two),
        "demo-broken": JobSpec("demo-broken", "always fails", "hourly", {}, breaks),
    }
    server = BotServer(create_web_app(create_app(settings, deps), deps)).start()
    try:
        run_job("demo-sender", deps, registry=registry, out=lambda _: None)
        run_job("demo-sender", deps, registry=registry, out=lambda _: None)
        run_job("demo-sender", deps, registry=registry, dry_run=True, out=lambda _: None)  # sends nothing
        with pytest.raises(RuntimeError):
            run_job("demo-broken", deps, registry=registry, out=lambda _: None)
        assert run_job("key-adoption", deps, out=lambda _: None) is not None
        samples = scrape(client, server.url)
    finally:
        server.stop()
    runs = "claude_key_bot_job_runs_total"
    assert value(samples, runs, job="demo-sender", status="ok") == 3
    assert value(samples, runs, job="demo-broken", status="failed") == 1
    assert value(samples, runs, job="key-adoption", status="ok") == 1
    assert value(samples, "claude_key_bot_alerts_sent_total", job="demo-sender") == 4
    assert value(samples, "claude_key_bot_job_duration_seconds_count", job="demo-sender", status="ok") == 3
    assert value(samples, "claude_key_bot_job_duration_seconds_count", job="demo-broken", status="failed") == 1


def test_a_job_skipped_for_the_lease_is_counted(deps: Deps) -> None:
    from datetime import timedelta

    from storage import repositories as repo
    from storage.db import session_scope

    with session_scope(deps.engine) as session:
        assert repo.try_acquire_lease(
            session=session, name="key-adoption", holder="other-replica", now=deps.clock(), ttl=timedelta(minutes=10)
        )
    assert run_job("key-adoption", deps, out=lambda _: None) is None
    text = deps.metrics.render().decode()
    assert 'claude_key_bot_job_runs_total{job="key-adoption",status="skipped"} 1.0' in text


def test_each_app_has_its_own_registry(settings: Settings, deps: Deps) -> None:
    from bot.deps import build_deps

    other = build_deps(settings)
    try:
        deps.metrics.job_runs.labels("x", "ok").inc()
        assert 'job="x"' in deps.metrics.render().decode()
        assert 'job="x"' not in other.metrics.render().decode()
    finally:
        other.close()
