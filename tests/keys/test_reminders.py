"""The `rotation-reminders` job over 100 simulated days (injected clock), with reruns, a Slack 429 mid-run and
a dry run; stand-ins over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.deps import Deps
from bot.jobs.context import JobResult
from bot.registry import run_job
from storage.db import session_scope
from storage.models import KeyRotation, LedgerEntry, RotationState
from tests.keys.support import add_key, ids

_now = datetime.now(UTC)
# Simulated days start on a Monday 09:00 UTC in the future, so the stand-in (which uses the real clock for
# "expired") agrees with the bot about every key during the whole run.
SIM0 = (_now + timedelta(days=7 - _now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
KEY_ID = re.compile(r"apikey_[0-9A-F]+")


def run(deps: Deps, *, dry_run: bool = False, out: list[str] | None = None) -> JobResult:
    result = run_job("rotation-reminders", deps, dry_run=dry_run, out=(out if out is not None else []).append)
    assert result is not None
    return result


def key_ids(message) -> set[str]:
    return set(KEY_ID.findall(str(message.blocks)))


def test_each_stage_once_over_100_days(kdeps: Deps, clock, slack_standin, anthropic_standin) -> None:
    dev, admin, ws = ids(anthropic_standin)
    ghost = anthropic_standin.add_user("ghost@example.com", role="developer")["id"]  # no Slack account
    day = timedelta(days=1)
    a = add_key(anthropic_standin, "dev-a", owner=dev, workspace=ws, created=SIM0 - 80 * day)["id"]  # due day 10
    b = add_key(anthropic_standin, "admin-b", owner=admin, workspace=ws, created=SIM0)["id"]  # due day 90
    c = add_key(
        anthropic_standin,
        "dev-c",
        owner=dev,
        workspace=ws,
        created=SIM0 - 10 * day,
        expires_at=SIM0 + 40 * day + timedelta(hours=12),
    )["id"]  # expires day 40 (before its rotation)
    d = add_key(anthropic_standin, "ghost-d", owner=ghost, workspace=ws, created=SIM0 - 85 * day)["id"]  # due day 5
    e = add_key(anthropic_standin, "dev-e", owner=dev, workspace=ws, created=SIM0 - 85 * day)["id"]  # rotating
    f = add_key(anthropic_standin, "nobody-f", owner=None, workspace=ws, created=SIM0 - 89 * day)["id"]  # due day 1
    with session_scope(kdeps.engine) as session:
        session.add(
            KeyRotation(
                old_key_id=e,
                old_key_name="dev-e",
                workspace_id=ws,
                owner_anthropic_id=dev,
                started_by_slack_id="U0DEV",
                state=RotationState.WAITING,
                open_key_id=e,
                started_at=SIM0 - day,
            )
        )

    sent: dict[str, list[tuple[int, set[str]]]] = {"U0DEV": [], "U0ADMIN": [], "C0ADMIN": []}
    digests: list[int] = []
    seen = {"U0DEV": 0, "U0ADMIN": 0, "C0ADMIN": 0}
    for n in range(100):
        clock.now = SIM0 + n * day
        result = run(kdeps)
        assert result.errors == []
        for where in sent:
            messages = slack_standin.dms_to(where) if where.startswith("U") else slack_standin.messages(where)
            for message in messages[seen[where] :]:
                if "Rotation backlog" in (message.text or ""):
                    digests.append(n)
                else:
                    sent[where].append((n, key_ids(message)))
            seen[where] = len(messages)
        if n in (0, 10, 40, 90):  # a rerun the same day sends nothing new
            assert run(kdeps).sent == 0

    assert sent["U0DEV"] == [(3, {a}), (7, {a}), (9, {a}), (10, {a}), (33, {c}), (37, {c}), (39, {c}), (40, {c})]
    assert sent["U0ADMIN"] == [(83, {b}), (87, {b}), (89, {b}), (90, {b})]
    assert sent["C0ADMIN"] == [(0, {d, f}), (1, {f}), (2, {d}), (4, {d}), (5, {d})]
    assert digests == [1, *range(7, 100, 7)]  # weekly, from the first week with an overdue key
    # Each (key, stage) is one ledger row.
    with session_scope(kdeps.engine) as session:
        rows = session.exec(select(LedgerEntry.key).where(LedgerEntry.job == "rotation-reminders")).all()
    assert sorted(r for r in rows if r.startswith(f"rotation:{a}:")) == [
        f"rotation:{a}:{(SIM0 + 10 * day).date()}:{stage}" for stage in (0, 1, 3, 7)
    ]
    assert not any(e in r for r in rows)  # the key being rotated got no rotation reminders


def _owners(slack_standin, anthropic_standin) -> dict[str, str]:
    dev, admin, ws = ids(anthropic_standin)
    carol = anthropic_standin.add_user("carol@example.com", role="developer")["id"]
    slack_standin.add_user("U0CAROL", name="carol", email="carol@example.com")
    keys = {}
    for slack_id, owner in (("U0ADMIN", admin), ("U0CAROL", carol), ("U0DEV", dev)):
        keys[slack_id] = add_key(
            anthropic_standin, f"k-{slack_id}", owner=owner, workspace=ws, created=SIM0 - timedelta(days=87)
        )["id"]
    return keys


def test_a_slack_429_mid_run_resumes_without_duplicates(
    kdeps: Deps,
    clock,
    slack_standin,
    anthropic_standin,
) -> None:
    keys = _owners(slack_standin, anthropic_standin)
    clock.now = SIM0
    slack_standin.inject("chat.postMessage")  # the first DM goes through…
    slack_standin.inject("chat.postMessage", status=429, retry_after=0, times=3)  # …the second is refused 3 times
    first = run(kdeps)
    assert first.sent == 1 and any("rate-limiting" in e for e in first.errors)
    assert [len(slack_standin.dms_to(u)) for u in ("U0ADMIN", "U0CAROL", "U0DEV")] == [1, 0, 0]
    second = run(kdeps)
    assert second.sent == 2 and second.errors == []
    assert [len(slack_standin.dms_to(u)) for u in ("U0ADMIN", "U0CAROL", "U0DEV")] == [1, 1, 1]
    for slack_id, key in keys.items():
        assert key_ids(slack_standin.dms_to(slack_id)[0]) == {key}
    assert run(kdeps).sent == 0


def test_a_single_429_is_retried_within_the_run(
    kdeps: Deps,
    clock,
    slack_standin,
    anthropic_standin,
) -> None:
    _owners(slack_standin, anthropic_standin)
    clock.now = SIM0
    slack_standin.inject("chat.postMessage", status=429, retry_after=0, times=1)
    result = run(kdeps)
    assert (result.sent, result.errors) == (3, [])
    assert [len(slack_standin.dms_to(u)) for u in ("U0ADMIN", "U0CAROL", "U0DEV")] == [1, 1, 1]


def test_dry_run_prints_and_sends_nothing(kdeps: Deps, clock, slack_standin, anthropic_standin) -> None:
    keys = _owners(slack_standin, anthropic_standin)
    clock.now = SIM0
    printed: list[str] = []
    result = run(kdeps, dry_run=True, out=printed)
    assert result.sent == 3
    text = "An API key of yours needs rotating or expires soon"
    assert [line.split(" (keys: ")[0] for line in printed] == [
        f"would DM {u}: {text}" for u in ("U0ADMIN", "U0CAROL", "U0DEV")
    ]
    for line, key_id in zip(printed, [keys[u] for u in ("U0ADMIN", "U0CAROL", "U0DEV")], strict=True):
        assert key_id in line  # each line names the key (and its name) it is about
    assert slack_standin.calls_to("chat.postMessage") == []
    with session_scope(kdeps.engine) as session:
        assert session.exec(select(LedgerEntry).where(LedgerEntry.job == "rotation-reminders")).all() == []
    assert run(kdeps).sent == 3
