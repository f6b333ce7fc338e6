"""Key owners: `created_by` → org user → email → Slack user (an identity link the bot already has, else the
stored Slack directory, else a capped number of `users.lookupByEmail`), resolved once per owner per run. Keys
whose owner can't be reached go to the admin channel.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.anthropic_admin import AdminAPIError, NotFound, OrgUser
from bot.deps import Deps
from bot.keys.model import Owner
from storage import repositories as repo
from storage.db import session_scope

logger = logging.getLogger(__name__)

# `users.lookupByEmail` calls one run may make (Tier 3, about 50 a minute): the directory answers the rest.
MAX_LOOKUPS = 50


class LookupsDeferred(Exception):
    """Slack lookups are paused for this run (Slack rate-limited them, or the cap was reached before the
    directory was ever stored): the owner's notice waits for the next run."""


def deferred_note(count: int) -> str:
    """The run's one line for owners whose notices wait: not one error per key."""
    return f"{count} key(s) wait for the next run: Slack lookups of their owners are paused"


class Owners:
    """Key owners' org records and Slack ids, each looked up once (per job run or per command).

    `scan=True` lists every org member once (a page of 1,000 per call) for whole-org jobs; otherwise
    each owner is fetched with `users.retrieve`. Slack ids come from the identity links the bot already
    has, else `users.lookupByEmail`.
    """

    def __init__(self, deps: Deps, *, scan: bool) -> None:
        self.deps = deps
        self.scan = scan
        self._users: dict[str, OrgUser | None] = {}
        self._scanned = False
        self._links: dict[str, str] | None = None
        self._slack: dict[str, str | None] = {}
        self._failed: dict[str, SlackApiError] = {}
        self._directory: dict[str, str] | None = None
        self._directory_known = False
        self._lookups = 0
        self._paused: LookupsDeferred | None = None

    def _load_all(self) -> None:
        if not self._scanned:
            self._users = {u.id: u for u in self.deps.admin.list_users()}
            self._scanned = True

    def members(self) -> set[str]:
        """Ids of every current org member (lists them on first use)."""
        self._load_all()
        return set(self._users)

    def user(self, user_id: str | None) -> OrgUser | None:
        """The org member, or None (no creator, or no longer a member)."""
        if user_id is None:
            return None
        if self.scan:
            self._load_all()
            return self._users.get(user_id)
        if user_id not in self._users:
            try:
                self._users[user_id] = self.deps.admin.get_user(user_id)
            except NotFound:
                self._users[user_id] = None
        return self._users[user_id]

    def slack_id(self, user_id: str | None) -> str | None:
        """The owner's Slack user id, or None when they can't be reached (raises on Slack failures)."""
        user = self.user(user_id)
        if user is None:
            return None
        if user.id in self._failed:  # one failed lookup per owner and run, not one per key
            raise self._failed[user.id]
        if user.id not in self._slack:
            found = self.identity_links().get(user.id) or self.directory().get(user.email.lower())
            self._slack[user.id] = found or self._look_up(user)
        return self._slack[user.id]

    def directory(self) -> dict[str, str]:
        """Email → Slack id from the stored directory (read once)."""
        if self._directory is None:
            with session_scope(self.deps.engine) as session:
                self._directory = repo.slack_ids_by_email(session=session)
                self._directory_known = repo.directory_size(session=session) > 0
        return self._directory

    def _look_up(self, user: OrgUser) -> str | None:
        """A person the directory doesn't have: asked of Slack while the cap allows. With a stored directory a
        miss past the cap is taken as "not in Slack"; without one, the owner waits for the next run."""
        if self._paused is not None:
            raise self._paused
        if self._lookups >= MAX_LOOKUPS:
            if self._directory_known:
                return None
            raise LookupsDeferred("the Slack lookup cap was reached; the slack-directory job has not run yet")
        self._lookups += 1
        try:
            return self.deps.notifier.user_by_email(user.email)
        except SlackApiError as exc:
            if exc.response.status_code == 429 or exc.response.get("error") == "ratelimited":
                self._paused = LookupsDeferred("Slack is rate-limiting lookups")
                raise self._paused from exc
            self._failed[user.id] = exc
            raise

    def identity_links(self) -> dict[str, str]:
        """Anthropic user id → Slack user id for everyone the bot has already identified (read once)."""
        if self._links is None:
            with session_scope(self.deps.engine) as session:
                self._links = repo.linked_slack_ids(session=session)
        return self._links

    def owner(self, user_id: str | None) -> Owner:
        """Who created a key, for admins: the member's email, or none for a former member."""
        user = self.user(user_id)
        return Owner(user_id=user_id, email=user.email if user is not None else None)


def reachable(deps: Deps, user_id: str | None) -> str | None:
    """The Slack id of one org member, or None when they can't be found or Slack or the Admin API fails."""
    try:
        return Owners(deps, scan=False).slack_id(user_id)
    except (AdminAPIError, SlackApiError) as exc:
        logger.info("owner lookup failed: %s", type(exc).__name__)
        return None
