"""Prometheus metrics (GET /metrics): one registry per app, so several apps in one process never collide.

What is counted and where:
- interactions (commands, clicks, modal submissions) by name and outcome: handlers/common.py's answer path;
- Admin API attempts by endpoint and status: AdminGateway's `on_call` hook (bot/deps.py);
- Slack notices sent by jobs, job runs and durations: bot/jobs.py `run_job`;
- ack latency: `bot.http.SlackEvents`, around Bolt handling each POST /slack/events (it answers at ack());
- requests refused before Bolt (signature, timestamp, size, shape, team): bot/http/gates.py, by reason.

Labels come from closed sets (subcommands, our action/callback ids, job names, documented endpoints) so a forged
or unusual payload cannot grow the registry.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "Interaction", "Metrics", "current_interaction"]

OK, REFUSED, ERROR = "ok", "refused", "error"

# Slack's deadline is 3 s; most acks take a few ms, bursts tens to hundreds (bench/ack_latency.py).
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


@dataclass(frozen=True)
class Interaction:
    """The Slack request being handled: `kind` is command / action / view / event, `name` a bounded label."""

    kind: str
    name: str


# Set per Slack request by the middleware in bot/app.py; deps.run carries it into the worker threads.
current_interaction: contextvars.ContextVar[Interaction | None] = contextvars.ContextVar(
    "current_interaction", default=None
)


class Metrics:
    """The bot's metrics on their own CollectorRegistry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.interactions = Counter(
            "claude_key_bot_interactions",
            "Slash commands, button clicks and modal submissions answered, by outcome (ok, refused, error).",
            ["kind", "name", "outcome"],
            registry=self.registry,
        )
        self.admin_api_calls = Counter(
            "claude_key_bot_admin_api_calls",
            "Anthropic Admin API HTTP attempts by endpoint and HTTP status (or a failure class).",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.alerts_sent = Counter(
            "claude_key_bot_alerts_sent",
            "Slack notices (alerts, reminders, thread replies) sent by scheduled jobs.",
            ["job"],
            registry=self.registry,
        )
        self.job_runs = Counter(
            "claude_key_bot_job_runs",
            "Scheduled job runs by status (ok, failed, skipped: another replica held the lease).",
            ["job", "status"],
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "claude_key_bot_job_duration_seconds",
            "Wall time of job runs that took the lease.",
            ["job", "status"],
            buckets=JOB_BUCKETS,
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "claude_key_bot_ack_seconds",
            "Time from a Slack request arriving at POST /slack/events to the HTTP response (the ack).",
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.http_refusals = Counter(
            "claude_key_bot_http_refusals",
            "Requests to POST /slack/events refused before Bolt, by reason (bad_signature, stale_timestamp, "
            "unsigned, bad_timestamp, malformed, too_large, slow_body, other_team); not in the ack histogram.",
            ["reason"],
            registry=self.registry,
        )

    def observe_interaction(self, outcome: str) -> None:
        """Count one answered interaction under the current request's labels."""
        interaction = current_interaction.get()
        if interaction is None:  # a service called outside a Slack request (tests, the CLI)
            return
        self.interactions.labels(interaction.kind, interaction.name, outcome).inc()

    def observe_admin_call(self, endpoint: str, status: int | str) -> None:
        """AdminGateway's `on_call` hook: one HTTP attempt and its status or failure class."""
        self.admin_api_calls.labels(endpoint, str(status)).inc()

    def render(self) -> bytes:
        """The exposition in the Prometheus text format."""
        return generate_latest(self.registry)
