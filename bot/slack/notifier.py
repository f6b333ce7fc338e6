"""Posting to Slack from services and jobs (sync, on worker threads), through one WebClient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.text import clip

# Slack truncates message text at 40,000 characters; fallback text only needs to be a summary.
FALLBACK_LIMIT = 3000


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
        response = self.client.chat_postMessage(
            channel=channel,
            text=clip(text, FALLBACK_LIMIT),
            blocks=blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
        )
        return Posted(channel=str(response["channel"]), ts=str(response["ts"]))

    def update(self, posted: Posted, text: str, blocks: list[Block] | None = None) -> None:
        """Edit a message the bot posted."""
        self.client.chat_update(channel=posted.channel, ts=posted.ts, text=clip(text, FALLBACK_LIMIT), blocks=blocks)

    def ephemeral(self, channel: str, user: str, text: str, blocks: list[Block] | None = None) -> None:
        """Show a message to one user in a channel."""
        self.client.chat_postEphemeral(channel=channel, user=user, text=clip(text, FALLBACK_LIMIT), blocks=blocks)

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
