"""`/claude-key members` end to end over HTTP against the stand-ins, on SQLite and PostgreSQL: twenty a page with
Previous/Next and counts at the top, the filters, what billing viewers and everyone else see, Slack mentions from
the stored directory (and a member without one), hostile Console names within Block Kit's limits, and an org of
2,000 people read in paged calls, never one per person."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.core.format import calendar_day
from bot.deps import Deps
from bot.registry import run_job
from bot.slack.ids import Action
from tests.conftest import Clock
from tests.keys.support import add_key, buttons, click, command, ids, rendered

# Calls that read one person: the member list must never make them.
PER_PERSON = re.compile(r"/v1/organizations/(users/[^/]+|workspaces/[^/]+/members/[^/]+)")
MEMBER_LISTS = re.compile(r"/v1/organizations/workspaces/[^/]+/members")


@pytest.fixture
def clock(anthropic_standin) -> Clock:
    """The real time: the stand-in decides invite expiry by it."""
    return Clock(datetime.now(UTC).replace(microsecond=0), anthropic_standin)


def _sections(reply: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]


def _context(reply: dict[str, Any]) -> str:
    return " ".join(e["text"] for b in reply["blocks"] if b["type"] == "context" for e in b["elements"])


def _mrkdwn(node: Any) -> list[str]:
    if isinstance(node, list):
        return [t for item in node for t in _mrkdwn(item)]
    if not isinstance(node, dict):
        return []
    own = [node["text"]] if node.get("type") == "mrkdwn" else []
    return own + [t for value in node.values() for t in _mrkdwn(value)]


def _people(admin: Any, count: int) -> list[dict[str, Any]]:
    return [admin.add_user(f"person{i:02d}@example.com", name=f"Person {i:02d}") for i in range(count)]


def _directory(deps: Deps) -> None:
    result = run_job("slack-directory", deps, out=lambda _: None)
    assert result is not None and not result.errors


def test_twenty_a_page_with_counts_mentions_and_last_use(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    people = _people(anthropic_standin, 25)  # 27 members with the seeded admin and developer
    _, _, ws = ids(anthropic_standin)
    anthropic_standin.add_member(ws, people[3]["id"], role="workspace_user")
    created = clock.now - timedelta(days=9)
    key = add_key(anthropic_standin, "p3-ci", owner=people[3]["id"], workspace=ws, created=created)
    used = (clock.now - timedelta(days=3)).replace(hour=0, minute=0, second=0)
    anthropic_standin.add_usage(
        starting_at=used, ending_at=used + timedelta(hours=1), api_key_id=key["id"], input_tokens=50, requests=2
    )
    slack_standin.add_user("U1P03", name="p3", real_name="Person 03", email="Person03@Example.com")
    _directory(kdeps)
    anthropic_standin.reset_requests()

    first = command(http, kbot, slack_standin, "members", user="U0ADMIN")["reply"]
    assert first["blocks"][0]["text"]["text"] == "Org members"
    assert "27 members: 1 admin · 26 developers · 0 viewers" in _context(first)
    assert "page 1 of 2" in _context(first) and "members as of" in _context(first)
    rows = _sections(first)
    assert len(rows) == 20
    (p3,) = [r for r in rows if "person03@example.com" in r]
    assert "<@U1P03>" in p3 and "default-ws (user)" in p3 and f"last used {calendar_day(used.date())}" in p3
    assert "1 active key" in p3 and "developer → Developer" in p3
    (p4,) = [r for r in rows if "person04@example.com" in r]
    assert "no Slack account matched" in p4 and "no active keys" in p4
    assert "key usage data as of" in _context(first)
    # whole-org reads, never one per person
    assert not anthropic_standin.matching("GET", PER_PERSON)
    assert anthropic_standin.count("GET", "/v1/organizations/api_keys") == 1

    (next_button,) = buttons(first["blocks"], Action.MEMBERS_NEXT)
    second = click(http, kbot, slack_standin, action_id=Action.MEMBERS_NEXT, value=next_button["value"], user="U0ADMIN")
    assert len(_sections(second)) == 7 and "page 2 of 2" in _context(second)
    assert not set(_sections(second)) & set(rows)
    assert not buttons(second["blocks"], Action.MEMBERS_NEXT)
    (back,) = buttons(second["blocks"], Action.MEMBERS_PREV)
    again = click(http, kbot, slack_standin, action_id=Action.MEMBERS_PREV, value=back["value"], user="U0ADMIN")
    assert _sections(again) == rows


def test_filters_by_bot_role_and_workspace(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    anthropic_standin.add_user("view@example.com", name="Vi Ewer", role="user")
    anthropic_standin.add_user("bill@example.com", name="Bill Ing", role="billing")
    research = anthropic_standin.add_workspace("R&D lab")["id"]
    anthropic_standin.add_member(research, anthropic_standin.seeded["developer"]["id"])

    def emails(text: str) -> set[str]:
        reply = command(http, kbot, slack_standin, text, user="U0ADMIN")["reply"]
        return set(re.findall(r"[a-z]+@example\.com", " ".join(_sections(reply))))

    assert emails("members admins") == {"admin@example.com"}
    assert emails("members developers") == {"dev@example.com"}
    assert emails("members viewers") == {"view@example.com", "bill@example.com"}
    assert emails("members workspace r&d LAB") == {"dev@example.com"}  # command_body encodes the &
    reply = command(http, kbot, slack_standin, "members workspace r&d lab", user="U0ADMIN")["reply"]
    assert reply["blocks"][0]["text"]["text"] == "Members of R&D lab" and "1 match" in _context(reply)
    missing = command(http, kbot, slack_standin, "members workspace nowhere", user="U0ADMIN")["reply"]["text"]
    assert "There is no workspace called `nowhere`" in missing
    for bad in ("members everyone", "members admins developers", "members workspace"):
        ack = command(http, kbot, slack_standin, bad, user="U0ADMIN")["ack"]["text"]
        assert ack.startswith("Usage: `/claude-key members [admins"), bad


def test_billing_sees_everyone_and_others_see_only_the_admins(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    anthropic_standin.add_user("bill@example.com", name="Bill Ing", role="billing")
    slack_standin.add_user("U0BILL", name="bill", email="bill@example.com")
    anthropic_standin.add_user("secret-person@example.com", name="Secret Person")
    _directory(kdeps)
    billing = command(http, kbot, slack_standin, "members", user="U0BILL")["reply"]
    assert "secret-person@example.com" in rendered(billing["blocks"])
    for who in ("U0DEV", "U0NOBODY"):
        if who == "U0NOBODY":
            slack_standin.add_user(who, name="nobody", email="nobody@example.com")
        told = command(http, kbot, slack_standin, "members", user=who)["reply"]
        assert "Only admins and billing viewers can see the member list" in told["text"]
        assert "<@U0ADMIN> (Ada Admin)" in told["text"]
        assert "@example.com" not in rendered(told["blocks"]) and "Secret" not in told["text"]
        invites = command(http, kbot, slack_standin, "members invites", user=who)["reply"]
        assert "The admins are: <@U0ADMIN>" in invites["text"]


def test_hostile_console_names_stay_within_block_kit(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    evil = "<!channel> <@U0ADMIN> https://evil.example/login &amp; " * 40
    person = anthropic_standin.add_user("x" * 60 + "@example.com", name=evil)
    for i in range(12):
        ws = anthropic_standin.add_workspace(f"{evil[:150]} {i}")["id"]
        anthropic_standin.add_member(ws, person["id"])
    for i in range(30):
        anthropic_standin.add_user(f"evil{i}@example.com", name=evil)
    anthropic_standin.add_invite(evil[:40].replace(" ", "") + "@example.com", role="developer")
    for text in ("members", "members viewers", "members developers", "members invites"):
        reply = command(http, kbot, slack_standin, text, user="U0ADMIN")["reply"]
        shown = " ".join(_mrkdwn(reply["blocks"]))  # plain_text (confirm dialogs) is never formatted
        assert len(reply["blocks"]) <= 50
        assert "<!channel>" not in shown and "<@U0ADMIN>" not in shown and "https://evil" not in shown
        assert all(len(s) <= 3000 for s in _sections(reply))
    listing = command(http, kbot, slack_standin, "members", user="U0ADMIN")["reply"]
    assert "&lt;!channel&gt;" in rendered(listing["blocks"])


def test_an_org_of_two_thousand_is_read_in_pages(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    anthropic_standin.seed_scale(2000, 100, 5000)
    anthropic_standin.reset_requests()
    reply = command(http, kbot, slack_standin, "members", user="U0ADMIN")["reply"]
    assert "2,002 members" in _context(reply) and "page 1 of 101" in _context(reply)
    calls = anthropic_standin.requests
    assert len(calls) <= 120, len(calls)  # users 3 · workspaces 1 · 102 member lists · keys 5 · analytics · invites
    assert not anthropic_standin.matching("GET", PER_PERSON)
    assert anthropic_standin.count("GET", MEMBER_LISTS) == 102  # 100, default-ws and the Default Workspace
    last = json.loads(buttons(reply["blocks"], Action.MEMBERS_NEXT)[0]["value"]) | {"p": 100}
    anthropic_standin.reset_requests()
    page = click(http, kbot, slack_standin, action_id=Action.MEMBERS_NEXT, value=json.dumps(last), user="U0ADMIN")
    assert "page 101 of 101" in _context(page) and len(_sections(page)) == 2
    assert not anthropic_standin.matching("GET", MEMBER_LISTS)  # the roster is kept
