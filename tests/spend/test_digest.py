"""The weekly digest: spend by workspace and model, top keys, week over week, rotation backlog; once; $0 skips."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.deps import Deps
from bot.registry import run_job
from tests.conftest import DepsFactory

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # reports Nov 16-22
LAST_WEEK = datetime(2026, 11, 16, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def ddeps(make_deps: DepsFactory) -> Deps:
    return make_deps(clock=lambda: MONDAY)


def run(deps: Deps, **kwargs):
    result = run_job("weekly-digest", deps, out=lambda _: None, **kwargs)
    assert result is not None and result.errors == []
    return result


def test_no_spend_no_digest(ddeps: Deps, slack_standin) -> None:
    result = run(ddeps)
    assert (result.sent, result.notes) == (0, ["no spend last week: digest skipped"])
    assert slack_standin.messages("C0ADMIN") == []


def test_digest_content_once_per_week(ddeps: Deps, anthropic_standin, slack_standin) -> None:
    dev = anthropic_standin.seeded["developer"]["id"]
    ws = anthropic_standin.seeded["workspace"]["id"]
    research = anthropic_standin.add_workspace("research")["id"]
    old = anthropic_standin.add_api_key(
        name="old-key", workspace_id=ws, created_by_user_id=dev, created_at=MONDAY - 88 * DAY
    )["id"]
    keys = [anthropic_standin.add_api_key(name=f"key-{i}", workspace_id=research)["id"] for i in range(6)]
    add = anthropic_standin.add_cost
    add(
        starting_at=LAST_WEEK,
        ending_at=LAST_WEEK + DAY,
        amount_cents="30000.5",
        model="claude-opus-4",
        workspace_id=ws,
        api_key_id=old,
    )
    for i, key in enumerate(keys):
        add(
            starting_at=LAST_WEEK + DAY,
            ending_at=LAST_WEEK + 2 * DAY,
            amount_cents=str(1000 * (i + 1)),
            model="claude-haiku-4",
            workspace_id=research,
            api_key_id=key,
        )
    add(starting_at=LAST_WEEK - 3 * DAY, ending_at=LAST_WEEK - 2 * DAY, amount_cents="40000", workspace_id=ws)
    add(starting_at=MONDAY - timedelta(hours=2), ending_at=MONDAY, amount_cents="99999", workspace_id=ws)  # this week
    assert run(ddeps).sent == 1
    assert run(ddeps).sent == 0  # once per week
    (message,) = slack_standin.messages("C0ADMIN")
    rendered = json.dumps(message.blocks)
    # 300.005 + 10 + 20 + ... + 60 = $510.005 → $510.01; the week before: $400
    assert (
        message.text == "Weekly Claude spend Nov 16, 2026 to Nov 22, 2026: $510.01; +28% vs the week before ($400.00)."
    )
    assert "default-ws $300.01 (58%)" in rendered and "research $210.00 (41%)" in rendered
    assert "`claude-opus-4` $300.01" in rendered and "`claude-haiku-4` $210.00" in rendered
    top = rendered.split("Top 5 keys")[1].split("rotation")[0]
    assert top.index("old-key") < top.index("key-5") < top.index("key-2")
    assert "key-1" not in top and "key-0" not in top  # sixth and seventh
    assert "Keys due for rotation (1):* `old-key`" in rendered and "(88 days)" in rendered


def test_dry_run_sends_nothing(ddeps: Deps, anthropic_standin, slack_standin) -> None:
    anthropic_standin.add_cost(starting_at=LAST_WEEK, ending_at=LAST_WEEK + DAY, amount_cents="100")
    printed: list[str] = []
    result = run_job("weekly-digest", ddeps, dry_run=True, out=printed.append)
    assert result is not None and result.sent == 1
    assert printed and printed[0].startswith("would post to C0ADMIN: Weekly Claude spend")
    assert slack_standin.messages("C0ADMIN") == []
