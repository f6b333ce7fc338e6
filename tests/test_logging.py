"""Structured logs: request ids follow a Slack request into its after-ack work, job ids cover what a job logs,
and LOG_FORMAT=json is one JSON object per line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from bot.deps import Deps
from bot.jobs.context import JobContext, JobResult
from bot.jobs.spec import JobSpec
from bot.logs import ContextFilter, JsonFormatter, RedactingFilter, configure_logging
from bot.registry import run_job
from storage.db import session_scope
from storage.models import JobRun
from tests.botserver import command_body, event_body, post_slack


@dataclass
class Line:
    thread: str
    data: dict


class Capture(logging.Handler):
    """Formats records as the bot's JSON handler does, remembering the thread that logged each."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(ContextFilter())
        self.addFilter(RedactingFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[Line] = []
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = Line(record.threadName or "", json.loads(self.format(record)))
        with self.lock_:
            self.lines.append(line)

    def matching(self, text: str) -> list[Line]:
        with self.lock_:
            return [line for line in self.lines if text in line.data["message"]]


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in ("bot.app", "handlers.common", "bot.jobs", "test.job")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_a_command_and_its_after_ack_work_share_a_request_id(bot_url: str, slack_standin, capture: Capture) -> None:
    with httpx.Client(timeout=10) as client:
        for n in range(2):
            url = slack_standin.new_response_url()
            ack = post_slack(client, bot_url, command_body(f"request default-ws for 7d log {n}", response_url=url))
            assert "Working on it" in ack.text
            slack_standin.wait_for_response(count=n + 1)
    received = capture.matching("slack request: command request")
    answered = capture.matching("answered: ")  # the second is refused: one open request at a time
    assert len(received) == 2 and len(answered) == 2
    ids = [line.data["request_id"] for line in received]
    assert all(ids) and ids[0] != ids[1]
    assert sorted(line.data["request_id"] for line in answered) == sorted(ids)
    # The answers were logged on the worker pool, the receipts on the event loop's thread.
    assert all(line.thread.startswith("ckb-work") for line in answered)
    assert not any(line.thread.startswith("ckb-work") for line in received)
    # Everything the worker logged for the first request carries its id.
    first = [line for line in capture.lines if line.data.get("request_id") == ids[0]]
    assert {line.data["logger"] for line in first} >= {"bot.app", "handlers.common"}


def test_an_event_uses_its_event_id(bot_url: str, slack_standin, capture: Capture) -> None:
    event = {"type": "app_home_opened", "user": "U0DEV", "channel": "D0DEV", "tab": "home", "event_ts": "1.1"}
    with httpx.Client(timeout=10) as client:
        assert post_slack(client, bot_url, event_body(event, event_id="Ev0LOGS")).status_code == 200
    slack_standin.wait_for("views.publish")
    received = capture.matching("slack request: event app_home_opened")
    assert [line.data["request_id"] for line in received] == ["Ev0LOGS"]


def test_lines_logged_inside_a_job_carry_the_job_and_run_id(deps: Deps, capture: Capture) -> None:
    def noisy(ctx: JobContext) -> JobResult:
        logging.getLogger("test.job").info("inside the job")
        return JobResult()

    registry = {"noisy": JobSpec("noisy", "logs a line", "hourly", {}, noisy)}
    run_job("noisy", deps, registry=registry, out=lambda _: None)
    with session_scope(deps.engine) as session:
        run = session.get(JobRun, 1)
        assert run is not None and run.job == "noisy"
    [inside] = capture.matching("inside the job")
    assert (inside.data["job"], inside.data["job_run_id"]) == ("noisy", run.id)
    [done] = capture.matching("job noisy ok")
    assert done.data["job_run_id"] == run.id
    logging.getLogger("test.job").info("after the job")
    [after] = capture.matching("after the job")
    assert "job" not in after.data and "request_id" not in after.data


SCRIPT = r"""
import logging
from bot.logs import configure_logging, job_context, request_id_var
configure_logging("DEBUG", "json")
log = logging.getLogger("bot.test")
log.info("plain")
log.warning("two\nlines with \"quotes\" and a token xoxb-123-456-abcdef")
request_id_var.set("req-1")
with job_context("rotation-reminders", 7):
    log.info("in a job")
try:
    raise ValueError("boom")
except ValueError:
    log.exception("failed")
"""


def test_log_format_json_is_one_object_per_line() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    lines = result.stderr.splitlines()
    records = [json.loads(line) for line in lines]  # every line parses
    assert [r["message"] for r in records] == [
        "plain",
        'two\nlines with "quotes" and a token [redacted]',
        "in a job",
        "failed",
    ]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert records[2]["request_id"] == "req-1" and (records[2]["job"], records[2]["job_run_id"]) == (
        "rotation-reminders",
        7,
    )
    assert "job" not in records[3] and records[3]["request_id"] == "req-1"
    assert "Traceback" in records[3]["exception"] and "ValueError: boom" in records[3]["exception"]
    assert "xoxb-" not in result.stderr


def test_configure_logging_json_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    level = root.level
    try:
        configure_logging("INFO", "json")
        logging.getLogger("bot.test").info("hello %s", "world")
        configure_logging("INFO", "json")  # idempotent: still one handler, one line per record
        logging.getLogger("bot.test").info("again")
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_claude_key_bot", False):
                root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["message"] for line in lines] == ["hello world", "again"]
