"""Logging setup: text or one JSON object per line, with secrets scrubbed as a last line of defence.

Every record carries the ids of what it belongs to: `request_id` (one per Slack request, set by the middleware
in bot/app.py and carried into worker threads by `Deps.run`) and `job` / `job_run_id` (set by `run_job` for
everything logged while a job runs). They come from context variables, so code that logs needs no changes.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

# Bot/user/app/refresh tokens, Anthropic keys, and Slack's response_url capability links.
SECRET_PATTERN = re.compile(
    r"(xox[abposre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-ant-[A-Za-z0-9_-]+|"
    r"hooks\.slack\.com/[A-Za-z0-9/_-]+|/commands/T[A-Z0-9]+/[0-9]+/[A-Za-z0-9]+|/actions/T[A-Z0-9]+/[0-9]+/[A-Za-z0-9]+)"
)


def redact(text: str) -> str:
    """Replace anything that looks like a token or a response_url with a marker."""
    return SECRET_PATTERN.sub("[redacted]", text)


class RedactingFilter(logging.Filter):
    """Rewrites every record's final message through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


# The Slack request being handled (its event_id, or a generated id) and the job run being executed.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
job_var: contextvars.ContextVar[tuple[str, int | None] | None] = contextvars.ContextVar("job", default=None)


def new_request_id() -> str:
    """A short random id for a request that has no id of its own."""
    return os.urandom(8).hex()


@contextlib.contextmanager
def job_context(job: str, job_run_id: int | None) -> Iterator[None]:
    """Tag every record logged inside (on this thread) with the job and its run id."""
    token = job_var.set((job, job_run_id))
    try:
        yield
    finally:
        job_var.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current request and job ids onto each record (explicit `extra` values win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        job = job_var.get()
        if job is not None:
            if not hasattr(record, "job"):
                record.job = job[0]
            if job[1] is not None and not hasattr(record, "job_run_id"):
                record.job_run_id = job[1]
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any `extra` ids."""

    EXTRA = ("request_id", "job", "job_run_id", "slack_user", "command", "action")

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in self.EXTRA:
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, default=str)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_claude_key_bot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._claude_key_bot = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
    # These libraries log request bodies or response_urls at DEBUG, and every HTTP call at INFO.
    quiet = logging.INFO if level == "DEBUG" else logging.WARNING
    for noisy in ("slack_sdk", "slack_bolt", "urllib3", "httpx", "httpx2", "httpcore", "anthropic"):
        logging.getLogger(noisy).setLevel(quiet)
