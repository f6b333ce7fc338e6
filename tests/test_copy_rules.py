"""Copy rules, checked on every builder with typical data: one date form, TIMEZONE not "UTC", no
plural slips, money as `$1,234.56`, and a budget alert's first sentence agreeing with its figures.

BUILDERS is an explicit list: a new builder is added here, or its copy is not checked. TIMEZONE is Europe/Berlin
so a hard-coded "UTC" shows. Pure builders, no database or server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.access.blocks import notices, replies
from bot.access.blocks.message import build_request_list, build_request_message
from bot.access.model import AddedToWorkspace, GrantStep, Invited, RequesterContext, RoleRaised
from bot.core.format import duration, percent, percent_value, plural, role_name
from bot.home.blocks import build_home
from bot.home.model import AdminHome, HomeData, RequestItem
from bot.identity import BotRole
from bot.keys.blocks.listing import key_list_reply
from bot.keys.blocks.reminders import overdue_digest, reminder_dm
from bot.keys.blocks.rotation import build_rotation_replaced, build_rotation_started
from bot.keys.blocks.stale import stale_owner_dm, stale_root
from bot.keys.model import KeyList, KeysPageRef, KeyView, Notice, Owner, Replacement, RotationSteps, Tally
from bot.slack.reply import Reply
from bot.slack.text import plain_when, when, without_date_tokens
from bot.spend import blocks_budgets
from bot.spend.blocks_digest import digest
from bot.spend.blocks_spend_limits import spend_request_card
from bot.spend.model import (
    AlertKind,
    BudgetAlert,
    BudgetList,
    BudgetSaved,
    BudgetView,
    Contacts,
    Digest,
    KeyRef,
    SpendRequestCard,
    Spike,
)
from bot.spend.positions import position
from bot.team.members_blocks import build_invite_page, build_member_page
from bot.team.members_model import InvitePage, InviteView, MemberPage, MembersPageRef, MemberView
from storage.models import AccessRequest, RequestState

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 8, 7, 47, tzinfo=UTC)
AS_OF = NOW.astimezone(TZ)  # builders without a TIMEZONE of their own write an instant in its own zone

Payload = tuple[str, list[dict[str, Any]]]


def _blocks(blocks: list[Block] | None) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks or []]


def _reply(reply: Reply) -> Payload:
    return reply.text, _blocks(reply.blocks)


def _text(text: str) -> Payload:
    return text, []


def _key(n: int = 1, *, days_to_rotation: int = -3) -> KeyView:
    return KeyView(
        id=f"apikey_0{n}",
        name=f"prod-ana-search-{n}",
        hint="sk-ant-api03-Qr7x...4f2a",
        workspace="research",
        status="active",
        created=date(2026, 9, 1),
        age_days=1 if n == 1 else 93,
        expires=date(2027, 1, 1),
        rotation_due=date(2026, 12, 5),
        days_to_rotation=days_to_rotation,
        owner=Owner(user_id="user_1", email="ana@example.com"),
        usage_known=True,
        last_used=date(2026, 12, 7),
    )


def _request(state: str = RequestState.PENDING, **fields: Any) -> AccessRequest:
    values: dict[str, Any] = {
        "id": 1,
        "requester_slack_id": "U0DEV",
        "requester_handle": "dev",
        "workspace_id": "wrkspc_1",
        "workspace_name": "research",
        "role": "workspace_developer",
        "reason": "search prototype",
        "state": state,
        "duration_days": 1,
    }
    return AccessRequest(**(values | fields))


def _budget(workspace: bool = False) -> BudgetView:
    if workspace:
        return BudgetView("workspace:wrkspc_1", Decimal(1000), (50, 75, 90, 100), 1, "wrkspc_1", "research")
    return BudgetView("org", Decimal(1000), (50, 75, 90, 100), 1, updated_by_slack_id="U0ANA")


def _position(spent: str = "800", workspace: bool = False, at: datetime = NOW) -> Any:
    return position(_budget(workspace), Decimal(spent), at, TZ, at - timedelta(hours=2))


def _alert(kind: AlertKind, **fields: Any) -> Payload:
    values: dict[str, Any] = {"threshold": 75 if kind is AlertKind.THRESHOLD else None}
    if kind is AlertKind.SPIKE:
        values["spike"] = Spike(date(2026, 12, 7), Decimal("100.5"), Decimal("5"), 3, 7)
    at = fields.pop("at", NOW)
    pos = fields.pop("pos", None) or _position(at=at)
    contacts = fields.pop("contacts", Contacts(set_by_slack_id="U0ANA"))
    return _reply(blocks_budgets.budget_alert(BudgetAlert(kind, pos, contacts, TZ, **(values | fields))))


def _digest() -> Payload:
    ref = KeyRef(key_id="apikey_01", name="prod-ana-search", hint="…4f2a")
    data = Digest(
        week_start=datetime(2026, 11, 30, tzinfo=TZ),
        week_end=datetime(2026, 12, 7, tzinfo=TZ),
        total=Decimal("1234.5"),
        previous=Decimal("1000"),
        by_workspace={"research": Decimal("1000"), "default": Decimal("234.5")},
        by_model={"claude-sonnet-4-5": Decimal("1234.5")},
        top_keys=[(ref, Decimal(10))],
        rotation_due=[(ref, 1), (ref, 400)],
        data_as_of=NOW,
        tz=TZ,
    )
    return _reply(digest(data))


def _key_list() -> Payload:
    page = KeyList(
        scope="mine",
        views=[_key(1, days_to_rotation=1), _key(2)],
        page=1,
        pages=1,
        total=1,
        archived_hidden=1,
        nav=KeysPageRef(s="mine"),
        activity_as_of=AS_OF,
        activity_window_days=31,
        console_url="https://platform.claude.com",
    )
    return _reply(key_list_reply(page))


def _rotation() -> Payload:
    steps = RotationSteps(
        key=_key(), suggested_name="prod-ana-search-2", console_url="https://x", grace_hours=48, for_owner=True
    )
    replaced = Replacement(1, "apikey_01", "old", "apikey_02", "new", AS_OF + timedelta(days=2))
    return "", _blocks(build_rotation_started(steps)) + _blocks(build_rotation_replaced(replaced))


def _home(admin: bool) -> Payload:
    views = [_key(1), _key(2)]
    items = [RequestItem(id=1, state="pending", workspace="research", created=AS_OF)]
    admin_home = AdminHome(
        pending=1,
        pending_oldest=items,
        active_keys=1,
        overdue=1,
        overdue_oldest=views[:1],
        stale=2,
        stale_oldest=views,
        leavers=0,
        leavers_oldest=[],
        as_of=AS_OF,
    )
    data = HomeData(
        updated=AS_OF,
        keys=views,
        keys_total=2,
        requests=items,
        requests_total=1,
        admin=admin_home if admin else None,
        tz_name="Europe/Berlin",
    )
    return "", View(type="home", blocks=build_home(data)).to_dict()["blocks"]


def _members() -> Payload:
    views = [
        MemberView(
            "Ana",
            "ana@example.com",
            "U0ANA",
            "developer",
            BotRole.DEVELOPER,
            [("research", "workspace_developer")],
            1,
            date(2026, 12, 1),
            True,
        )
    ]
    page = MemberPage(
        "all", None, views, 0, 1, 1, {BotRole.DEVELOPER: 1, BotRole.ADMIN: 1}, 1, MembersPageRef(), NOW, NOW, 31, True
    )
    invites = [InviteView("invite_1", "pat@example.com", "Pat", "pending", NOW, NOW + timedelta(days=1), 1, True)]
    invite_page = InvitePage(invites, 0, 1, 1, 1, True, MembersPageRef(f="invites"), NOW)
    return "", _blocks(build_member_page(page, TZ)) + _blocks(build_invite_page(invite_page, TZ))


def _spend_card(state: str) -> Payload:
    card = SpendRequestCard(
        request_id="req_1",
        state=state,
        period="monthly",
        requester_slack_id="U0ANA",
        requester_name="Ana",
        requester_email="ana@example.com",
        requester_user_id="user_1",
        current_limit=Decimal(1000),
        spend=Decimal("999.5"),
        suggestion=Decimal(2000),
        decidable=True,
        last_error=None,
        approved_amount=Decimal(2000) if state == "approved" else None,
        decided_by_slack_id="U0ADMIN" if state == "approved" else None,
        decided_at=NOW if state == "approved" else None,
        resolved_as=None,
        tz=TZ,
    )
    return _reply(spend_request_card(card))


def _request_message() -> Payload:
    context = RequesterContext(
        org_role="developer", keys=[("prod-dev", "…4f2a")], month_to_date_usd=Decimal("1234.5"), data_as_of=NOW
    )
    blocks = build_request_message(_request(), context, tz=TZ)
    listed = build_request_list([_request(), _request(id=2)], links={}, cancellable=True)
    return "", _blocks(blocks) + _blocks(listed)


def _notices() -> Payload:
    granted: list[GrantStep] = [
        RoleRaised("user", "developer"),
        AddedToWorkspace("research", "workspace_developer"),
    ]
    texts = [
        notices.granted(granted),
        notices.granted_dm(_request(), expires=NOW, console_url="https://platform.claude.com", tz=TZ),
        notices.invite_reminder_dm(_request(), "dev@example.com", NOW, TZ),
        notices.invite_unaccepted("dev@example.com", 1),
        notices.invite_sent("dev@example.com", "developer"),
        replies.invited(Invited("pat@example.com", "claude_code_user", NOW, TZ)).text,
    ]
    return "\n".join(texts), []


def _usage() -> Payload:
    from bot.spend.blocks_usage import usage_reply
    from bot.spend.model import Period, ScopeKind, SpendSummary, Tokens, UsageReport, Who

    start = datetime(2026, 12, 1, tzinfo=TZ)
    summary = SpendSummary(
        start=start,
        end=NOW,
        total=Decimal("1234.5"),
        by_model={"claude-sonnet-4-5": Decimal("1234.5")},
        daily={date(2026, 12, 1): {"claude-sonnet-4-5": Decimal("1234.5")}},
        tokens={"claude-sonnet-4-5": Tokens(1000, 1, 0)},
        data_as_of=NOW,
        by_product={"claude_code": Decimal("234.5"), "messages_api": Decimal(1000)},
    )
    report = UsageReport("U0ANA", Who(ScopeKind.ORG), Period.MTD, summary, _position("1234.5"), None, TZ)
    return _reply(usage_reply(report))


def _claude_code() -> Payload:
    from bot.spend import blocks_claude_code
    from bot.spend.claude_code import Activity, CCPeriod, OrgReport, Ranked

    one = Activity(1, 10, 1, 1, 1, 1, 0, Decimal("1.5"), {"claude-sonnet-4-5": Decimal("1.5")})
    people = [Ranked("ana@example.com", None, "U0ANA", one)]
    days = [date(2026, 12, 1) + timedelta(days=i) for i in range(7)]
    org = OrgReport(days, one, 1, 1, people, people, [], "USD", NOW, other_currency=False)
    return _reply(blocks_claude_code.org_reply(org, CCPeriod.D7, TZ))


def _team() -> Payload:
    from bot.anthropic_admin.types import OrgUser
    from bot.team.blocks import offboard_confirm
    from bot.team.leaver_blocks import leaver_proposal, no_slack_list
    from bot.team.leaver_model import Leaver, NoSlackMember
    from bot.team.offboard import KeyToStop, OffboardPlan

    member = OrgUser("user_1", "ana@example.com", "Ana", "developer", NOW)
    plan = OffboardPlan(
        "ana@example.com", "user_1", member, [KeyToStop("apikey_01", "prod", None)], [("w1", "research")], ["i1"], [1]
    )
    listed = no_slack_list(
        [NoSlackMember("bob@example.com", "Bob", "claude_code_user")], week="2026-W50", as_of=NOW, tz=TZ
    )
    replies_ = [offboard_confirm(plan, "left"), leaver_proposal(Leaver("U0ANA", "Ana", plan), 1), listed]
    return "\n".join(r.text for r in replies_), [b for r in replies_ for b in _blocks(r.blocks)]


BUILDERS: list[tuple[str, Callable[[], Payload]]] = [
    ("budget alert: threshold", lambda: _alert(AlertKind.THRESHOLD)),
    ("budget alert: threshold, workspace", lambda: _alert(AlertKind.THRESHOLD, pos=_position("612.5", True))),
    ("budget alert: forecast", lambda: _alert(AlertKind.FORECAST, pos=_position("700", at=NOW))),
    ("budget alert: spike", lambda: _alert(AlertKind.SPIKE)),
    ("budget alert: new period", lambda: _alert(AlertKind.NEW_PERIOD)),
    (
        "budget alert: early in the month (no forecast yet)",
        lambda: _alert(AlertKind.THRESHOLD, at=datetime(2026, 12, 2, 9, tzinfo=UTC), pos=None),
    ),
    (
        "budget list",
        lambda: _reply(blocks_budgets.budget_list(BudgetList([(_budget(), _position())], (50, 75), "C0A", TZ))),
    ),
    (
        "budget saved",
        lambda: _reply(blocks_budgets.budget_saved(BudgetSaved(_budget(), _position(), False, "https://x", TZ))),
    ),
    ("weekly digest", _digest),
    ("keys list", _key_list),
    (
        "rotation reminder DM",
        lambda: _reply(reminder_dm([Notice(key=_key(), kind="rotation", days_left=1)], max_age_days=90)),
    ),
    (
        "rotation backlog",
        lambda: _reply(
            overdue_digest(
                total=1, oldest=[_key()], by_workspace=[Tally("research", 1)], week="2026-W50", max_age_days=90
            )
        ),
    ),
    (
        "stale-key report",
        lambda: _reply(
            stale_root(leavers=0, stale=1, by_workspace=[], stale_days=30, listed=1, week="2026-W50", as_of=AS_OF)
        ),
    ),
    ("stale-key owner DM", lambda: _reply(stale_owner_dm([_key()], stale_days=30, week="2026-W50"))),
    ("rotation started and replaced", _rotation),
    ("home tab: developer", lambda: _home(False)),
    ("home tab: admin", lambda: _home(True)),
    ("members and invites", _members),
    ("spend-limit request: pending", lambda: _spend_card("pending")),
    ("spend-limit request: approved", lambda: _spend_card("approved")),
    ("access request message and list", _request_message),
    ("access notices", _notices),
    ("usage answer", _usage),
    ("Claude Code report", _claude_code),
    ("offboard, leaver proposal, members without Slack", _team),
]

DATE_TOKEN = re.compile(r"<!date\^\d+\^[^|>]+\|([^>]*)>")
ISO_DATE = re.compile(r"\b\d{4}-(\d{2}-\d{2}|W\d{2})\b")  # 2026-12-08, and ISO weeks like 2026-W50
BARE_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
PLURAL_SLIP = re.compile(
    r"(?<![\d.,$])\b1 (?:active |pending |open |org )?"
    r"(keys|days|members|invites|workspaces|requests|rows|budgets|matches|developers|admins|viewers|weeks)\b"
)
RAW_ROLE = re.compile(r"\b(workspace_\w+|claude_code_user)\b")
DANGLING_NONE = re.compile(r"\*: none\.$")
MONEY = re.compile(r"\$[\d,.]*\d")
MONEY_FORM = re.compile(r"\$\d{1,3}(,\d{3})*\.\d{2}")
#: Claude Code's report counts UTC days, whatever TIMEZONE is: saying so is a fact about the data.
ALLOWED_UTC = ("days are UTC days",)


def visible(payload: Payload) -> list[tuple[str, str]]:
    """(type, text) of every text a person sees: the fallback `text` (mrkdwn) and each text object."""
    text, blocks = payload
    found: list[tuple[str, str]] = [("mrkdwn", text)] if text else []

    def walk(obj: Any) -> None:
        if isinstance(obj, list):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            if obj.get("type") in ("mrkdwn", "plain_text") and isinstance(obj.get("text"), str):
                found.append((obj["type"], obj["text"]))
            for key, value in obj.items():
                if key not in ("value", "action_id", "block_id", "url", "private_metadata"):
                    walk(value)

    walk(blocks)
    return found


@pytest.mark.parametrize(("name", "build"), BUILDERS, ids=[name for name, _ in BUILDERS])
def test_copy_rules(name: str, build: Callable[[], Payload]) -> None:
    texts = visible(build())
    assert texts, f"{name}: nothing rendered"
    for kind, text in texts:
        if kind == "plain_text":
            assert "<!date" not in text, f"{name}: a date token in plain_text shows raw: {text!r}"
        for fallback in DATE_TOKEN.findall(text):
            assert "UTC" not in fallback, f"{name}: a token's fallback is not in TIMEZONE: {fallback!r}"
        bare = DATE_TOKEN.sub("", text)
        for allowed in ALLOWED_UTC:
            bare = bare.replace(allowed, "")
        assert "UTC" not in bare, f"{name}: 'UTC' hard-coded: {text!r}"
        assert not ISO_DATE.search(bare), f"{name}: an ISO date: {text!r}"
        assert not BARE_TIME.search(bare), f"{name}: a time outside a date token: {text!r}"
        assert "(s)" not in bare, f"{name}: a '(s)' plural: {text!r}"
        assert not RAW_ROLE.search(bare), f"{name}: a role as the API spells it: {text!r}"
        assert not DANGLING_NONE.search(bare), f"{name}: 'none.' with nothing after it: {text!r}"
        assert not PLURAL_SLIP.search(bare), f"{name}: a plural slip: {text!r}"
        for amount in MONEY.findall(bare):
            assert MONEY_FORM.fullmatch(amount), f"{name}: money not as $1,234.56: {amount!r} in {text!r}"


def _percentages(text: str) -> list[str]:
    return re.findall(r"(\d+)% used|\*Used:\* (\d+)%", text)


@pytest.mark.parametrize("spent", ["800", "612.5", "999.99", "1000", "1500.4"])
def test_a_threshold_alerts_heading_and_body_give_one_percentage(spent: str) -> None:
    pos = _position(spent)
    text, blocks = _alert(AlertKind.THRESHOLD, pos=pos)
    heading = blocks[0]["text"]["text"]
    body = blocks[1]["text"]["text"]
    shown = percent(Decimal(spent), Decimal(1000))
    assert f"{shown} used" in heading and f"{shown} used" in text
    assert f"*Used:* {shown}" in body
    assert "crossed the 75% alert" in heading


def test_an_alert_leads_with_the_sentence_then_figures_then_who_to_talk_to() -> None:
    text, blocks = _alert(AlertKind.THRESHOLD)
    assert text == "Org budget: 80% used — $800.00 of $1,000.00 for December 2026; crossed the 75% alert."
    assert blocks[0]["text"]["text"] == f":warning: *{text}*"
    assert "*Spent:* $800.00" in blocks[1]["text"]["text"]
    assert blocks[-1]["elements"][0]["text"] == "Questions about this budget? Talk to <@U0ANA> (set this budget)."


def test_an_empty_admin_list_says_what_none_means() -> None:
    _, blocks = _home(True)
    texts = [b["text"]["text"] for b in blocks if b.get("type") == "section"]
    assert "*Keys of former members*: none. Every active key has a current member." in texts


def test_no_forecast_yet_does_not_read_as_a_forecast() -> None:
    _, blocks = _alert(AlertKind.THRESHOLD, at=datetime(2026, 12, 2, 9, tzinfo=UTC))
    body = blocks[1]["text"]["text"]
    assert "*Forecast:* none yet (needs 3 days of data)" in body
    assert "after 3 days" not in body


def test_an_alert_in_the_admin_channel_does_not_send_people_to_it() -> None:
    from bot.spend.alerts import contacts

    class Settings:
        admin_slack_user_ids: list[str] = []
        admin_channel_id = "C0ADMIN"

    class FakeDeps:
        settings = Settings()

    budget = BudgetView("org", Decimal(1000), (75,), 1)
    here = contacts(FakeDeps(), budget, "C0ADMIN")  # type: ignore[arg-type]
    elsewhere = contacts(FakeDeps(), budget, "C0ALERTS")  # type: ignore[arg-type]
    assert blocks_budgets.contacts_text(here) == "your Anthropic org admins"
    assert blocks_budgets.contacts_text(elsewhere) == "the admins in <#C0ADMIN>"


def test_date_tokens_carry_the_instant_and_a_fallback_in_timezone() -> None:
    token = when(NOW, TZ)
    assert token == f"<!date^{int(NOW.timestamp())}^{{date_short_pretty}} at {{time}}|Dec 8, 2026 at 08:47 CET>"
    assert when(NOW, TZ, "date") == f"<!date^{int(NOW.timestamp())}^{{date_short_pretty}}|Dec 8, 2026>"
    assert without_date_tokens(f"as of {token}.") == "as of Dec 8, 2026 at 08:47 CET."
    assert plain_when(NOW, ZoneInfo("America/New_York")) == "Dec 8, 2026 at 02:47 EST"
    assert when(None, TZ) == "unknown"


def test_plural_duration_and_role_names() -> None:
    assert plural(1, "key") == "1 key" and plural(3, "key") == "3 keys" and plural(0, "key") == "0 keys"
    assert plural(2, "match", "matches") == "2 matches" and plural(2000, "member") == "2,000 members"
    assert duration(1) == "1 day" and duration(3) == "3 days"
    assert percent_value(66.666) == "66%" and percent_value(Decimal("99.99")) == "99%"  # never reads as crossed
    assert percent(Decimal(800), Decimal(1000)) == "80%"
    assert role_name("workspace_developer") == "developer" and role_name("claude_code_user") == "Claude Code user"
    assert role_name("workspace_admin") == "workspace admin" and role_name(None) == "no role"
