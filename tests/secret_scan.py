"""A pytest plugin: no secret reaches a log line, a Slack message, a response_url answer or an uploaded file.

Enabled for the whole suite from tests/conftest.py. It collects every log record emitted during the session
(a handler on the root logger), and everything the Slack stand-in received (API call bodies, response_url
bodies, uploaded files such as the audit CSV) and the Admin API stand-in's request bodies, at the moment each
stand-in stops. Each test's haul is scanned in its teardown (the test errors, naming what leaked and where);
records emitted outside any test are scanned when the session ends (the run fails).

Secrets: the values tests hand the bot (bot/sandbox/signing.py SIGNING_SECRET, the stand-ins' default bot token,
app token and admin key) and anything shaped like a Slack token or a full Anthropic key. Credentials travel in
the Authorization header, which is the one place they belong, so headers (and a form `token` argument, Slack's
other way to authenticate) are not scanned. Key hints (`sk-ant-api03-abcd...AA`) are too short to match.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from bot.logs import redact
from bot.sandbox.anthropic import DEFAULT_ADMIN_KEY, AnthropicStandIn
from bot.sandbox.signing import SIGNING_SECRET
from bot.sandbox.slack import SlackStandIn

SECRET_VALUES = (SIGNING_SECRET, "xoxb-standin-token", "xapp-standin-token", DEFAULT_ADMIN_KEY)
SECRET_PATTERN = re.compile(r"xox[bap]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,}|sk-ant-[a-z]+\d*-[A-Za-z0-9_-]{20,}")


def leaks(text: str) -> list[str]:
    """The secrets in `text`: known values first, then anything token- or key-shaped."""
    found = [value for value in SECRET_VALUES if value in text]
    found += [m.group(0) for m in SECRET_PATTERN.finditer(text) if m.group(0) not in found]
    return found


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a bad format string is another test's problem, not a leak
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        # What the bot's own log handler would write: it redacts (bot.logs.RedactingFilter) before writing.
        self.records.append(f"log {record.name}: {redact(text)}")


def _without_token(body: Any) -> Any:
    return {k: v for k, v in body.items() if k != "token"} if isinstance(body, dict) else body


def _slack_traffic(standin: SlackStandIn) -> Iterator[str]:
    for call in standin.calls:
        yield f"slack {call.method}: {json.dumps(_without_token(call.raw), default=str, ensure_ascii=False)}"
    for response in standin.responses:
        yield f"response_url {response.url_id}: {json.dumps(response.body, default=str, ensure_ascii=False)}"
    for upload in standin.uploads.values():
        data = (upload.data or b"").decode("utf-8", "replace")
        yield f"upload {upload.filename}: {upload.initial_comment or ''} {upload.title or ''} {data}"


def _admin_traffic(standin: AnthropicStandIn) -> Iterator[str]:
    for request in standin.requests:
        if request.body is not None:
            yield f"admin-api {request.method} {request.path}: {json.dumps(request.body, default=str)}"


class SecretScan:
    """Collects the session's logs and stand-in traffic; scans per test and at session end."""

    def __init__(self) -> None:
        self.collector = _Collector()
        self.pending: list[str] = []  # traffic of stand-ins stopped since the last scan
        self.session_findings: list[str] = []
        self.scanned = 0

    def install(self) -> None:
        logging.getLogger().addHandler(self.collector)
        scan = self
        for cls, traffic in ((SlackStandIn, _slack_traffic), (AnthropicStandIn, _admin_traffic)):
            original = cls.stop

            def stop(self: Any, _original: Any = original, _traffic: Any = traffic) -> None:
                if getattr(self, "_server", None) is not None:
                    scan.pending.extend(_traffic(self))
                _original(self)

            cls.stop = stop  # type: ignore[method-assign]

    def take(self) -> list[str]:
        """Findings in everything collected since the last call."""
        items = self.collector.records + self.pending
        self.collector.records, self.pending = [], []
        self.scanned += len(items)
        findings = []
        for item in items:
            for secret in leaks(item):
                findings.append(f"{secret[:12]}… in {item[:300]}")
        return findings


_SCAN = SecretScan()


def pytest_configure(config: pytest.Config) -> None:
    _SCAN.install()
    config.stash[_KEY] = _SCAN


_KEY = pytest.StashKey[SecretScan]()


@pytest.fixture(autouse=True)
def _no_secret_leaks() -> Iterator[None]:
    """Autouse: set up before any other fixture of the test, so it scans after the stand-ins stopped."""
    _SCAN.session_findings += _SCAN.take()  # whatever happened between tests
    yield
    findings = _SCAN.take()
    if findings:
        pytest.fail("secrets leaked:\n" + "\n".join(findings[:20]), pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    findings = _SCAN.session_findings + _SCAN.take()
    if findings:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("secrets leaked outside any test:\n" + "\n".join(findings[:20]), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
