"""The key builders are pure: model values in, Block Kit and fallback text out (no Slack, no database)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from bot.keys.blocks.check import check_reply
from bot.keys.blocks.common import key_line, owner_label
from bot.keys.blocks.listing import key_list_reply, revoke_confirm_reply, revoked_reply
from bot.keys.blocks.rotation import replaced_dm, rotation_started_reply
from bot.keys.blocks.stale import stale_row_edit, stale_rows
from bot.keys.model import (
    Diagnosis,
    Finding,
    KeyList,
    KeysPageRef,
    KeyView,
    Owner,
    Replacement,
    Revoked,
    RevokeRequest,
    RotationStarted,
    RotationSteps,
    StaleDeactivated,
    StaleRow,
)
from bot.slack.ids import Action

VIEW = KeyView(
    id="apikey_01ABCD",
    name="<!channel> prod",
    hint="sk-ant-api03-Qr7x...4f2a",
    workspace="team & co",
    status="active",
    created=date(2026, 8, 1),
    age_days=93,
    expires=None,
    rotation_due=date(2026, 10, 30),
    days_to_rotation=-3,
)


def dicts(blocks) -> list[dict]:
    return [b.to_dict() for b in blocks or []]


def test_key_line_escapes_names_and_says_overdue() -> None:
    line = key_line(VIEW)
    assert line.startswith("*&lt;!channel&gt; prod* `apikey_01ABCD` `sk-ant-api03-Qr7x...4f2a`\n")
    assert "workspace *team &amp; co* · :large_green_circle: active" in line
    assert (
        "age 93 days · no expiry · last activity unknown · :warning: rotation overdue since Oct 30, 2026 (3 days)"
        in line
    )


def test_owner_labels() -> None:
    assert owner_label(Owner(None)) == "no recorded creator"
    assert owner_label(Owner("user_01X")) == "former member `user_01X`"
    assert owner_label(Owner("user_01X", "a<b>@example.com")) == "a&lt;b&gt;@example.com"


def test_key_list_page_has_next_button_only_on_the_first_page() -> None:
    listing = KeyList(
        scope="all",
        views=[VIEW],
        page=0,
        pages=2,
        total=21,
        archived_hidden=1,
        nav=KeysPageRef(s="all"),
        activity_as_of=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        activity_window_days=31,
        console_url="https://platform.claude.com",
    )
    reply = key_list_reply(listing)
    assert reply.text == "All API keys: 21 (page 1 of 2)"
    blocks = dicts(reply.blocks)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "All API keys", "emoji": True}}
    assert blocks[-2]["elements"][0]["text"] == (
        "21 keys · page 1 of 2 · 1 archived not shown · usage data as of "
        "<!date^1793606400^{date_short_pretty} at {time}|Nov 2, 2026 at 08:00 UTC>"
    )
    (next_button,) = blocks[-1]["elements"]
    assert next_button["action_id"] == Action.KEYS_NEXT
    assert json.loads(next_button["value"]) == {"s": "all", "u": None, "p": 1}


def test_no_own_keys_says_where_to_create_one() -> None:
    listing = KeyList("mine", [], 0, 1, 0, 0, KeysPageRef(s="mine"), None, 31, "https://platform.claude.com")
    reply = key_list_reply(listing)
    assert reply.blocks is None and "Claude Console (https://platform.claude.com)" in reply.text


def test_revoke_confirm_carries_the_reason_and_shows_it_escaped() -> None:
    reply = revoke_confirm_reply(RevokeRequest(VIEW, "pasted in <#C1>"))
    assert reply.text == "Deactivate key &lt;!channel&gt; prod (apikey_01ABCD)?"
    section, actions = dicts(reply.blocks)
    assert "Reason: pasted in &lt;#C1&gt;" in section["text"]["text"]
    confirm, cancel = actions["elements"]
    assert json.loads(confirm["value"]) == {"k": "apikey_01ABCD", "r": "pasted in <#C1>"}
    assert cancel["action_id"] == Action.REVOKE_CANCEL
    told = revoked_reply(Revoked(VIEW, by="U0DEV", reason="", admins_missed=True))
    assert told.text.endswith("authentication error. (I couldn't tell the admin channel.)")


def test_rotation_started_for_someone_else_and_the_replaced_dm() -> None:
    steps = RotationSteps(VIEW, "prod-20261102", "https://platform.claude.com", 48, for_owner=False)
    reply = rotation_started_reply(RotationStarted(steps, owner_told="U0DEV"))
    assert reply.text.endswith("; I sent the owner <@U0DEV> these steps")
    assert dicts(reply.blocks)[0]["text"]["text"].startswith(":arrows_counterclockwise: *Rotation started.* Key ")
    replacement = Replacement(7, "apikey_01OLD", "old <name>", "apikey_01NEW", "new", datetime(2026, 11, 4, 9, 15))
    dm = replaced_dm(replacement)
    assert dm.text == "Your replacement key was found; deactivate the old key old &lt;name&gt;"
    button = dicts(dm.blocks)[-1]["elements"][0]
    assert json.loads(button["value"]) == {"r": 7} and button["confirm"]["deny"]["text"] == "Not yet"


def test_stale_rows_and_the_clicked_row() -> None:
    rows = stale_rows([StaleRow(VIEW, leaver=True, owner=Owner("user_01X"))])
    assert rows.text == "1 stale key"
    (row,) = dicts(rows.blocks)
    assert row["block_id"] == "stale:apikey_01ABCD" and row["accessory"]["action_id"] == Action.STALE_DEACTIVATE
    assert row["text"]["text"].endswith("\n:door: creator left the org · former member `user_01X`")
    edit = stale_row_edit(StaleDeactivated("apikey_01ABCD", "prod", "active", "U0ADMIN"), [row])
    assert edit.text == "Stale key apikey_01ABCD: :lock: deactivated by <@U0ADMIN>"
    (edited,) = dicts(edit.blocks)
    assert "accessory" not in edited and edited["text"]["text"].endswith("\n:lock: deactivated by <@U0ADMIN>")


def test_check_puts_failures_first_and_names_the_first_in_the_verdict() -> None:
    findings = [
        Finding("ok", "active"),
        Finding("warn", "spend_limit_near", scope="workspace", spent=Decimal(95), limit=Decimal(100)),
        Finding(
            "fail",
            "rate_limit_hit",
            name="Claude Sonnet 4.x",
            note="requests/min",
            at=datetime(2026, 11, 2, 7, 0),
            used=80,
            cap=50,
            override=True,
        ),
    ]
    reply = check_reply(Diagnosis(VIEW, findings, console_url="https://platform.claude.com"))
    hit = "it hit its workspace's requests/min limit for Claude Sonnet 4.x"
    assert reply.text.startswith(f"Key check for &lt;!channel&gt; prod: {hit}")
    texts = [b["text"]["text"] for b in dicts(reply.blocks) if b["type"] == "section"]
    assert texts[0].startswith(f":x: *This key fails because {hit}")
    assert texts[1].startswith(f":x: {hit}") and "|Nov 2, 2026 at 07:00 UTC>) used 80 of 50" in texts[1]
    assert texts[2] == ":warning: Its workspace has used 95% of its monthly spend limit ($95.00 of $100.00)."
    assert texts[3] == ":white_check_mark: The key is active."
