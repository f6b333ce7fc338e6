"""`/claude-key check` end to end over HTTP, on SQLite and PostgreSQL: each failure kind, lookups by hint, refusals."""

from __future__ import annotations

from datetime import timedelta

import httpx

from bot.deps import Deps
from bot.slack.ids import Action
from tests.keys.support import T0, Clock, add_key, buttons, click, command, ids, rendered


def _check(http: httpx.Client, url: str, slack, query: str, user: str = "U0DEV") -> str:
    reply = command(http, url, slack, f"check {query}", user=user)["reply"]
    return reply["text"] + "\n" + rendered(reply.get("blocks"))


def test_check_diagnoses_each_failure_kind(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    dev, _, ws = ids(anthropic_standin)
    anthropic_standin.usage_tier_amount = None
    anthropic_standin.data_refreshed_at = T0
    healthy = add_key(anthropic_standin, "dev-dev-fine", owner=dev, workspace=ws, created=T0 - timedelta(days=5))
    assert "Nothing the Admin API can see stops this key" in _check(http, kbot, slack_standin, healthy["id"])

    off = add_key(anthropic_standin, "dev-dev-off", owner=dev, workspace=ws, created=T0)
    confirm = command(http, kbot, slack_standin, f"revoke {off['id']} leaked", user="U0ADMIN")["reply"]
    click(
        http,
        kbot,
        slack_standin,
        action_id=Action.REVOKE_CONFIRM,
        value=buttons(confirm["blocks"], Action.REVOKE_CONFIRM)[0]["value"],
        user="U0ADMIN",
    )
    text = _check(http, kbot, slack_standin, off["id"])
    assert "fails because it was deactivated by &lt;@U0ADMIN&gt;" in text or "deactivated by <@U0ADMIN>" in text
    assert "(leaked)" in text

    archived = add_key(anthropic_standin, "dev-dev-arch", owner=dev, workspace=ws, created=T0, status="archived")
    assert "fails because it is archived" in _check(http, kbot, slack_standin, archived["id"])

    expired = add_key(
        anthropic_standin,
        "dev-dev-exp",
        owner=dev,
        workspace=ws,
        created=T0 - timedelta(days=40),
        expires_at=T0 - timedelta(days=1),
    )
    assert "fails because it expired on Nov 1, 2026" in _check(http, kbot, slack_standin, expired["id"])

    old_ws = anthropic_standin.add_workspace("old-team", archived=True)
    orphan = add_key(anthropic_standin, "dev-dev-orphan", owner=dev, workspace=old_ws["id"], created=T0)
    assert "its workspace *old-team* was archived" in _check(http, kbot, slack_standin, orphan["id"])

    busy = add_key(anthropic_standin, "dev-dev-busy", owner=dev, workspace=ws, created=T0 - timedelta(days=3))
    minute = T0 - timedelta(hours=2)
    anthropic_standin.add_usage(
        starting_at=minute,
        ending_at=minute + timedelta(minutes=1),
        input_tokens=9000,
        requests=80,
        model="claude-sonnet-4-5-20250929",
        api_key_id=busy["id"],
        workspace_id=ws,
    )
    # 80 requests in a minute: 8 % of the org's Sonnet limit, nothing to say.
    text = _check(http, kbot, slack_standin, busy["id"])
    assert "Nothing the Admin API can see stops this key" in text and "rate limit" not in text
    # With a workspace override of 50 a minute, it hit the workspace's limit; 85 % of the org's output limit warns.
    anthropic_standin.set_workspace_rate_limit(ws, "Claude Sonnet 4.x", "requests_per_minute", 50)
    anthropic_standin.add_usage(
        starting_at=minute,
        ending_at=minute + timedelta(minutes=1),
        output_tokens=76_500,
        model="claude-sonnet-4-5",
        api_key_id=busy["id"],
        workspace_id=ws,
    )
    kdeps.cache.clear()
    text = _check(http, kbot, slack_standin, busy["id"])
    assert "fails because it hit its workspace's requests/min limit for Claude Sonnet 4.x" in text
    assert "used 80 of 50" in text and "Message Batches API" in text
    assert "close to the organization's output tokens/min limit for Claude Sonnet 4.x" in text
    assert "used 76,500 of 90,000 (85%)" in text

    # Spend limits: the workspace's, then the organization's.
    anthropic_standin.add_spend_limit({"type": "workspace", "workspace_id": ws}, amount="10000")  # $100
    anthropic_standin.add_cost(starting_at=T0 - timedelta(days=1), ending_at=T0, amount_cents="12000", workspace_id=ws)
    text = _check(http, kbot, slack_standin, healthy["id"])
    assert "its workspace has reached its monthly spend limit ($120.00 of $100.00)" in text
    anthropic_standin.add_spend_limit({"type": "workspace", "workspace_id": ws}, amount="1000000")
    anthropic_standin.add_spend_limit("organization", amount="11000")  # $110
    text = _check(http, kbot, slack_standin, healthy["id"])
    assert "the organization has reached its monthly spend limit ($120.00 of $110.00)" in text
    assert "workspace has reached" not in text


def test_check_by_hint_and_refusals(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, admin, ws = ids(anthropic_standin)
    mine = add_key(
        anthropic_standin, "dev-dev-h", owner=dev, workspace=ws, created=T0, partial_key_hint="sk-ant-api03-Qr7x...4f2a"
    )
    theirs = add_key(
        anthropic_standin,
        "prod-admin-h",
        owner=admin,
        workspace=ws,
        created=T0,
        partial_key_hint="sk-ant-api03-Zz9y...7b7b",
    )
    assert mine["id"] in _check(http, kbot, slack_standin, "…4f2a")
    assert "No key among your keys has a hint matching" in _check(http, kbot, slack_standin, "7b7b")
    assert theirs["id"] in _check(http, kbot, slack_standin, "7b7b", user="U0ADMIN")
    assert "belongs to someone else" in _check(http, kbot, slack_standin, theirs["id"])
    secret = "sk-ant-api03-" + "A" * 40
    assert "looks like a whole secret key" in _check(http, kbot, slack_standin, secret)
    assert "at least 4 characters" in _check(http, kbot, slack_standin, "4f")
