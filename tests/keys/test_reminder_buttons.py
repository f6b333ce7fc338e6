"""Rotation and expiry reminders carry Start rotation and Snooze 7 days: each click over HTTP against the
stand-ins, re-checked (owner or admin), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from bot.deps import Deps
from bot.registry import run_job
from bot.sandbox.slack.blockkit import message_problems
from bot.slack.ids import Action
from storage.db import session_scope
from storage.models import KeyRotation, LedgerEntry
from tests.keys.support import T0, Clock, add_key, audit_actions, buttons, click, ids


def remind(deps: Deps) -> None:
    result = run_job("rotation-reminders", deps, out=lambda _: None)
    assert result is not None and result.errors == [], result


def _setup(anthropic_standin, slack_standin) -> str:
    dev, _, ws = ids(anthropic_standin)
    anthropic_standin.add_user("other@example.com", role="developer")
    slack_standin.add_user("U0OTHER", name="other", email="other@example.com")
    return str(add_key(anthropic_standin, "dev-search", owner=dev, workspace=ws, created=T0 - timedelta(days=87))["id"])


def test_start_rotation_from_the_reminder(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    key = _setup(anthropic_standin, slack_standin)
    remind(kdeps)
    (dm,) = slack_standin.dms_to("U0DEV")
    assert message_problems(dm.blocks) == []
    (start,) = buttons(dm.blocks, Action.REMINDER_ROTATE)
    assert start["text"]["text"] == "Start rotation" and key in start["value"]
    assert "rotate <key-id>" not in str(dm.blocks)  # a button, not a command to copy
    message = {"ts": dm.ts, "text": dm.text, "blocks": dm.blocks}
    refused = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.REMINDER_ROTATE,
        value=start["value"],
        user="U0OTHER",
        channel=dm.channel,
        message=message,
    )
    assert "belongs to someone else" in refused["text"]
    with session_scope(kdeps.engine) as session:
        assert session.exec(select(KeyRotation).where(KeyRotation.old_key_id == key)).first() is None
    started = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.REMINDER_ROTATE,
        value=start["value"],
        channel=dm.channel,
        message=message,
    )
    assert started.get("replace_original") is False  # the reminder stays; the steps come below it
    assert "dev-search" in str(started) and "Console" in str(started)
    with session_scope(kdeps.engine) as session:
        assert session.exec(select(KeyRotation).where(KeyRotation.old_key_id == key)).one().started_by_slack_id == (
            "U0DEV"
        )
    assert audit_actions(kdeps, key) == ["rotation.started"]  # the same outcome as `/claude-key rotate`


def test_snooze_pauses_reminders_for_a_week(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    key = _setup(anthropic_standin, slack_standin)
    clock.now = T0 - timedelta(days=4)  # 7 days before the rotation date: the first reminder
    remind(kdeps)
    (dm,) = slack_standin.dms_to("U0DEV")
    (snooze,) = buttons(dm.blocks, Action.REMINDER_SNOOZE)
    assert snooze["text"]["text"] == "Snooze 7 days"
    message = {"ts": dm.ts, "text": dm.text, "blocks": dm.blocks}
    refused = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.REMINDER_SNOOZE,
        value=snooze["value"],
        user="U0OTHER",
        channel=dm.channel,
        message=message,
    )
    assert "belongs to someone else" in refused["text"]
    assert audit_actions(kdeps, key) == []
    done = click(
        http,
        kbot,
        slack_standin,
        action_id=Action.REMINDER_SNOOZE,
        value=snooze["value"],
        channel=dm.channel,
        message=message,
    )
    assert done["text"].startswith(":zzz: Snoozed") and "Nov 5" in done["text"]
    assert done.get("replace_original") is False
    assert audit_actions(kdeps, key) == ["key.reminders_snoozed"]
    # The 3-day, 1-day and due-day reminders fall inside the week: none is sent.
    for days in (4, 6, 7):
        clock.now = T0 - timedelta(days=4) + timedelta(days=days)
        remind(kdeps)
    assert len(slack_standin.dms_to("U0DEV")) == 1
    # A week later the next reminder goes out again (the skipped ones were never marked sent).
    clock.now = T0 - timedelta(days=4) + timedelta(days=7, hours=1)
    remind(kdeps)
    assert len(slack_standin.dms_to("U0DEV")) == 2
    with session_scope(kdeps.engine) as session:
        snoozes = session.exec(select(LedgerEntry.key).where(LedgerEntry.key.startswith("snooze:"))).all()
    assert len(snoozes) == 1 and key in snoozes[0]


def test_snooze_of_an_unknown_key_or_a_forged_value_is_refused(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    _setup(anthropic_standin, slack_standin)
    unknown = click(http, kbot, slack_standin, action_id=Action.REMINDER_SNOOZE, value='{"k": "apikey_01nothing"}')
    assert "There is no key" in unknown["text"]
    stale = click(http, kbot, slack_standin, action_id=Action.REMINDER_SNOOZE, value="not json")
    assert "no longer active" in stale["text"]
