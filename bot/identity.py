"""Who is clicking: Slack user → email → Anthropic org user → bot role (README: Commands in Slack, "who").

Links are cached in `identity_link` and refreshed after `LINK_MAX_AGE`; when the Admin API is down a
stale link is still used for reading, never a guess. Privileged actions (`privileged=True`, and every guard
below) need a role checked within `PRIVILEGED_MAX_AGE` and fail closed when it can't be confirmed. Runs after
the ack (it calls Slack and the API).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.anthropic_admin import AdminAPIError, OrgUser
from bot.core.errors import BotError, UserError
from bot.deps import Deps
from bot.slack.notifier import MissingScope
from storage.db import session_scope
from storage.models import IdentityLink

logger = logging.getLogger(__name__)

LINK_MAX_AGE = timedelta(hours=1)
# The oldest role a privileged action (approve, invite, budgets, revoking others' keys, …) may rely on.
PRIVILEGED_MAX_AGE = timedelta(seconds=60)


class BotRole(StrEnum):
    """What the bot lets someone do."""

    ADMIN = "admin"
    DEVELOPER = "developer"
    VIEWER = "viewer"
    NON_MEMBER = "non-member"


_ORG_ADMIN_ROLES = {"admin", "owner", "primary_owner"}


@dataclass(frozen=True)
class Actor:
    """The person behind a command or click, with their bot role."""

    slack_user_id: str
    email: str | None
    anthropic_user_id: str | None
    org_role: str | None
    role: BotRole
    confirmed: bool = False  # the role was checked within PRIVILEGED_MAX_AGE (the guards require it)

    @property
    def is_admin(self) -> bool:
        """Admins approve, invite directly, set budgets, revoke any key, see org usage."""
        return self.role is BotRole.ADMIN

    @property
    def is_billing(self) -> bool:
        """Billing viewers also see org spend."""
        return self.org_role == "billing"

    @property
    def mention(self) -> str:
        """`<@U…>` for Slack text."""
        return f"<@{self.slack_user_id}>"


class IdentityError(BotError):
    """The Slack user cannot be matched; `user_message` says why and what to do."""

    refused = True


def unconfirmed_sentence(reason: str) -> str:
    """What someone is told when their role can't be confirmed for a privileged action."""
    return (
        f"I can't confirm your current role right now ({reason}), so I haven't done that: actions that need "
        "an admin use a role checked within the last minute. Please try again in a minute."
    )


class RoleUnconfirmed(IdentityError):
    """A privileged action whose actor's role could not be re-checked just now: refused, never guessed."""


def bot_role(org_role: str | None, *, slack_user_id: str, extra_admins: list[str]) -> BotRole:
    """Bot role from the Anthropic org role, plus ADMIN_SLACK_USER_IDS."""
    if slack_user_id in extra_admins or org_role in _ORG_ADMIN_ROLES:
        return BotRole.ADMIN
    if org_role is None:
        return BotRole.NON_MEMBER
    if org_role == "developer":
        return BotRole.DEVELOPER
    return BotRole.VIEWER


def _slack_email(deps: Deps, slack_user_id: str) -> str:
    try:
        email = deps.notifier.user_email(slack_user_id)
    except MissingScope as exc:
        raise IdentityError(
            f"I can't read Slack email addresses: the app lacks the {exc.scope} scope. "
            "An admin must update the app from manifest.yml and reinstall it."
        ) from None
    except SlackApiError as exc:
        error = exc.response.get("error")
        raise IdentityError(f"Slack didn't tell me who you are ({error}); please try again.") from None
    if not email:
        raise IdentityError(
            "Your Slack profile has no visible email address, so I can't match you to the Anthropic "
            "organization. Add one to your profile (or ask a Slack admin) and try again."
        )
    return email


def _store_link(
    session: Session, link: IdentityLink | None, slack_user_id: str, email: str, org_user: OrgUser | None, now: datetime
) -> IdentityLink:
    """Insert or refresh the link; two first clicks at once both insert, and the loser updates instead."""
    values: dict[str, Any] = {
        "email": email,
        "anthropic_user_id": org_user.id if org_user else None,
        "org_role": org_user.role if org_user else None,
        "refreshed_at": now,
    }
    if link is None:
        try:
            with session.begin_nested():
                link = IdentityLink(slack_user_id=slack_user_id, **values)
                session.add(link)
                session.flush()
            return link
        except IntegrityError:
            link = session.get(IdentityLink, slack_user_id, populate_existing=True)
            if link is None:
                raise
    for name, value in values.items():
        setattr(link, name, value)
    session.add(link)
    session.flush()
    return link


