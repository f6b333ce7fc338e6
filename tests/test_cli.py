"""The console script as an operator runs it: real processes, real stand-ins."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.registry import JOBS
from storage.migrate import head_revision
from tests.botserver import SIGNING_SECRET, command_body, post_slack

BIN = Path(sys.executable).with_name("claude-key-bot")
SECRET_ADMIN_KEY = "sk-ant-api03-THISISASECRETINFERENCEKEY0123456789"


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ANTHROPIC_", "DATABASE_URL"))}
    env.update(values)
    return env


def _cli(args: list[str], tmp_path: Path, timeout: float = 60, /, **values: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        cwd=tmp_path,
        env=_env(tmp_path, **values),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_run_without_settings_exits_nonzero_with_one_line_per_problem(tmp_path: Path) -> None:
    result = _cli(["run", "--http"], tmp_path, ANTHROPIC_ADMIN_KEY=SECRET_ADMIN_KEY, PORT="http")
    assert result.returncode == 2
    lines = [line.strip() for line in result.stderr.splitlines()[1:]]
    names = sorted(line.split(":")[0] for line in lines)
    assert names == ["ANTHROPIC_ADMIN_KEY", "PORT"]  # malformed values are reported before missing ones
    assert SECRET_ADMIN_KEY not in result.stderr + result.stdout
    result = _cli(["run"], tmp_path)
    assert result.returncode == 2
    *problems, hint = result.stderr.splitlines()[1:]
    names = [line.strip().split(":")[0] for line in problems]
    assert names == ["SLACK_BOT_TOKEN", "ANTHROPIC_ADMIN_KEY", "ADMIN_CHANNEL_ID", "SLACK_APP_TOKEN"]
    assert "make demo" in hint
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["run"], ["run", "--http"], ["doctor"], ["jobs", "run", "stale-keys"]])
def test_a_settings_error_comes_before_any_sdk_is_imported(tmp_path: Path, command: list[str]) -> None:
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n"
        f"    main({command!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "heavy = ('slack_sdk', 'slack_bolt', 'anthropic', 'sqlalchemy', 'sqlmodel', 'httpx', 'aiohttp', 'uvicorn')\n"
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "2 []", result.stdout + result.stderr
    assert "SLACK_BOT_TOKEN: missing" in result.stderr and "make demo" in result.stderr


def test_migrate_creates_and_reports_the_schema(empty_database_url: str, tmp_path: Path) -> None:
    first = _cli(["migrate"], tmp_path, DATABASE_URL=empty_database_url)
    assert first.returncode == 0, first.stderr
    assert f"database at {head_revision()} (was empty)" in first.stdout
    again = _cli(["migrate"], tmp_path, DATABASE_URL=empty_database_url)
    assert "already up to date" in again.stdout


def test_migrate_on_an_unreachable_database_fails_clearly(tmp_path: Path) -> None:
    result = _cli(["migrate"], tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert "check DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_default_database_is_sqlite_under_data(tmp_path: Path) -> None:
    assert _cli(["migrate"], tmp_path).returncode == 0
    assert (tmp_path / "data" / "claude-key-bot.db").exists()


def test_jobs_list_and_unknown_or_unavailable_jobs(tmp_path: Path) -> None:
    listed = _cli(["jobs", "list"], tmp_path)
    assert listed.returncode == 0
    for name in JOBS:
        assert name in listed.stdout
    unknown = _cli(["jobs", "run", "nope"], tmp_path)
    assert unknown.returncode == 2 and "jobs list" in unknown.stderr


def test_jobs_run_dry_run_against_the_stand_ins(
    tmp_path: Path,
    slack_standin,
    anthropic_standin,
    sqlite_url: str,
) -> None:
    result = _cli(
        ["jobs", "run", "request-nudges", "--dry-run"],
        tmp_path,
        **_doctor_env(slack_standin, anthropic_standin, sqlite_url),
    )
    assert result.returncode == 0, result.stderr
    assert "request-nudges (dry run): sent 0, skipped 0, errors 0" in result.stdout
    assert [c.method for c in slack_standin.calls if c.method.startswith("chat.")] == []


def test_jobs_run_help_lists_the_job_names() -> None:
    from bot.cli import JOB_NAMES

    assert tuple(JOBS) == JOB_NAMES
    shown = subprocess.run([str(BIN), "jobs", "run", "--help"], capture_output=True, text=True, check=True).stdout
    for name in JOBS:
        assert name in shown


def test_jobs_dry_run_writes_nothing_and_names_each_person_and_key(
    tmp_path: Path, slack_standin, anthropic_standin
) -> None:
    from datetime import UTC, datetime, timedelta

    developer = anthropic_standin.seeded["developer"]["id"]
    workspace = anthropic_standin.seeded["workspace"]["id"]
    created = datetime.now(UTC) - timedelta(days=87)  # rotation due in 3 days (KEY_MAX_AGE_DAYS 90)
    key = anthropic_standin.add_api_key(
        name="ci-deploy", workspace_id=workspace, created_by_user_id=developer, created_at=created
    )
    values = _doctor_env(slack_standin, anthropic_standin, "")
    del values["DATABASE_URL"]  # the default, ./data/claude-key-bot.db, which does not exist yet
    result = _cli(["jobs", "run", "rotation-reminders", "--dry-run"], tmp_path, **values)
    assert result.returncode == 0, result.stdout + result.stderr
    would = [line for line in result.stdout.splitlines() if line.startswith("would ")]
    assert len(would) == 1 and would[0].startswith("would DM U0DEV: ")
    assert '"ci-deploy"' in would[0] and key["id"] in would[0]
    assert "rotation-reminders (dry run): sent 1, skipped 0, errors 0" in result.stdout
    assert not (tmp_path / "data").exists()  # no database created, nothing migrated
    assert [c.method for c in slack_standin.calls if c.method.startswith("chat.")] == []


def test_jobs_dry_run_with_the_network_down_says_so_in_one_line(tmp_path: Path, slack_standin) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"
    values = _doctor_env(slack_standin, None, "")
    values.update(ANTHROPIC_ADMIN_KEY="sk-ant-admin01-unreachable", ANTHROPIC_BASE_URL=closed)
    del values["DATABASE_URL"]
    result = _cli(["jobs", "run", "rotation-reminders", "--dry-run"], tmp_path, **values)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if "failed" in line]
    assert len(failed) == 1 and "rotation-reminders" in failed[0], result.stdout
    assert " ok" not in result.stderr  # the log agrees with the exit code
    assert len(result.stderr.splitlines()) <= 5, result.stderr  # the retries and the failure, a line each
    assert not (tmp_path / "data").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_http_serves_healthz_and_help_then_stops_on_sigterm(
    tmp_path: Path,
    slack_standin,
    anthropic_standin,
) -> None:
    port = _free_port()
    values = {
        "SLACK_BOT_TOKEN": slack_standin.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_standin.base_url,
        "ANTHROPIC_ADMIN_KEY": anthropic_standin.admin_key,
        "ANTHROPIC_BASE_URL": anthropic_standin.base_url,
        "ADMIN_CHANNEL_ID": "C0ADMIN",
        "PORT": str(port),
        "SCHEDULER_ENABLED": "true",
    }
    process = subprocess.Popen(
        [str(BIN), "run", "--http", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=_env(tmp_path, **values),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "bot did not become healthy"
                time.sleep(0.1)
            response = post_slack(client, url, command_body("help"))
            assert response.status_code == 200
            assert "/claude-key request" in response.text
        assert (tmp_path / "data" / "claude-key-bot.db").exists()  # migrated on start
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0]
    assert process.returncode == 0, output
    for secret in (slack_standin.bot_token, SIGNING_SECRET, anthropic_standin.admin_key):
        assert secret not in output


def test_doctor_passes_against_healthy_stand_ins(
    tmp_path: Path,
    slack_standin,
    anthropic_standin,
    sqlite_url: str,
) -> None:
    result = _cli(["doctor"], tmp_path, **_doctor_env(slack_standin, anthropic_standin, sqlite_url))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["ok"] * (len(lines) - 1)
    assert any("anthropic admin key" in line and "Stand-in Org" in line for line in lines)
    assert any("a Claude Console org (detected)" in line for line in lines)
    assert lines[-1] == "all checks passed"


def test_doctor_names_each_failure_and_its_fix(
    tmp_path: Path,
    slack_standin,
    anthropic_standin,
    empty_database_url: str,
) -> None:
    values = _doctor_env(slack_standin, anthropic_standin, empty_database_url)
    values["ANTHROPIC_ADMIN_KEY"] = "sk-ant-admin01-revoked-key"
    values["ALERT_CHANNEL_ID"] = "C0MISSING"
    slack_standin.scopes.discard("users:read.email")
    result = _cli(["doctor"], tmp_path, **values)
    assert result.returncode == 1
    out = result.stdout
    assert "ok    database: reachable and empty; `run` creates the tables" in out  # the first doctor, before run
    assert "FAIL  slack token: missing scopes users:read.email" in out
    assert "FAIL  channel ALERT_CHANNEL_ID: C0MISSING not found" in out
    assert "FAIL  anthropic admin key" in out and "ANTHROPIC_ADMIN_KEY" in out
    assert "ok    channel ADMIN_CHANNEL_ID" in out
    assert "sk-ant-admin01-revoked-key" not in out + result.stderr
    assert out.splitlines()[-1] == "3 check(s) failed"


def test_doctor_checks_the_app_token_when_it_is_set(
    tmp_path: Path, slack_standin, anthropic_standin, sqlite_url: str
) -> None:
    values = _doctor_env(slack_standin, anthropic_standin, sqlite_url)
    good = _cli(["doctor"], tmp_path, SLACK_APP_TOKEN=slack_standin.app_token, **values)
    assert good.returncode == 0, good.stdout
    assert "ok    slack app token" in good.stdout
    assert [c.method for c in slack_standin.calls].count("apps.connections.open") == 1
    bad = _cli(["doctor"], tmp_path, SLACK_APP_TOKEN="xapp-1-A0WRONG-0000-deadbeef", **values)
    assert bad.returncode == 1
    line = next(line for line in bad.stdout.splitlines() if "slack app token" in line)
    assert line.startswith("FAIL") and "apps.connections.open" in line and "SLACK_APP_TOKEN" in line
    assert "xapp-1-A0WRONG" not in bad.stdout + bad.stderr


def test_doctor_against_hosts_that_never_answer_names_each_url_and_reason(tmp_path: Path) -> None:
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    base = f"http://127.0.0.1:{silent.getsockname()[1]}"
    values = {
        "SLACK_BOT_TOKEN": "xoxb-1-doctor-test",
        "SLACK_API_URL": f"{base}/api/",
        "SLACK_APP_TOKEN": "xapp-1-A0DOCTOR-1-test",
        "ANTHROPIC_ADMIN_KEY": "sk-ant-admin01-doctor-test",
        "ANTHROPIC_BASE_URL": base,
        "ADMIN_CHANNEL_ID": "C0ADMIN",
    }
    try:
        result = _cli(["doctor"], tmp_path, 60, **values)
    finally:
        silent.close()
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok    database: reachable and empty")
    for name in ("slack token", "slack app token", "channel ADMIN_CHANNEL_ID", "anthropic admin key"):
        line = next(line for line in lines if f"  {name}:" in line)
        assert line.startswith("FAIL") and base in line and "no answer" in line, line
    assert "try again" not in result.stdout
    assert result.stderr == ""  # no library or retry log lines around the report


def _doctor_env(slack, anthropic, database_url: str) -> dict[str, str]:
    values = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        "ADMIN_CHANNEL_ID": "C0ADMIN",
    }
    if anthropic is not None:
        values.update(ANTHROPIC_ADMIN_KEY=anthropic.admin_key, ANTHROPIC_BASE_URL=anthropic.base_url)
    return values


@pytest.mark.parametrize("channel_state", ["bot_not_member"])
def test_doctor_says_to_invite_the_bot(
    tmp_path: Path,
    slack_standin,
    anthropic_standin,
    sqlite_url: str,
    channel_state: str,
) -> None:
    slack_standin.add_channel("C0PRIVATE", name="secret-admins", is_private=True, bot_is_member=False)
    values = _doctor_env(slack_standin, anthropic_standin, sqlite_url)
    values["ADMIN_CHANNEL_ID"] = "C0PRIVATE"
    result = _cli(["doctor"], tmp_path, **values)
    assert result.returncode == 1
    assert "/invite" in result.stdout
