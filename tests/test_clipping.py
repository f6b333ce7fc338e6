"""Names longer than their columns (storage/models.py, CLIPPED) are cut when written, on SQLite and PostgreSQL
(which refuses them): a request from someone with a 300-character Slack display name is filed and posted once,
and a spend-limit request with a 300-character requester name is posted once and never again, without stopping
the requests after it."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.access import intake
from bot.registry import run_job
from storage.db import session_scope
from storage.models import AccessRequest, SpendLimitRequestPost
from tests.conftest import DepsFactory

LONG = "x" * 300


def _roots(slack: Any) -> list[Any]:
    return [m for m in slack.messages("C0ADMIN") if m.thread_ts is None]


def test_a_300_character_display_name_is_clipped_and_posted_once(
    make_deps: DepsFactory, slack_standin: Any, anthropic_standin: Any
) -> None:
    deps = make_deps()
    slack_standin.add_user("U0LONG", name=LONG, email="long@example.com")
    filed = intake.request_from_args(deps, slack_user_id="U0LONG", args=["default-ws", "for", "7d", "a", "reason"])
    with session_scope(deps.engine) as session:
        row = session.get(AccessRequest, filed.request.id)
        assert row is not None and row.requester_handle is not None
        assert len(row.requester_handle) == 80 and row.requester_handle.startswith("xxx")
        assert row.admin_message_ts
    for _ in range(2):
        result = run_job("request-nudges", deps, out=lambda _: None)
        assert result is not None and result.errors == [], result
    assert len(_roots(slack_standin)) == 1


def test_a_300_character_requester_name_is_posted_once_and_the_queue_moves_on(
    make_deps: DepsFactory, slack_standin: Any, anthropic_standin: Any
) -> None:
    anthropic_standin.org_type = "enterprise"  # increase requests exist only in Claude Enterprise orgs
    deps = make_deps()
    long_user = anthropic_standin.add_user("long@example.com", name=LONG, role="developer")
    first = anthropic_standin.add_increase_request(long_user["id"])
    second = anthropic_standin.add_increase_request(anthropic_standin.seeded["developer"]["id"])
    result = run_job("spend-limit-requests", deps, out=lambda _: None)
    assert result is not None and result.errors == [] and result.sent == 2, result
    again = run_job("spend-limit-requests", deps, out=lambda _: None)
    assert again is not None and again.errors == [] and again.sent == 0, again
    assert len(_roots(slack_standin)) == 2
    with session_scope(deps.engine) as session:
        posts = {p.request_id: p for p in session.exec(select(SpendLimitRequestPost))}
    assert set(posts) == {str(first["id"]), str(second["id"])}
    name = posts[str(first["id"])].requester_name
    assert name is not None and len(name) == 200 and name.endswith("…")
    assert all(p.message_ts for p in posts.values())