def resolve_actor(deps: Deps, slack_user_id: str, *, refresh: bool = False, privileged: bool = False) -> Actor:
    """The actor for a Slack user, from the cached link when fresh, else from Slack and the Admin API.

    `privileged`: the link must be at most PRIVILEGED_MAX_AGE old; when the refresh fails the caller is refused
    (RoleUnconfirmed), the cached role is never used. Otherwise a failed refresh falls back to the cached link.
    The link is read and written in short units of work of its own, so no database connection is held
    while Slack or the Admin API answer (a slow API would otherwise drain the pool).
    """
    now = deps.clock()
    max_age = PRIVILEGED_MAX_AGE if privileged else LINK_MAX_AGE
    with session_scope(deps.engine) as own:
        link = own.get(IdentityLink, slack_user_id)
    if link is None or refresh or now - link.refreshed_at > max_age:
        try:
            email = _slack_email(deps, slack_user_id)
            org_user = deps.admin.find_user_by_email(email)
        except (AdminAPIError, IdentityError) as exc:
            if privileged:  # fail closed: Slack's own sentence, or the role can't be confirmed
                logger.warning("identity refresh failed for %s; privileged action refused", slack_user_id)
                if isinstance(exc, AdminAPIError):
                    raise RoleUnconfirmed(unconfirmed_sentence("the Anthropic Admin API didn't answer")) from None
                raise
            if link is None or refresh:
                raise
            logger.warning("identity refresh failed for %s; using the cached link", slack_user_id)
        else:
            with session_scope(deps.engine) as own:
                current = own.get(IdentityLink, slack_user_id)
                link = _store_link(own, current, slack_user_id, email, org_user, now)
    role = bot_role(link.org_role, slack_user_id=slack_user_id, extra_admins=deps.settings.admin_slack_user_ids)
    confirmed = now - link.refreshed_at <= PRIVILEGED_MAX_AGE
    return Actor(slack_user_id, link.email, link.anthropic_user_id, link.org_role, role, confirmed=confirmed)


# -- guards: the one family every privileged action goes through ---------------------------------------------


def require_admin(actor: Actor, refusal: str) -> Actor:
    """`actor` when they are an Admin with a role checked within PRIVILEGED_MAX_AGE; otherwise a refusal with
    `refusal` as its sentence (or RoleUnconfirmed when the role is older: resolve with `privileged=True`, or
    pass the actor through `confirm_role`)."""
    if not actor.is_admin:
        raise UserError(refusal)
    if not actor.confirmed:
        logger.error("privileged check on an unconfirmed role for %s; refused", actor.slack_user_id)
        raise RoleUnconfirmed(unconfirmed_sentence("it was last checked over a minute ago"))
    return actor


def confirm_role(deps: Deps, actor: Actor) -> Actor:
    """`actor` with a role at most PRIVILEGED_MAX_AGE old: re-resolved when older (RoleUnconfirmed if that fails)."""
    return actor if actor.confirmed else resolve_actor(deps, actor.slack_user_id, privileged=True)


def confirm_admin(deps: Deps, actor: Actor, refusal: str) -> Actor:
    """An actor resolved from the cache, re-checked before a privileged action: an Admin confirmed now, or a
    refusal (someone the cache already shows as no admin is refused without a lookup)."""
    if not actor.is_admin:
        raise UserError(refusal)
    return require_admin(confirm_role(deps, actor), refusal)


def resolve_admin(deps: Deps, slack_user_id: str, refusal: str) -> Actor:
    """The Admin behind `slack_user_id` (role checked within PRIVILEGED_MAX_AGE), or a refusal with `refusal`."""
    return require_admin(resolve_actor(deps, slack_user_id, privileged=True), refusal)


def resolve_decider(deps: Deps, slack_user_id: str, *, refusal: str, is_own: bool, own_refusal: str) -> Actor:
    """An Admin (role checked within PRIVILEGED_MAX_AGE) deciding someone else's request."""
    actor = resolve_actor(deps, slack_user_id, privileged=True)
    return require_decider(actor, refusal=refusal, is_own=is_own, own_refusal=own_refusal)


def require_decider(actor: Actor, *, refusal: str, is_own: bool, own_refusal: str) -> Actor:
    """An Admin deciding someone else's request: nobody approves their own."""
    require_admin(actor, refusal)
    if is_own:
        raise UserError(own_refusal)
    return actor
