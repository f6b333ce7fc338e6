"""Every Block Kit builder, fed hostile text, gives blocks the strict Slack stand-in's validator takes
(bot/sandbox/slack/blockkit.py): reasons, Console-side key and workspace names, people's names and emails.

Pure builders, no database or server; small example counts keep it quick.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.access.blocks.forms import build_request_modal
from bot.access.blocks.message import build_request_list, build_request_message
from bot.access.model import RequesterContext, RequestFormMeta
from bot.home.blocks import build_home
from bot.home.model import AdminHome, HomeData, RequestItem
from bot.keys.blocks.listing import build_key_list, build_revoke_confirm, revoked_notice
from bot.keys.blocks.reminders import overdue_digest, reminder_dm, unowned_reminders
from bot.keys.blocks.rotation import build_rotation_replaced, build_rotation_started
from bot.keys.blocks.stale import stale_root
from bot.keys.model import (
    KeyList,
    KeysPageRef,
    KeyView,
    Notice,
    Owner,
    Replacement,
    Revoked,
    RevokeRequest,
    RotationSteps,
    Tally,
)
from bot.sandbox.slack.blockkit import message_problems, view_problems
from bot.slack.blocks import build_help
from bot.slack.text import clip_escaped, decode, escape, escape_clip, fit_lines
from bot.spend.blocks_digest import digest
from bot.spend.blocks_spend_limits import spend_request_card
from bot.spend.model import Digest, KeyRef, SpendRequestCard
from storage.models import AccessRequest, RequestState

FRAGMENTS = ["&", "<", ">", "&amp;", "<!channel>", "<@U0EVIL|boss>", "<https://evil.example|x>", "www.evil.example"]
FRAGMENTS += ["https://evil.example/login", "@here", "*", "`", ":tada:", "🔥", "👩🏽‍💻", "\n", " ", "x", "é"]
hostile = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join) | st.text(max_size=80)
long_hostile = st.one_of(
    hostile,
    st.sampled_from(["&", "<", "x", "🔥", '"']).map(lambda c: c * 1000),
    st.text(min_size=900, max_size=1000),
)
QUICK = settings(max_examples=25, deadline=None)


def mrkdwn_texts(obj: Any) -> list[str]:
    """Every mrkdwn text in a payload (plain_text can't form mentions or links, and a value is not shown)."""
    if isinstance(obj, list):
        return [t for item in obj for t in mrkdwn_texts(item)]
    if isinstance(obj, dict):
        own = [str(obj["text"])] if obj.get("type") == "mrkdwn" else []
        return own + [t for value in obj.values() for t in mrkdwn_texts(value)]
    return []


def confirms(obj: Any) -> list[dict[str, Any]]:
    """Every confirm dialog in a payload."""
    if isinstance(obj, list):
        return [c for item in obj for c in confirms(item)]
    if isinstance(obj, dict):
        own = [obj["confirm"]] if isinstance(obj.get("confirm"), dict) and "deny" in obj["confirm"] else []
        return own + [c for value in obj.values() for c in confirms(value)]
    return []


def assert_sendable(blocks: list[Block]) -> None:
    dicts = [block.to_dict() for block in blocks]  # slack_sdk's own checks run here
    assert message_problems(dicts) == []
    rendered = "\n".join(mrkdwn_texts(dicts))
    # Slack shows a confirm dialog's text unformatted: mrkdwn there would show mentions and *bold* raw.
    assert all(c["text"]["type"] == "plain_text" for c in confirms(dicts))
    assert rendered
    assert not any(markup in rendered for markup in ("<!channel", "<!here", "<https://evil", "<@U0EVIL"))


def _request(reason: str, workspace: str, state: str = RequestState.PENDING, **fields: Any) -> AccessRequest:
    return AccessRequest(
        id=7,
        requester_slack_id="U0DEV",
        workspace_id="wrkspc_1",
        workspace_name=workspace[:200],  # the column's width
        reason=reason,
        state=state,
        duration_days=7,
        **fields,
    )


@QUICK
@given(reason=long_hostile, workspace=hostile, names=st.lists(st.tuples(hostile, hostile), max_size=8))
def test_request_message(reason: str, workspace: str, names: list[tuple[str, str]]) -> None:
    keys: list[tuple[str, str | None]] = [(name, hint or None) for name, hint in names]
    context = RequesterContext(org_role="developer", keys=keys, month_to_date_usd=Decimal("1.5"), data_as_of=None)
    assert_sendable(build_request_message(_request(reason, workspace), context))
    failed = _request(reason, workspace, RequestState.FAILED, last_error=reason)
    assert_sendable(build_request_message(failed, None))
    invite = _request(reason, workspace, kind="invite", invitee_email=f"{workspace[:60]}@example.com")
    assert_sendable(build_request_message(invite, None))


@QUICK
@given(reasons=st.lists(long_hostile, min_size=1, max_size=25), workspace=hostile)
def test_request_list(reasons: list[str], workspace: str) -> None:
    requests = [_request(r, workspace) for r in reasons]
    links = {7: "https://standin.slack.com/archives/C/p1"}
    assert_sendable(build_request_list(requests, links=links, cancellable=True))


def _key(name: str, hint: str, workspace: str, email: str) -> KeyView:
    return KeyView(
        id="apikey_01",
        name=name,
        hint=hint or None,
        workspace=workspace or None,
        status="active",
        created=date(2026, 1, 1),
        age_days=300,
        expires=None,
        rotation_due=date(2026, 4, 1),
        days_to_rotation=-200,
        owner=Owner(user_id="user_1", email=email or None),
    )


@QUICK
@given(name=long_hostile, hint=hostile, workspace=hostile, email=hostile, reason=long_hostile)
def test_revoke_confirm_and_notice(name: str, hint: str, workspace: str, email: str, reason: str) -> None:
    key = _key(name, hint, workspace, email)
    assert_sendable(build_revoke_confirm(RevokeRequest(key=key, reason=reason)))
    notice = revoked_notice(Revoked(key=key, by="U0ADMIN", reason=reason))
    assert notice.blocks is not None
    assert_sendable(notice.blocks)


@QUICK
@given(keys=st.lists(st.tuples(long_hostile, hostile, hostile, hostile), min_size=1, max_size=20))
def test_key_list(keys: list[tuple[str, str, str, str]]) -> None:
    views = [_key(*k) for k in keys]
    page = KeyList(
        scope="all",
        views=views,
        page=1,
        pages=3,
        total=60,
        archived_hidden=2,
        nav=KeysPageRef(s="all"),
        activity_as_of=datetime(2026, 11, 30, tzinfo=UTC),
        activity_window_days=31,
        console_url="https://console.anthropic.com",
    )
    assert_sendable(build_key_list(page))


@QUICK
@given(
    workspaces=st.lists(hostile, max_size=12),
    models=st.lists(hostile, max_size=12),
    keys=st.lists(st.tuples(long_hostile, hostile), max_size=10),
)
def test_weekly_digest(workspaces: list[str], models: list[str], keys: list[tuple[str, str]]) -> None:
    refs = [KeyRef(key_id=f"apikey_{n}", name=name, hint=hint) for n, (name, hint) in enumerate(keys)]
    data = Digest(
        week_start=datetime(2026, 11, 23, tzinfo=UTC),
        week_end=datetime(2026, 11, 30, tzinfo=UTC),
        total=Decimal("1234.5"),
        previous=Decimal("1000"),
        by_workspace={w: Decimal(n + 1) for n, w in enumerate(workspaces)},
        by_model={m: Decimal(n + 1) for n, m in enumerate(models)},
        top_keys=[(ref, Decimal(10)) for ref in refs[:5]],
        rotation_due=[(ref, 400) for ref in refs],
        data_as_of=datetime(2026, 11, 30, tzinfo=UTC),
        tz=UTC,
    )
    reply = digest(data)
    assert reply.blocks is not None
    assert_sendable(reply.blocks)


@QUICK
@given(keys=st.lists(st.tuples(long_hostile, hostile, hostile, hostile), max_size=10), workspaces=st.lists(hostile))
def test_home_tab(keys: list[tuple[str, str, str, str]], workspaces: list[str]) -> None:
    views = [_key(*k) for k in keys]
    now = datetime(2026, 12, 1, tzinfo=UTC)
    items = [RequestItem(id=n, state="pending", workspace=w or None, created=now) for n, w in enumerate(workspaces)]
    admin = AdminHome(
        pending=len(items),
        pending_oldest=items,
        active_keys=len(views),
        overdue=40,
        overdue_oldest=views,
        stale=40,
        stale_oldest=views,
        leavers=40,
        leavers_oldest=views,
    )
    data = HomeData(updated=now, keys=views, keys_total=40, requests=items, requests_total=40, admin=admin)
    view = View(type="home", blocks=build_home(data)).to_dict()
    assert view_problems(view) == []


@QUICK
@given(
    keys=st.lists(st.tuples(long_hostile, hostile, hostile, hostile), min_size=1, max_size=12),
    workspaces=st.lists(hostile, max_size=120),
)
def test_reminders_stale_and_rotation(keys: list[tuple[str, str, str, str]], workspaces: list[str]) -> None:
    views = [_key(*k) for k in keys]
    tallies = [Tally(label=w, count=n) for n, w in enumerate(workspaces)]
    notices = [Notice(key=v, kind="rotation", days_left=-3) for v in views]
    replies = [
        reminder_dm(notices, max_age_days=90),
        unowned_reminders([(n, n.key.owner or Owner(user_id=None)) for n in notices]),
        overdue_digest(total=len(views), oldest=views, by_workspace=tallies, week="2026-W49", max_age_days=90),
        stale_root(leavers=3, stale=4, by_workspace=tallies, stale_days=30, listed=7, week="2026-W49", as_of=None),
    ]
    for reply in replies:
        assert reply.blocks is not None
        assert_sendable(reply.blocks)
    view = views[0]
    steps = RotationSteps(key=view, suggested_name=view.name, console_url="https://x", grace_hours=48, for_owner=False)
    assert_sendable(build_rotation_started(steps))
    replaced = Replacement(
        rotation_id=1,
        old_key_id=view.id,
        old_key_name=view.name,
        new_key_id="apikey_02",
        new_key_name=keys[-1][0],
        grace_until=datetime(2026, 12, 3, tzinfo=UTC),
    )
    assert_sendable(build_rotation_replaced(replaced))


@QUICK
@given(name=long_hostile, email=hostile, error=long_hostile, decidable=st.booleans())
def test_spend_request_card(name: str, email: str, error: str, decidable: bool) -> None:
    card = SpendRequestCard(
        request_id="req_1",
        state="failed",
        period="monthly",
        requester_slack_id=None,
        requester_name=name or None,
        requester_email=email or None,
        requester_user_id="user_1",
        current_limit=Decimal(100),
        spend=Decimal(99),
        suggestion=Decimal(200),
        decidable=decidable,
        last_error=error,
        approved_amount=None,
        decided_by_slack_id=None,
        decided_at=None,
        resolved_as=None,
        tz=UTC,
    )
    reply = spend_request_card(card)
    assert reply.blocks is not None
    assert_sendable(reply.blocks)


@QUICK
@given(word=long_hostile)
def test_help_for_an_unknown_word(word: str) -> None:
    assert_sendable(build_help(unknown=word))


@QUICK
@given(names=st.lists(hostile, min_size=1, max_size=100))
def test_request_modal(names: list[str]) -> None:
    view = build_request_modal([(f"wrkspc_{n}", name or "x") for n, name in enumerate(names)], meta=RequestFormMeta())
    as_dict = view.to_dict() if isinstance(view, View) else view
    assert view_problems(as_dict) == []


@settings(max_examples=100, deadline=None)
@given(text=long_hostile, limit=st.integers(min_value=2, max_value=3000))
def test_escape_clip_fits_and_never_splits_an_entity(text: str, limit: int) -> None:
    shown = escape_clip(text, limit)
    assert len(shown) <= limit
    if shown != escape(text):
        assert shown.endswith("…") and escape(text).startswith(shown[:-1])
        head = shown[:-1]
        assert all(head.startswith(("&amp;", "&lt;", "&gt;"), i) for i, c in enumerate(head) if c == "&")
    assert clip_escaped(escape(text), limit) == shown
    assert "<" not in shown and ">" not in shown


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_decode_undoes_slacks_encoding(text: str) -> None:
    encoded = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert decode(encoded) == text


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.text(max_size=300), max_size=60), limit=st.integers(min_value=20, max_value=3000))
def test_fit_lines_stays_within_its_limit(lines: list[str], limit: int) -> None:
    fitted = fit_lines(lines, limit)
    assert len(fitted) <= limit
    if fitted != "\n".join(lines):
        assert fitted.endswith(" more")


