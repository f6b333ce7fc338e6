"""The Slack directory in the database: `users.list` pages stored by the `slack-directory` job (and one person
at a time from `user_change` events), so jobs map an org member's email to a Slack id without one
`users.lookupByEmail` per person (Tier 3: 2,000 owners would take over half an hour)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.jobs.context import JobContext, JobResult
from storage import repositories as repo
from storage.db import session_scope
from storage.models import SlackUser

logger = logging.getLogger(__name__)

# Slack recommends no more than 200 a page; a 2,000-person workspace is 10 calls.
PAGE_SIZE = 200
# A runaway cursor never pages forever: 500 pages is 100,000 people.
MAX_PAGES = 500


def is_rate_limited(exc: SlackApiError) -> bool:
    """True for Slack's 429 (`ratelimited`) after the client's own retries gave up."""
    return exc.response.status_code == 429 or exc.response.get("error") == "ratelimited"


def slack_user(member: dict[str, Any]) -> SlackUser | None:
    """The stored row for one `users.list` member (None without an id)."""
    slack_id = member.get("id")
    if not slack_id:
        return None
    profile: dict[str, Any] = member.get("profile") or {}
    email = profile.get("email")
    return SlackUser(
        slack_user_id=str(slack_id),
        email=str(email).lower() if email else None,
        name=str(member.get("real_name") or profile.get("real_name") or member.get("name") or "") or None,
        deleted=bool(member.get("deleted")),
        is_bot=bool(member.get("is_bot")) or slack_id == "USLACKBOT",
    )


def refresh_directory(ctx: JobContext) -> JobResult:
    """Store every `users.list` page (each page committed on its own); a rate limit that outlasts the client's
    retries stops the run, and the next run pages again from the start."""
    result = JobResult()
    cursor: str | None = None
    people = pages = 0
    for _ in range(MAX_PAGES):
        ctx.check_lease()
        try:
            members, cursor = ctx.deps.notifier.users_page(cursor, PAGE_SIZE)
        except SlackApiError as exc:
            error = "rate-limited" if is_rate_limited(exc) else str(exc.response.get("error"))
            result.errors.append(f"users.list stopped after {pages} page(s): Slack {error}; the next run tries again")
            return result
        rows = [row for row in map(slack_user, members) if row is not None]
        pages, people = pages + 1, people + len(rows)
        if not ctx.dry_run:
            repo.save_slack_users(session=ctx.session, users=rows, at=ctx.now)
            ctx.session.commit()
        if not cursor:
            break
    else:
        result.errors.append(f"users.list still had more after {MAX_PAGES} pages; stopped")
    verb = "would store" if ctx.dry_run else "stored"
    result.notes.append(f"{verb} {people} people from {pages} page(s)")
    if ctx.dry_run:
        ctx.out(f"{verb} {people} Slack users from {pages} page(s) of users.list")
    result.sent += people
    return result


def remember_user(deps: Deps, member: dict[str, Any]) -> None:
    """A `user_change` event: store that one person as Slack now describes them."""
    row = slack_user(member)
    if row is None:
        return
    with session_scope(deps.engine) as session:
        repo.save_slack_users(session=session, users=[row], at=deps.clock())
