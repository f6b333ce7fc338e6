"""Key owners: `created_by` → org user → email → Slack user (an identity link the bot already has, else
`users.lookupByEmail`), resolved once per owner per run. Keys whose owner can't be reached go to the admin channel.
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
            try:
                linked = self.identity_links().get(user.id)
                self._slack[user.id] = linked or self.deps.notifier.user_by_email(user.email)
            except SlackApiError as exc:
                self._failed[user.id] = exc
                raise
        return self._slack[user.id]

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