# -- members and invites (`/claude-key members`) -----------------------------------------------------------------


@QUICK
@given(
    people=st.lists(st.tuples(long_hostile, hostile, st.lists(hostile, max_size=8)), min_size=1, max_size=20),
    workspace=long_hostile,
)
def test_member_and_invite_pages(people: list[tuple[str, str, list[str]]], workspace: str) -> None:
    from bot.identity import BotRole
    from bot.team.members_blocks import admins_only_reply, build_invite_page, build_member_page
    from bot.team.members_model import AdminsOnly, InvitePage, InviteView, MemberPage, MembersPageRef, MemberView

    at = datetime(2026, 11, 30, tzinfo=UTC)
    views = [
        MemberView(
            name,
            email,
            "U0X" if n % 2 else None,
            "developer",
            BotRole.DEVELOPER,
            [(w, "workspace_user") for w in spaces],
            n,
            date(2026, 11, 1) if n % 3 else None,
            n % 4 != 0,
        )
        for n, (name, email, spaces) in enumerate(people)
    ]
    page = MemberPage(
        "workspace", workspace, views, 1, 3, 60, {BotRole.ADMIN: 1}, 2, MembersPageRef(p=1), at, at, 31, False
    )
    assert_sendable(build_member_page(page, UTC))
    invites = [
        InviteView(f"invite_{n}", email + name, name, "pending" if n % 2 else "expired", at, at, n, n % 3 != 0)
        for n, (name, email, _) in enumerate(people)
    ]
    assert_sendable(build_invite_page(InvitePage(invites, 0, 2, 20, 5, True, MembersPageRef(f="invites"), at), UTC))
    told = admins_only_reply(AdminsOnly([(name, "U0A" if n % 2 else None) for n, (name, _, _) in enumerate(people)]))
    assert told.blocks is not None
    assert_sendable(told.blocks)


