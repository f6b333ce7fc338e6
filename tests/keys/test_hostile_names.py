"""Names anyone with Console access types (keys, workspaces, people) are hostile text to the bot: `&<>`,
`<!channel>`, links and 500 characters. Every message shows them escaped, never as a Slack mention or link."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from bot.deps import Deps
from bot.registry import run_job
from tests.keys.support import T0, add_key, command, ids

DAY = timedelta(days=1)
HOSTILE = "R&D <!channel> <https://evil.example/x|click> " + "x" * 480


def _formatted(payload: Any) -> Any:
    """`payload` without its plain_text objects: Slack shows those literally (confirm dialogs carry names so)."""
    if isinstance(payload, dict):
        return {k: _formatted(v) for k, v in payload.items() if not _is_plain_text(v)}
    if isinstance(payload, list):
        return [_formatted(item) for item in payload if not _is_plain_text(item)]
    return payload


def _is_plain_text(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "plain_text"


def _raw_mentions(payload: Any) -> list[str]:
    text = json.dumps(_formatted(payload))
    return [bad for bad in ("<!channel>", "<https://evil.example", "R&D ") if bad in text]


def test_hostile_console_names_are_escaped_everywhere(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, _ = ids(anthropic_standin)
    hostile_ws = anthropic_standin.add_workspace(HOSTILE)["id"]
    leaver = anthropic_standin.add_user("left@example.com", name=HOSTILE, role="developer")["id"]
    add_key(anthropic_standin, HOSTILE, owner=dev, workspace=hostile_ws, created=T0 - 90 * DAY)
    add_key(anthropic_standin, HOSTILE + " 2", owner=leaver, workspace=hostile_ws, created=T0 - 90 * DAY)
    anthropic_standin.add_cost(
        starting_at=T0 - 5 * DAY, ending_at=T0 - 4 * DAY, amount_cents="1000", workspace_id=hostile_ws
    )
    kdeps.admin.remove_user(leaver)

    reply = command(http, kbot, slack_standin, "keys")["reply"]
    assert "R&amp;D &lt;!channel&gt;" in json.dumps(reply) and _raw_mentions(reply) == []

    stale = run_job("stale-keys", kdeps, out=lambda _: None)
    digest = run_job("weekly-digest", kdeps, out=lambda _: None)
    assert stale is not None and stale.errors == [] and digest is not None and digest.errors == []
    posted = slack_standin.messages("C0ADMIN") + slack_standin.dms_to("U0DEV")
    assert len(posted) >= 3  # the stale report, its thread, the digest (and the owner's DM)
    for message in posted:
        assert _raw_mentions({"text": message.text, "blocks": message.blocks}) == [], message.text
    assert any("R&amp;D" in json.dumps(m.blocks) for m in slack_standin.messages("C0ADMIN"))
