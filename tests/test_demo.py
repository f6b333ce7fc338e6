"""`claude-key-bot demo` (`make demo`) runs by itself against the stand-ins, prints each Slack message as a person
sees it, presses buttons by their labels, exits 0; the README's sample messages are what it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sandbox.demo_print import SAMPLE_END, SAMPLE_START, replace_sample, sample_in

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).with_name("claude-key-bot")
STEPS = 7
# What raw mrkdwn looks like: a mention, channel, ping or link token, a bold or italic marker around a word.
RAW_MARKUP = re.compile(r"<[@#!][^<>\n]*>|<https?://|(?<![\w*])\*\w[^*\n]*\*(?!\w)|&amp;|&lt;|&gt;")


def _run_demo(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ANTHROPIC_", "DATABASE_URL"))}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], str]:
    """One run of the demo for the module: its output, and the README sample block it wrote."""
    sample = tmp_path_factory.mktemp("demo") / "sample.md"
    result = _run_demo([sys.executable, "-m", "bot.sandbox.demo", "--sample-to", str(sample)], ROOT)
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
    return result, sample.read_text(encoding="utf-8")


def test_the_demo_walks_through_every_step(demo_run: tuple[subprocess.CompletedProcess[str], str]) -> None:
    result, _ = demo_run
    out = result.stdout
    steps = [line for line in out.splitlines() if line.startswith("── ")]
    assert len(steps) == STEPS, steps
    # 1. the request: the ack, the answer, the admin-channel card with buttons, the requester's DM
    assert "typed by @newbie" in out and "ack 200: Working on it…" in out
    assert "Request #1 sent to the admins" in out
    assert "#claude-key-admins (new message)\n  │ Access request #1\n" in out
    assert "│ [Approve]  [Deny]" in out
    # 2. the approval, pressed by its label; thread replies name people as Slack shows them
    assert "* @Ada Admin presses [Approve] in #claude-key-admins" in out
    assert "#claude-key-admins ↳ reply in thread (new message)\n  │ Approved by @Ada Admin." in out
    assert "Invite sent to new@example.com" in out
    assert "DM to @newbie ↳ reply in thread (new message)\n  │ Approved. Next step: accept the invitation" in out
    # 3.-4. the invite accepted and the key adopted
    assert "jobs run invite-sync    → sent 1" in out and "Added to default-ws" in out
    assert "jobs run key-adoption    → sent 1" in out and "Key dev-newbie-search …4f2a created" in out
    # 5. the rotation reminder, DM'd to the key's owner
    reminder = out.split("── 5.")[1].split("── 6.")[0]
    assert "DM to @Dev Eloper (new message)" in reminder and "dev-batch-pipeline" in reminder
    assert "rotation due in 6 days" in reminder
    # 6. the keys list, the answer only its asker sees
    keys = out.split("── 6.")[1].split("── 7.")[0]
    assert "only you can see this" in keys and "dev-batch-pipeline" in keys and "age 84 days" in keys
    # 7. the budget alert in the admin channel
    alert = out.split("── 7.")[1]
    assert "#claude-key-admins (new message)" in alert and "Org budget: " in alert and "crossed the 75% alert" in alert
    assert "$800.00" in alert and "$1,000.00" in alert
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr


def test_the_demo_prints_no_raw_mrkdwn(demo_run: tuple[subprocess.CompletedProcess[str], str]) -> None:
    """Every message reads as Slack shows it: no `<@U…>`, `<#C…>`, `<!date…>`, `*bold*` markers or entities."""
    out = demo_run[0].stdout
    printed = [line for line in out.splitlines() if line.startswith("  │ ")]
    assert len(printed) > 40
    raw = [line for line in printed if RAW_MARKUP.search(line)]
    assert not raw, raw
    assert "clicks" not in out and "request_approve" not in out  # pressed by label, not by action id
    assert ":calendar:" in out  # emoji names are kept


def test_the_readme_shows_what_the_demo_prints(demo_run: tuple[subprocess.CompletedProcess[str], str]) -> None:
    """The README's sample messages are the demo's, as rendered text. After changing a message, regenerate them
    with `make readme-sample` (`python -m bot.sandbox.demo --readme README.md`)."""
    _, sample = demo_run
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sample.count("```text") == 4 and "[Approve]  [Deny]" in sample and "Org budget: " in sample
    assert sample_in(readme) == sample.strip(), "README.md's demo sample is stale: run `make readme-sample`"


def test_replacing_the_sample_keeps_the_rest_of_the_document() -> None:
    document = f"intro\n{SAMPLE_START}\nold\n{SAMPLE_END}\noutro\n"
    new = f"{SAMPLE_START}\nnew\n{SAMPLE_END}"
    assert replace_sample(document, new) == f"intro\n{new}\noutro\n"
    assert sample_in(replace_sample(document, new)) == new
    with pytest.raises(ValueError, match="markers"):
        replace_sample("no markers here", new)


def test_the_console_script_runs_the_demo_outside_the_checkout(tmp_path: Path) -> None:
    """`claude-key-bot demo` needs nothing from the repository: the stand-ins and their data are in the package."""
    result = _run_demo([str(BIN), "demo"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
    assert len([line for line in result.stdout.splitlines() if line.startswith("── ")]) == STEPS
    assert "Done: every message above went to the local Slack stand-in; nothing left this machine." in result.stdout
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr
