"""`/claude-key rotate` and the rotation's later steps (run by key-adoption through
`adopt_rotation_keys`), over HTTP and the stand-ins, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from bot.deps import Deps
from bot.jobs.spec import JobSpec
from bot.keys.rotation import ROTATION_GRACE, adopt_rotation_keys, replacement_name
from bot.registry import run_job
from bot.slack.ids import Action
from storage.db import session_scope
from storage.models import KeyRotation, RotationState
from tests.keys.support import T0, Clock, add_key, audit_actions, buttons, click, command, ids, rendered

# The key-adoption job (owned by access requests) calls adopt_rotation_keys; here a registry of our own does.
REGISTRY = {
    "adoption": JobSpec(
        "adoption", "rotation steps", "every 15 min", {"trigger": "interval", "minutes": 15}, adopt_rotation_keys
    )
}


def adopt(deps: Deps, *, dry_run: bool = False, out: list[str] | None = None):
    result = run_job("adoption", deps, registry=REGISTRY, dry_run=dry_run, out=(out if out is not None else []).append)
    assert result is not None
    return result


def rotation(deps: Deps, key_id: str) -> KeyRotation:
    with session_scope(deps.engine) as session:
        return session.exec(select(KeyRotation).where(KeyRotation.old_key_id == key_id)).one()


def test_replacement_name_follows_the_convention() -> None:
    day = T0.date()
    assert replacement_name("prod-bob-search", day) == "prod-bob-search-20261102"
    assert replacement_name("prod-bob-search-20260801", day) == "prod-bob-search-20261102"
    assert replacement_name("prod-bob-search-2026-08-01", day) == "prod-bob-search-20261102"


def test_rotate_own_key_tells_what_to_do_and_records_it(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    old = add_key(anthropic_standin, "prod-dev-search", owner=dev, workspace=ws, created=T0 - timedelta(days=95))
    reply = command(http, kbot, slack_standin, f"rotate {old['id']}")["reply"]
    text = rendered(reply["blocks"])
    assert "prod-dev-search-20261102" in text and "default-ws" in text and "platform.claude.com" in text
    assert "48 hours" in text and "unused for 24 hours" in text
    row = rotation(kdeps, old["id"])
    assert (row.state, row.owner_slack_id, row.open_key_id) == (RotationState.WAITING, "U0DEV", old["id"])
    assert audit_actions(kdeps, old["id"]) == ["rotation.started"]
    again = command(http, kbot, slack_standin, f"rotate {old['id']}")["reply"]
    assert "already being rotated" in again["text"]
    with session_scope(kdeps.engine) as session:
        assert len(session.exec(select(KeyRotation)).all()) == 1


def test_rotate_refusals_and_admin_for_someone_else(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, admin, ws = ids(anthropic_standin)
    admins = add_key(anthropic_standin, "prod-admin-x", owner=admin, workspace=ws, created=T0)
    off = add_key(anthropic_standin, "dev-dev-off", owner=dev, workspace=ws, created=T0, status="inactive")
    devs = add_key(anthropic_standin, "dev-dev-x", owner=dev, workspace=ws, created=T0)
    assert "belongs to someone else" in command(http, kbot, slack_standin, f"rotate {admins['id']}")["reply"]["text"]
    assert "already inactive" in command(http, kbot, slack_standin, f"rotate {off['id']}")["reply"]["text"]
    reply = command(http, kbot, slack_standin, f"rotate {devs['id']}", user="U0ADMIN")["reply"]
    assert "I sent the owner <@U0DEV> these steps" in reply["text"]
    (dm,) = slack_standin.dms_to("U0DEV")
    assert "dev-dev-x-20261102" in rendered(dm.blocks) and "<@U0ADMIN>" in (dm.text or "")


def test_replacement_seen_then_owner_deactivates_old_key(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    dev, _, ws = ids(anthropic_standin)
    old = add_key(anthropic_standin, "prod-dev-search", owner=dev, workspace=ws, created=T0 - timedelta(days=95))
    other_ws = anthropic_standin.add_workspace("elsewhere")
    command(http, kbot, slack_standin, f"rotate {old['id']}")
    clock.advance(minutes=15)
    assert adopt(kdeps).sent == 0  # nothing new yet
    # A key in another workspace is no replacement; one in the same workspace is.
    add_key(anthropic_standin, "prod-dev-other", owner=dev, workspace=other_ws["id"], created=clock.now)
    new = add_key(anthropic_standin, "prod-dev-search-20261102", owner=dev, workspace=ws, created=clock.now)
    clock.advance(minutes=15)
    assert adopt(kdeps).sent == 1
    row = rotation(kdeps, old["id"])
    assert (row.state, row.new_key_id) == (RotationState.REPLACED, new["id"])
    assert row.grace_until == clock.now + ROTATION_GRACE
    (dm,) = slack_standin.dms_to("U0DEV")
    (button,) = buttons(dm.blocks, Action.ROTATION_DEACTIVATE_OLD)
    assert button["confirm"] and new["id"] in rendered(dm.blocks)
    assert adopt(kdeps).sent == 0 and len(slack_standin.dms_to("U0DEV")) == 1  # rerun: nothing new
    # Someone else's click is refused; the owner's deactivates the old key and edits the DM.
    message = {"ts": dm.ts, "text": dm.text, "blocks": dm.blocks}
    anthropic_standin.add_user("other@example.com", role="developer")
    slack_standin.add_user("U0OTHER", name="other", email="other@example.com")
    refused = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.ROTATION_DEACTIVATE_OLD,
        value=button["value"],
        user="U0OTHER",
        channel=dm.channel,
        message=message,
    )
    assert refused["text"] == "Only the key's owner or an admin can deactivate it."
    assert kdeps.admin.get_api_key(old["id"]).status == "active"
    done = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.ROTATION_DEACTIVATE_OLD,
        value=button["value"],
        channel=dm.channel,
        message=message,
    )
    assert "deactivated by <@U0DEV>" in done["text"]
    assert kdeps.admin.get_api_key(old["id"]).status == "inactive"
    assert kdeps.admin.get_api_key(new["id"]).status == "active"
    row = rotation(kdeps, old["id"])
    assert (row.state, row.outcome, row.open_key_id) == (RotationState.COMPLETED, "deactivated_by_owner", None)
    assert audit_actions(kdeps, old["id"]) == ["rotation.started", "rotation.replacement_seen", "rotation.completed"]
    (edited,) = slack_standin.dms_to("U0DEV")
    assert not buttons(edited.blocks, Action.ROTATION_DEACTIVATE_OLD) and "Rotation complete" in rendered(edited.blocks)
    twice = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.ROTATION_DEACTIVATE_OLD,
        value=button["value"],
        channel=dm.channel,
        message=message,
    )
    assert twice["text"].startswith("Already done")


def test_old_key_is_deactivated_after_the_grace_period_only_once_unused(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    dev, _, ws = ids(anthropic_standin)
    old = add_key(anthropic_standin, "prod-dev-api", owner=dev, workspace=ws, created=T0 - timedelta(days=95))
    command(http, kbot, slack_standin, f"rotate {old['id']}")
    new = add_key(anthropic_standin, "prod-dev-api-20261102", owner=dev, workspace=ws, created=T0)
    clock.advance(minutes=15)
    adopt(kdeps)
    replaced_at = clock.now
    # The old key keeps being used for two more days.
    for hour in range(0, 49, 6):
        at = replaced_at + timedelta(hours=hour)
        anthropic_standin.add_usage(
            starting_at=at,
            ending_at=at + timedelta(hours=1),
            input_tokens=100,
            requests=2,
            api_key_id=old["id"],
            workspace_id=ws,
        )
    clock.now = replaced_at + ROTATION_GRACE - timedelta(minutes=1)
    anthropic_standin.data_refreshed_at = clock.now
    adopt(kdeps)
    assert kdeps.admin.get_api_key(old["id"]).status == "active"  # still in the grace period
    clock.now = replaced_at + ROTATION_GRACE + timedelta(minutes=15)
    anthropic_standin.data_refreshed_at = clock.now
    result = adopt(kdeps)
    assert kdeps.admin.get_api_key(old["id"]).status == "active" and result.skipped == 1  # used in the last 24 h
    assert "still used" in (slack_standin.dms_to("U0DEV")[-1].text or "")
    adopt(kdeps)
    assert sum("still used" in (m.text or "") for m in slack_standin.dms_to("U0DEV")) == 1  # told once
    # A day after the last use (hour 48), usage shows it unused: the bot deactivates it.
    clock.now = replaced_at + timedelta(hours=49 + 24, minutes=15)
    anthropic_standin.data_refreshed_at = clock.now
    adopt(kdeps)
    assert kdeps.admin.get_api_key(old["id"]).status == "inactive"
    assert kdeps.admin.get_api_key(new["id"]).status == "active"
    row = rotation(kdeps, old["id"])
    assert (row.state, row.outcome) == (RotationState.COMPLETED, "deactivated_after_grace")
    assert audit_actions(kdeps, old["id"]) == [
        "rotation.started",
        "rotation.replacement_seen",
        "rotation.completed",
        "key.deactivated",
    ]
    assert "grace period is over" in (slack_standin.dms_to("U0DEV")[-1].text or "")
    dms = len(slack_standin.dms_to("U0DEV"))
    adopt(kdeps)
    assert len(slack_standin.dms_to("U0DEV")) == dms


def test_usage_lag_is_not_mistaken_for_disuse(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    dev, _, ws = ids(anthropic_standin)
    old = add_key(anthropic_standin, "prod-dev-lag", owner=dev, workspace=ws, created=T0 - timedelta(days=95))
    command(http, kbot, slack_standin, f"rotate {old['id']}")
    add_key(anthropic_standin, "prod-dev-lag-20261102", owner=dev, workspace=ws, created=T0)
    adopt(kdeps)
    clock.now = T0 + ROTATION_GRACE + timedelta(hours=1)
    # Data is 20 hours behind, and the last hour it has shows use: not 24 quiet hours yet.
    anthropic_standin.data_refreshed_at = clock.now - timedelta(hours=20)
    seen = clock.now - timedelta(hours=21)
    anthropic_standin.add_usage(
        starting_at=seen,
        ending_at=seen + timedelta(hours=1),
        input_tokens=5,
        requests=1,
        api_key_id=old["id"],
        workspace_id=ws,
    )
    adopt(kdeps)
    assert kdeps.admin.get_api_key(old["id"]).status == "active"


def test_rotation_of_a_key_revoked_meanwhile_just_closes(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    old = add_key(anthropic_standin, "prod-dev-z", owner=dev, workspace=ws, created=T0 - timedelta(days=95))
    command(http, kbot, slack_standin, f"rotate {old['id']}")
    kdeps.admin.update_api_key(old["id"], status="inactive")
    printed: list[str] = []
    adopt(kdeps, dry_run=True, out=printed)
    assert printed and rotation(kdeps, old["id"]).state == RotationState.WAITING  # a dry run changes nothing
    adopt(kdeps)
    row = rotation(kdeps, old["id"])
    assert (row.state, row.outcome) == (RotationState.COMPLETED, "already_off")
    # The key can be rotated again later (the unique open-rotation slot was freed): here it is inactive, refused.
    assert "already inactive" in command(http, kbot, slack_standin, f"rotate {old['id']}")["reply"]["text"]


def test_the_key_adoption_job_runs_the_rotation_steps(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    old = add_key(anthropic_standin, "prod-dev-job", owner=dev, workspace=ws, created=T0 - timedelta(days=95))
    command(http, kbot, slack_standin, f"rotate {old['id']}")
    add_key(anthropic_standin, "prod-dev-job-20261102", owner=dev, workspace=ws, created=T0)
    result = run_job("key-adoption", kdeps, out=lambda _: None)
    assert result is not None and result.errors == []
    assert rotation(kdeps, old["id"]).state == RotationState.REPLACED
    (dm,) = slack_standin.dms_to("U0DEV")
    assert buttons(dm.blocks, Action.ROTATION_DEACTIVATE_OLD)