# -- Claude Code analytics: hostile emails and API key names, 2,000 people, 30 days -------------------------------


@QUICK
@given(names=st.lists(long_hostile, min_size=1, max_size=12), model=hostile)
def test_claude_code_replies(names: list[str], model: str) -> None:
    from bot.spend import blocks_claude_code
    from bot.spend.claude_code import Activity, CCPeriod, DigestSection, OrgReport, PersonReport, Ranked

    def activity(i: int) -> Activity:
        return Activity(
            sessions=i,
            lines_added=10**9 + i,
            lines_removed=i,
            commits=i,
            pull_requests=i,
            tool_accepted=i,
            tool_rejected=1,
            cost=Decimal("123456789.005") + i,
            cost_by_model={f"{model}{j}": Decimal(j) for j in range(20)},
        )

    people = [
        Ranked(f"{name}@example.com", None, "U0DEV" if i % 3 == 0 else None, activity(i))
        for i, name in enumerate(names)
    ]
    keys = [Ranked(None, name, None, activity(i)) for i, name in enumerate(names[:5])]
    days = [date(2026, 10, 22 + i) if i < 10 else date(2026, 11, i - 9) for i in range(30)]
    as_of = datetime(2026, 11, 20, tzinfo=UTC)
    org = OrgReport(days, activity(5), 2000, 40, people[:10], people[-10:], keys, "USD", as_of, other_currency=True)
    assert_sendable(blocks_claude_code.org_reply(org, CCPeriod.D30, UTC).blocks or [])
    per_day = {d: activity(i) for i, d in enumerate(days)}
    person = PersonReport("U0DEV", days, activity(7), per_day, "EUR", as_of, note="note", other_currency=True)
    assert_sendable(blocks_claude_code.person_reply(person, CCPeriod.D30, UTC).blocks or [])
    section = DigestSection(activity(3), 2000, people[:3], "USD")
    assert_sendable(blocks_claude_code.digest_blocks(section))


# -- offboarding: a plan of many long hostile key and workspace names --------------------------------------------


@QUICK
@given(name=long_hostile, email=st.emails())
def test_offboard_confirm_with_many_long_names(name: str, email: str) -> None:
    from bot.team.blocks import offboard_confirm
    from bot.team.offboard import KeyToStop, OffboardPlan

    names = [f"{name}{n}" for n in range(30)]  # 30 keys and 30 workspaces, each with the long hostile name

    plan = OffboardPlan(
        email=email,
        user_id="user_1",
        member=None,
        keys=[KeyToStop(f"apikey_{n}", name, "sk-ant-api03-abc…wxyz") for n, name in enumerate(names)],
        workspaces=[(f"wrkspc_{n}", name) for n, name in enumerate(names)],
        invites=["invite_1"],
        requests=[1, 2],
    )
    reply = offboard_confirm(plan, "left the company")
    assert reply.blocks is not None
    assert_sendable(reply.blocks)
