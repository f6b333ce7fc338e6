"""The leaver-sweep builders hold Block Kit's limits on every input (hostile or huge names from Slack and the
Console), with user text escaped and confirm texts plain_text (the strict Slack stand-in's checker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.anthropic_admin import OrgUser
from bot.team.leaver_blocks import leaver_decided, leaver_proposal, no_slack_list, not_a_leaver_outcome
from bot.team.leaver_model import Leaver, NoSlackMember
from bot.team.offboard import KeyToStop, OffboardPlan
from tests.test_builders_strict import QUICK, assert_sendable, hostile, long_hostile

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@QUICK
@given(
    name=long_hostile,
    email=hostile,
    keys=st.lists(st.tuples(long_hostile, hostile), max_size=40),
    spaces=st.lists(long_hostile, max_size=40),
)
def test_the_proposal_fits(name: str, email: str, keys: list[tuple[str, str]], spaces: list[str]) -> None:
    address = f"{email[:300]}@example.com"
    member = OrgUser("user_1", address, name[:200], "developer", NOW)
    plan = OffboardPlan(
        email=address,
        user_id="user_1",
        member=member,
        keys=[KeyToStop(f"apikey_{i}", k[:500], h[:40] or None) for i, (k, h) in enumerate(keys)],
        workspaces=[(f"wrkspc_{i}", w[:500]) for i, w in enumerate(spaces)],
        invites=["invite_1"],
        requests=[1, 2],
    )
    message = leaver_proposal(Leaver("U0LEE", name[:200] or None, plan), 12345)
    decided = leaver_decided(address, name[:200], not_a_leaver_outcome("U0ADMIN"))
    assert message.blocks is not None and decided.blocks is not None
    assert_sendable(message.blocks)
    assert_sendable(decided.blocks)


@QUICK
@given(members=st.lists(st.tuples(hostile, long_hostile), max_size=300))
def test_the_no_slack_list_fits(members: list[tuple[str, str]]) -> None:
    listed = [NoSlackMember(f"{e[:300]}@example.com", n[:200], "user") for e, n in members] or [
        NoSlackMember("a@example.com", "A", "user")
    ]
    message = no_slack_list(listed, week="2026-W45", as_of=NOW - timedelta(hours=1), tz=UTC)
    assert message.blocks is not None
    assert_sendable(message.blocks)
