"""The owner's stale-key DM: Deactivate my key (confirm, the revoke path) and Still in use (a line to the admins in
the report's thread, an audit row), each re-checked; over HTTP against the stand-ins, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from bot.deps import Deps
from bot.registry import run_job
from bot.sandbox.slack.blockkit import message_problems
from bot.slack.ids import Action
from tests.keys.support import T0, add_key, audit_actions, buttons, click, ids, rendered


def _stale_dm(anthropic_standin, slack_standin, kdeps: Deps) -> tuple[str, Any]:
    dev, _, ws = ids(anthropic_standin)
    key = str(add_key(anthropic_standin, "dev-idle", owner=dev, workspace=ws, created=T0 - timedelta(days=60))["id"])
    anthropic_standin.add_user("other@example.com", role="developer")
    slack_standin.add_user("U0OTHER", name="other", email="other@example.com")
    result = run_job("stale-keys", kdeps, out=lambda _: None)
    assert result is not None and result.errors == [], result
    (dm,) = slack_standin.dms_to("U0DEV")
    assert message_problems(dm.blocks) == []
    assert "revoke <key-id>" not in rendered(dm.blocks)  # buttons, not a command to copy
    return key, dm


def test_deactivate_my_key_goes_through_the_revoke_path(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    key, dm = _stale_dm(anthropic_standin, slack_standin, kdeps)
    (button,) = buttons(dm.blocks, Action.STALE_DEACTIVATE_MINE)
    assert button["text"]["text"] == "Deactivate my key" and button["confirm"]["confirm"]["text"] == "Deactivate"
    message = {"ts": dm.ts, "text": dm.text, "blocks": dm.blocks}
    refused = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.STALE_DEACTIVATE_MINE,
        value=button["value"],
        user="U0OTHER",
        channel=dm.channel,
        message=message,
    )
    assert "belongs to someone else" in refused["text"]
    assert kdeps.admin.get_api_key(key).status == "active"
    done = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.STALE_DEACTIVATE_MINE,
        value=button["value"],
        channel=dm.channel,
        message=message,
    )
    assert done["text"].startswith(":lock: Deactivated")
    assert kdeps.admin.get_api_key(key).status == "inactive"
    assert audit_actions(kdeps, key) == ["key.revoked"]
    assert any("deactivated by <@U0DEV>" in (m.text or "") for m in slack_standin.messages("C0ADMIN"))


def test_still_in_use_tells_the_admins_in_the_reports_thread(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    key, dm = _stale_dm(anthropic_standin, slack_standin, kdeps)
    (button,) = buttons(dm.blocks, Action.STALE_IN_USE)
    root = slack_standin.messages("C0ADMIN")[0]
    before = len(slack_standin.messages("C0ADMIN"))
    message = {"ts": dm.ts, "text": dm.text, "blocks": dm.blocks}
    refused = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.STALE_IN_USE,
        value=button["value"],
        user="U0OTHER",
        channel=dm.channel,
        message=message,
    )
    assert "belongs to someone else" in refused["text"]
    assert audit_actions(kdeps, key) == [] and len(slack_standin.messages("C0ADMIN")) == before
    done = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.STALE_IN_USE,
        value=button["value"],
        channel=dm.channel,
        message=message,
    )
    assert done["text"].startswith(":white_check_mark: Thanks: I told the admins")
    line = slack_standin.messages("C0ADMIN")[-1]
    assert line.thread_ts == root.ts and "<@U0DEV> says" in rendered(line.blocks) and key in rendered(line.blocks)
    assert audit_actions(kdeps, key) == ["key.still_in_use"]
    assert kdeps.admin.get_api_key(key).status == "active"
