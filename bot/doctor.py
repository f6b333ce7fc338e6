"""`claude-key-bot doctor`: check every credential, scope, channel and the database; say what to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.anthropic_admin import AdminAPIError
from bot.deps import Deps
from bot.slack.scopes import REQUIRED_BOT_SCOPES
from storage.db import ping
from storage.migrate import current_revision, head_revision


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str


def _slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or exc.response.status_code)


def check_database(deps: Deps) -> Check:
    """The database answers and is migrated to this version's head."""
    try:
        ping(deps.engine)
        current = current_revision(deps.engine)
    except Exception as exc:
        return Check(
            "database",
            False,
            f"cannot connect ({type(exc).__name__}); check DATABASE_URL and that the server is running",
        )
    head = head_revision()
    if current != head:
        return Check(
            "database",
            False,
            f"schema at {current or 'nothing'}, this version needs {head}; run `claude-key-bot migrate`",
        )
    return Check("database", True, f"reachable, schema at {current}")


def check_slack_token(deps: Deps) -> Check:
    """SLACK_BOT_TOKEN works and carries every scope the manifest asks for."""
    try:
        response = deps.slack.auth_test()
    except SlackApiError as exc:
        return Check(
            "slack token",
            False,
            f"auth.test failed ({_slack_error(exc)}); reinstall the app and copy "
            "the Bot User OAuth Token into SLACK_BOT_TOKEN",
        )
    except Exception as exc:
        return Check("slack token", False, f"cannot reach Slack at SLACK_API_URL ({type(exc).__name__})")
    granted = {s.strip() for s in str(response.headers.get("x-oauth-scopes", "")).split(",") if s.strip()}
    missing = sorted(REQUIRED_BOT_SCOPES - granted) if granted else []
    if missing:
        return Check(
            "slack token",
            False,
            f"missing scopes {', '.join(missing)}; update the app from manifest.yml and reinstall it",
        )
    return Check("slack token", True, f"bot {response.get('user')} in team {response.get('team')}")


def check_channel(deps: Deps, variable: str, channel: str) -> Check:
    """The bot can see the channel and is a member of it."""
    name = f"channel {variable}"
    try:
        info = deps.notifier.channel_info(channel)
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error == "channel_not_found":
            return Check(
                name, False, f"{channel} not found; for a private channel, /invite the bot first, or fix {variable}"
            )
        return Check(name, False, f"conversations.info failed ({error})")
    except Exception as exc:
        return Check(name, False, f"cannot reach Slack ({type(exc).__name__})")
    if not info.get("is_member", False):
        return Check(name, False, f"the bot is not in #{info.get('name', channel)}; type /invite @bot there")
    return Check(name, True, f"#{info.get('name', channel)}, bot is a member")


def check_admin_key(deps: Deps) -> Check:
    """ANTHROPIC_ADMIN_KEY reaches the Admin API and names the org."""
    try:
        org = deps.admin.get_organization()
    except AdminAPIError as exc:
        return Check("anthropic admin key", False, exc.user_message)
    return Check("anthropic admin key", True, f"organization {org.name} ({org.id})")


def run_doctor(deps: Deps, out: Callable[[str], None] = print) -> int:
    """Run every check, print one line each, return the process exit code."""
    settings = deps.settings
    checks = [check_database(deps), check_slack_token(deps)]
    if settings.admin_channel_id:
        checks.append(check_channel(deps, "ADMIN_CHANNEL_ID", settings.admin_channel_id))
    if settings.alert_channel_id and settings.alert_channel_id != settings.admin_channel_id:
        checks.append(check_channel(deps, "ALERT_CHANNEL_ID", settings.alert_channel_id))
    checks.append(check_admin_key(deps))
    for check in checks:
        out(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    failed = sum(not c.ok for c in checks)
    out("all checks passed" if not failed else f"{failed} check(s) failed")
    return 0 if not failed else 1
