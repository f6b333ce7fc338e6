"""The weekly `stale-keys` job (with the leaver sweep) and the report's Deactivate button, through the stand-ins
over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.deps import Deps
from bot.jobs.context import JobResult
from bot.keys import stale as stale_job
from bot.registry import run_job
from bot.slack.ids import Action
from tests.keys.support import T0, Clock, add_key, audit_actions, buttons, click, ids, rendered

DAY = timedelta(days=1)


def run(deps: Deps) -> JobResult:
    result = run_job("stale-keys", deps, out=lambda _: None)
    assert result is not None
    return result


def seed(anthropic, deps: Deps) -> dict[str, str]:
    """used, stale (dev), stale-admin, stale-old-use, young, inactive, and a former member's key."""
    dev, admin, ws = ids(anthropic)
    leaver = anthropic.add_user("left@example.com", role="developer")["id"]
    k = {
        "stale_admin": add_key(anthropic, "prod-admin-cron", owner=admin, workspace=ws, created=T0 - 90 * DAY)["id"],
        "stale_old_use": add_key(anthropic, "dev-dev-batch", owner=dev, workspace=ws, created=T0 - 80 * DAY)["id"],
        "stale": add_key(anthropic, "dev-dev-idle", owner=dev, workspace=ws, created=T0 - 60 * DAY)["id"],
        "used": add_key(anthropic, "dev-dev-busy", owner=dev, workspace=ws, created=T0 - 60 * DAY)["id"],
        "young": add_key(anthropic, "dev-dev-new", owner=dev, workspace=ws, created=T0 - 5 * DAY)["id"],
        "inactive": add_key(
            anthropic, "dev-dev-off", owner=dev, workspace=ws, created=T0 - 90 * DAY, status="inactive"
        )["id"],
        "leaver": add_key(anthropic, "prod-left-etl", owner=leaver, workspace=ws, created=T0 - 10 * DAY)["id"],
    }
    for key, when in (("used", T0 - 5 * DAY), ("stale_old_use", T0 - 40 * DAY)):
        anthropic.add_usage(
            starting_at=when,
            ending_at=when + timedelta(hours=1),
            input_tokens=10,
            requests=1,
            api_key_id=k[key],
            workspace_id=ws,
        )
    deps.admin.remove_user(leaver)
    anthropic.reset_requests()
    return k


def test_report_lists_leavers_first_then_stale_keys_and_dms_owners(
    kdeps: Deps, clock: Clock, slack_standin, anthropic_standin
) -> None:
    k = seed(anthropic_standin, kdeps)
    result = run(kdeps)
    assert result.errors == []
    root, rows = slack_standin.messages("C0ADMIN")
    assert "1 key of former members, 3 keys unused for 30 days" in (root.text or "")
    assert rows.thread_ts == root.ts
    order = [b["block_id"] for b in rows.blocks]
    assert order == [f"stale:{k[n]}" for n in ("leaver", "stale_admin", "stale_old_use", "stale")]
    assert "creator left the org" in rendered(rows.blocks[:1]) and "former member" in rendered(rows.blocks[:1])
    assert all(b["accessory"]["confirm"] for b in rows.blocks)
    (dev_dm,) = slack_standin.dms_to("U0DEV")
    assert {k["stale"], k["stale_old_use"]} <= set(rendered(dev_dm.blocks).split("`")) and k["used"] not in rendered(
        dev_dm.blocks
    )
    (admin_dm,) = slack_standin.dms_to("U0ADMIN")
    assert k["stale_admin"] in rendered(admin_dm.blocks)
    # The fewest Admin API calls: one page of keys, one of users, one usage call, the workspace names.
    assert anthropic_standin.count("GET", "/v1/organizations/api_keys") == 1
    assert anthropic_standin.count("GET", "/v1/organizations/users") == 1
    assert anthropic_standin.count("GET", "/v1/organizations/analytics/usage") == 1
    assert anthropic_standin.count("GET", r"/v1/organizations/(api_keys|users)/.+") == 0
    # Rerun: nothing new; next week: a new report and new DMs.
    calls = len(slack_standin.calls_to("chat.postMessage"))
    assert run(kdeps).sent == 0 and len(slack_standin.calls_to("chat.postMessage")) == calls
    clock.advance(days=7)
    assert run(kdeps).sent == 4  # root, rows, two DMs
    assert len(slack_standin.messages("C0ADMIN")) == 4


def test_windows_longer_than_31_days_are_split(kdeps: Deps, slack_standin, anthropic_standin) -> None:
    k = seed(anthropic_standin, kdeps)
    kdeps.settings = kdeps.settings.model_copy(update={"key_stale_days": 45})
    run(kdeps)
    assert anthropic_standin.count("GET", "/v1/organizations/analytics/usage") == 2
    _, rows = slack_standin.messages("C0ADMIN")
    listed = [b["block_id"] for b in rows.blocks]
    assert f"stale:{k['stale_old_use']}" not in listed  # used 40 days ago: inside the 45-day window
    assert f"stale:{k['stale']}" in listed


def test_at_most_the_weekly_cap_is_listed(
    kdeps: Deps,
    slack_standin,
    anthropic_standin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    k = seed(anthropic_standin, kdeps)
    monkeypatch.setattr(stale_job, "STALE_LISTED_PER_WEEK", 2)
    run(kdeps)
    root, rows = slack_standin.messages("C0ADMIN")
    assert "the first 2 of 4" in rendered(root.blocks)
    assert [b["block_id"] for b in rows.blocks] == [f"stale:{k['leaver']}", f"stale:{k['stale_admin']}"]
    assert run(kdeps).sent == 0  # the cap holds for the week


def test_a_429_mid_report_resumes_in_the_same_thread(kdeps: Deps, slack_standin, anthropic_standin) -> None:
    seed(anthropic_standin, kdeps)
    slack_standin.inject("chat.postMessage")  # the root goes through…
    slack_standin.inject("chat.postMessage", status=429, retry_after=0, times=3)  # …the rows don't
    first = run(kdeps)
    assert first.sent == 1 and first.errors
    (root,) = slack_standin.messages("C0ADMIN")
    second = run(kdeps)
    assert second.errors == [] and second.sent == 3  # rows + two DMs
    root_again, rows = slack_standin.messages("C0ADMIN")
    assert root_again.ts == root.ts and rows.thread_ts == root.ts
    assert len(slack_standin.dms_to("U0DEV")) == len(slack_standin.dms_to("U0ADMIN")) == 1


def test_deactivate_button_is_for_admins_and_edits_only_its_row(
    kbot: str, http: httpx.Client, kdeps: Deps, slack_standin, anthropic_standin
) -> None:
    k = seed(anthropic_standin, kdeps)
    run(kdeps)
    _, rows = slack_standin.messages("C0ADMIN")
    message = {"ts": rows.ts, "text": rows.text, "blocks": rows.blocks, "thread_ts": rows.thread_ts}
    row = next(b for b in rows.blocks if b["block_id"] == f"stale:{k['stale']}")
    value = row["accessory"]["value"]
    refused = click(http, kbot, slack_standin, action_id=Action.STALE_DEACTIVATE, value=value, message=message)
    assert refused["text"] == "Only admins can deactivate keys from the stale-key report."
    assert kdeps.admin.get_api_key(k["stale"]).status == "active"
    done = click(
        http, kbot, slack_standin, action_id=Action.STALE_DEACTIVATE, value=value, user="U0ADMIN", message=message
    )
    assert done["text"].startswith(":lock: Deactivated") and done.get("replace_original") is False
    assert kdeps.admin.get_api_key(k["stale"]).status == "inactive"
    assert audit_actions(kdeps, k["stale"]) == ["key.revoked"]
    (_, edited) = slack_standin.messages("C0ADMIN")
    by_id = {b["block_id"]: b for b in edited.blocks}
    assert "accessory" not in by_id[f"stale:{k['stale']}"]
    assert "deactivated by <@U0ADMIN>" in by_id[f"stale:{k['stale']}"]["text"]["text"]
    assert len(buttons(edited.blocks, Action.STALE_DEACTIVATE)) == 3
    again = click(
        http, kbot, slack_standin, action_id=Action.STALE_DEACTIVATE, value=value, user="U0ADMIN", message=message
    )
    assert again["text"] == f"Key `{k['stale']}` is already inactive; nothing changed."
    assert audit_actions(kdeps, k["stale"]) == ["key.revoked"]


def test_dry_run_prints_the_report_and_sends_nothing(kdeps: Deps, slack_standin, anthropic_standin) -> None:
    seed(anthropic_standin, kdeps)
    printed: list[str] = []
    result = run_job("stale-keys", kdeps, dry_run=True, out=printed.append)
    assert result is not None and result.sent == 4
    assert printed[0].startswith("would post to C0ADMIN: Stale-key audit")
    assert "would DM U0ADMIN" in printed[2] and "would DM U0DEV" in printed[3]
    assert slack_standin.calls_to("chat.postMessage") == []
    assert run(kdeps).sent == 4  # nothing was recorded by the dry run


def test_a_stale_window_over_365_days_asks_only_for_the_last_365(
    kdeps: Deps, clock: Clock, slack_standin, anthropic_standin
) -> None:
    # From 2027 on, KEY_STALE_DAYS=400 reaches past the analytics API's 365 days: the bot asks from the floor.
    now = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)  # a Monday
    clock.standin = anthropic_standin
    clock.set(now)
    dev, _, ws = ids(anthropic_standin)
    old = add_key(anthropic_standin, "dev-dev-2026", owner=dev, workspace=ws, created=now - 420 * DAY)["id"]
    anthropic_standin.reset_requests()
    kdeps.settings = kdeps.settings.model_copy(update={"key_stale_days": 400})
    result = run(kdeps)
    assert result.errors == []
    starts = [r.query["starting_at"][0] for r in anthropic_standin.matching("GET", "/v1/organizations/analytics/usage")]
    assert starts and min(starts) >= (now - timedelta(days=365)).isoformat()
    _, rows = slack_standin.messages("C0ADMIN")
    assert f"stale:{old}" in [b["block_id"] for b in rows.blocks]
