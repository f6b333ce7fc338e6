"""`claude-key-bot run` (Socket Mode) as a real process against Socket Mode and Web API stand-ins."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from bot.sandbox.socket_mode import SocketModeStandIn
from tests.test_cli import BIN, _env, _free_port


def test_socket_mode_connects_and_acks_help_with_the_command_list(
    tmp_path: Path,
    slack_standin,
    anthropic_standin,
) -> None:
    socket_server = SocketModeStandIn().start()
    slack_standin.socket_mode_url = socket_server.url
    values = {
        "SLACK_BOT_TOKEN": slack_standin.bot_token,
        "SLACK_APP_TOKEN": slack_standin.app_token,
        "SLACK_API_URL": slack_standin.base_url,
        "ANTHROPIC_ADMIN_KEY": anthropic_standin.admin_key,
        "ANTHROPIC_BASE_URL": anthropic_standin.base_url,
        "ADMIN_CHANNEL_ID": "C0ADMIN",
    }
    process = subprocess.Popen(
        [str(BIN), "run"],
        cwd=tmp_path,
        env=_env(tmp_path, **values),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        socket_server.wait_for_connection()
        opened = slack_standin.wait_for("apps.connections.open")
        assert opened[0].headers["authorization"] == f"Bearer {slack_standin.app_token}"
        envelope = socket_server.send_envelope(
            "slash_commands",
            {
                "team_id": "T0STANDIN",
                "channel_id": "C0ADMIN",
                "user_id": "U0DEV",
                "command": "/claude-key",
                "text": "help",
                "response_url": slack_standin.new_response_url(),
                "trigger_id": "1.2.3",
                "api_app_id": "A0STANDIN",
            },
        )
        ack = socket_server.wait_for_ack(envelope)
        assert ack["payload"]["response_type"] == "ephemeral"
        assert "/claude-key request" in json.dumps(ack["payload"]["blocks"])
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output = process.communicate(timeout=20)[0]
        finally:
            socket_server.stop()
    assert process.returncode == 0, output
    assert "disconnecting" in output
    assert slack_standin.app_token not in output and slack_standin.bot_token not in output


def _wait_for_lines(process: subprocess.Popen[str], needle: str, count: int, timeout: float = 60.0) -> list[str]:
    """Read the process's output until `count` lines contain `needle` (or fail after `timeout`)."""
    import selectors
    import time

    lines: list[str] = []
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while sum(needle in line for line in lines) < count:
        assert time.monotonic() < deadline, "".join(lines)
        assert process.poll() is None, "".join(lines)
        if selector.select(timeout=0.5):
            lines.append(process.stdout.readline())
    return lines


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_socket_mode_with_slack_unreachable_retries_a_line_each_and_stops_on_a_signal(
    tmp_path: Path, anthropic_standin, signum: signal.Signals
) -> None:
    closed = _free_port()  # nothing listens there
    values = {
        "SLACK_BOT_TOKEN": "xoxb-1-unreachable",
        "SLACK_APP_TOKEN": "xapp-1-A0UNREACHABLE-1-x",
        "SLACK_API_URL": f"http://127.0.0.1:{closed}/api/",
        "ANTHROPIC_ADMIN_KEY": anthropic_standin.admin_key,
        "ANTHROPIC_BASE_URL": anthropic_standin.base_url,
        "ADMIN_CHANNEL_ID": "C0ADMIN",
        "SCHEDULER_ENABLED": "false",
    }
    process = subprocess.Popen(
        [str(BIN), "run"],
        cwd=tmp_path,
        env=_env(tmp_path, **values),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        early = _wait_for_lines(process, "cannot reach Slack", 2)
    finally:
        process.send_signal(signum)
        try:
            rest = process.communicate(timeout=15)[0]  # stopped within the 5 s the signal allows, plus slack
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    output = "".join(early) + rest
    assert process.returncode == 0, output
    failures = [line for line in output.splitlines() if "cannot reach Slack" in line]
    assert failures and all(f"127.0.0.1:{closed}/api/apps.connections.open" in line for line in failures)
    assert "retrying in 1 s" in failures[0] and "retrying in 2 s" in failures[1]  # backing off
    assert "Traceback" not in output
    ours = [line for line in output.splitlines() if "alembic" not in line and "bot.worker" not in line]
    assert len(ours) <= len(failures) + 4, output  # one line per attempt, a few for start and stop
