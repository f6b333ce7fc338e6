"""`claude-key-bot demo` (`make demo`) runs by itself against the stand-ins, prints each Slack message, exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).with_name("claude-key-bot")


def _run_demo(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ANTHROPIC_", "DATABASE_URL"))}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=90)


def test_the_demo_walks_through_every_step() -> None:
    result = _run_demo([sys.executable, "-m", "bot.sandbox.demo"], ROOT)
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:] + out[-2000:]
    steps = [line for line in out.splitlines() if line.startswith("── ")]
    assert len(steps) == 6, steps
    # 1. the request: the ack, the answer, the admin-channel card with buttons, the requester's DM
    assert "ack 200: Working on it…" in out
    assert "Request #1 sent to the admins" in out
    assert "│ == Access request #1 ==" in out and "[Approve] [Deny]" in out
    # 2. the approval: thread replies and the invite DM
    assert "#claude-key-admins ↳ thread reply (posted)\n  │ Approved by <@U0ADMIN>." in out
    assert "Invite sent to new@example.com" in out
    assert "DM to @newbie (posted)\n  │ Your request #1 was approved" in out
    # 3.-4. the invite accepted and the key adopted
    assert "jobs run invite-sync    → sent 1" in out and "Added to default-ws" in out
    assert "jobs run key-adoption    → sent 1" in out and "Key `dev-newbie-search` …4f2a created" in out
    # 5. the rotation reminder, DM'd to the key's owner
    reminder = out.split("── 5.")[1].split("── 6.")[0]
    assert "DM to @dev (posted)" in reminder and "dev-batch-pipeline" in reminder and "rotation due in" in reminder
    # 6. the budget alert in the admin channel
    alert = out.split("── 6.")[1]
    assert "#claude-key-admins (posted)" in alert and "Org budget: " in alert and "crossed the 75% alert" in alert
    assert "$800.00" in alert and "$1,000.00" in alert
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr


def test_the_console_script_runs_the_demo_outside_the_checkout(tmp_path: Path) -> None:
    """`claude-key-bot demo` needs nothing from the repository: the stand-ins and their data are in the package."""
    result = _run_demo([str(BIN), "demo"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
    assert len([line for line in result.stdout.splitlines() if line.startswith("── ")]) == 6
    assert "Done: every message above went to the local Slack stand-in; nothing left this machine." in result.stdout
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr
