"""`claude-key-bot run` (Socket Mode) as a real process against Socket Mode and Web API stand-ins."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from bot.sandbox.socket_mode import SocketModeStandIn
from tests.test_cli import BIN, _env


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
