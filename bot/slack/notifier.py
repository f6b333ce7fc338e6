"""Posting to Slack from services and jobs (sync, on worker threads), through one WebClient."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.web import SlackResponse

from bot.slack.text import clip_escaped

logger = logging.getLogger(__name__)

# Slack truncates message text at 40,000 characters (slack_sdk warns past 4,000); fallback text only needs to be
# a summary, and it may hold escaped user text, so it is cut without splitting an entity.
FALLBACK_LIMIT = 3000
# How Slack refuses blocks it won't render; the text alone still gets the message across.
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long"})


def blocks_refused(exc: Exception) -> str | None:
    """Why Slack (or slack_sdk, before sending) refused a message's blocks, or None for any other failure."""
    if isinstance(exc, SlackObjectFormationError):
        return "SlackObjectFormationError"
    if isinstance(exc, SlackApiError) and exc.response.get("error") in BLOCK_ERRORS:
        return str(exc.response.get("error"))
    return None


def with_text_fallback(
    send: Callable[[list[Block] | None], SlackResponse], blocks: list[Block] | None, *, without: list[Block] | None
) -> SlackResponse:
    """`send(blocks)`; when the blocks are refused, `send(without)` so the text alone still goes out."""
    try:
        return send(blocks)
    except (SlackApiError, SlackObjectFormationError) as exc:
        reason = blocks_refused(exc)
        if blocks is None or reason is None:
            raise
        logger.warning("Slack refused a message's blocks (%s); sending its text alone", reason)
        return send(without)


class MissingScope(Exception):
    """The bot token lacks a scope the call needs."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


@dataclass(frozen=True)
class Posted:
    """Where a message landed, for later thread replies and `chat.update`."""

    channel: str
    ts: str


class Notifier:
    """Messages, DMs and ephemerals; every call carries fallback text."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._workspace_url: str | None = None

    def permalink(self, channel: str, ts: str) -> str:
        """A link to a message, built from auth.test's workspace URL (no extra scope, one call per process)."""
        if self._workspace_url is None:
            self._workspace_url = str(self.client.auth_test().get("url") or "https://slack.com/")
        return f"{self._workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"

    def user_handle(self, user: str) -> str:
        """A user's Slack handle (display name, else name), lower-case, for key names."""
        info = self.client.users_info(user=user)["user"]
        profile: dict[str, Any] = info.get("profile", {})
        return str(profile.get("display_name") or info.get("name") or user)

    def post(
        self, channel: str, text: str, blocks: list[Block] | None = None, *, thread_ts: str | None = None
    ) -> Posted:
        """Post a message (or a thread reply) and return its channel and ts."""
        response = with_text_fallback(
            lambda b: self.client.chat_postMessage(
                channel=channel,
                text=clip_escaped(text, FALLBACK_LIMIT),
                blocks=b,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            ),
            blocks,
            without=None,
        )
        return Posted(channel=str(response["channel"]), ts=str(response["ts"]))

    def update(self, posted: Posted, text: str, blocks: list[Block] | None = None) -> None:
        """Edit a message the bot posted (refused blocks: the text alone replaces the old blocks)."""
        with_text_fallback(
            lambda b: self.client.chat_update(
                channel=posted.channel, ts=posted.ts, text=clip_escaped(text, FALLBACK_LIMIT), blocks=b
            ),
            blocks,
            without=[],
        )

    def ephemeral(self, channel: str, user: str, text: str, blocks: list[Block] | None = None) -> None:
        """Show a message to one user in a channel."""
        with_text_fallback(
            lambda b: self.client.chat_postEphemeral(
                channel=channel, user=user, text=clip_escaped(text, FALLBACK_LIMIT), blocks=b
            ),
            blocks,
            without=None,
        )

    def dm(self, user: str, text: str, blocks: list[Block] | None = None) -> Posted:
        """Direct-message a user through the app's Messages tab."""
        opened = self.client.conversations_open(users=user)
        channel: dict[str, Any] = opened["channel"]
        return self.post(str(channel["id"]), text, blocks)

    def user_email(self, user: str) -> str | None:
        """A user's profile email, or None when Slack shows none; MissingScope without users:read.email."""
        info = self.client.users_info(user=user)
        profile: dict[str, Any] = info["user"].get("profile", {})
        email = profile.get("email")
        if email:
            return str(email)
        # Without the scope Slack silently omits the email; its scope header tells the two cases apart.
        granted = str(info.headers.get("x-oauth-scopes", ""))
        if granted and "users:read.email" not in {s.strip() for s in granted.split(",")}:
            raise MissingScope("users:read.email")
        return None

    def channel_info(self, channel: str) -> dict[str, Any]:
        """A channel's info (name, privacy, whether the bot is a member)."""
        info = self.client.conversations_info(channel=channel)
        return dict(info["channel"])

    def user_by_email(self, email: str) -> str | None:
        """The Slack user id with this email (users.lookupByEmail), or None when nobody active has it."""
        try:
            found = self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        user: dict[str, Any] = found["user"]
        if user.get("deleted") or user.get("is_bot"):
            return None
        return str(user["id"])

    def users_page(self, cursor: str | None, limit: int = 200) -> tuple[list[dict[str, Any]], str | None]:
        """One page of `users.list` (deleted people and bots included, as Slack sends them) and the next cursor."""
        response = self.client.users_list(cursor=cursor or None, limit=limit)
        members: list[dict[str, Any]] = list(response.get("members") or [])
        following = (response.get("response_metadata") or {}).get("next_cursor") or None
        return members, following

    def direct_message(self, user: str, text: str, blocks: list[Block] | None = None) -> Posted:
        """DM a user in one call: chat.postMessage to a user id lands in the app's Messages tab (bulk notices)."""
        return self.post(user, text, blocks)

    def publish_home(self, user: str, blocks: list[Block]) -> None:
        """Publish a user's App Home tab."""
        self.client.views_publish(user_id=user, view=View(type="home", blocks=blocks))
