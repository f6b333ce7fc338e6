"""`claude-key-bot doctor`: check every credential, scope, channel and the database; say what to fix.

The checks run side by side on their own clients with short timeouts and no resends, so a host that never
answers costs `CHECK_TIMEOUT` seconds, not the bot's own retry budget; each line names the URL and the reason.
"""

from __future__ import annotations

import functools
import socket
import urllib.error
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.anthropic_admin import (
    DEFAULT_BASE_URL,
    ORG_KIND,
    AdminAPIError,
    AdminGateway,
    AdminKeyInvalid,
    PermissionDenied,
    operator_reason,
)
from bot.config import FIXES, Settings
from bot.deps import Deps
from bot.slack.notifier import Notifier
from bot.slack.scopes import REQUIRED_BOT_SCOPES
from storage.db import ping
from storage.migrate import current_revision, head_revision, known_revision

# Seconds one check waits for an answer; the whole report is ready within `REPORT_DEADLINE`.
CHECK_TIMEOUT = 5.0
REPORT_DEADLINE = 12.0


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Probes:
    """The clients the checks use: the bot's settings, short timeouts, no resends."""

    settings: Settings
    slack: WebClient
    admin: AdminGateway | None
    timeout: float

    @classmethod
    def for_settings(cls, settings: Settings, timeout: float = CHECK_TIMEOUT) -> Probes:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        slack = WebClient(token=token, base_url=settings.slack_api_url, timeout=int(max(1, timeout)), retry_handlers=[])
        admin = None
        if settings.anthropic_admin_key is not None:
            admin = AdminGateway(
                api_key=settings.anthropic_admin_key,
                base_url=settings.anthropic_base_url,
                timeout=timeout,
                max_retries=0,
                org_type=settings.anthropic_org_type,
            )
        return cls(settings, slack, admin, timeout)


def _slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or exc.response.status_code)


def unreachable(exc: BaseException, timeout: float) -> str:
    """Why a connection failed, in a few words: `no answer within 5 s`, `[Errno 111] Connection refused`."""
    reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError | socket.timeout) or "timed out" in str(reason):
        return f"no answer within {timeout:g} s"
    text = str(reason).strip().splitlines()[0] if str(reason).strip() else ""
    return text or type(reason).__name__


def check_database(deps: Deps) -> Check:
    """The database answers; empty is fine (`run` creates the tables), older is fine (`run` migrates it)."""
    try:
        ping(deps.engine)
        current = current_revision(deps.engine)
    except Exception as exc:
        return Check(
            "database",
            False,
            f"cannot connect ({unreachable(exc, CHECK_TIMEOUT)}); check DATABASE_URL and that the server is running",
        )
    head = head_revision()
    if current is None:
        return Check("database", True, "reachable and empty; `run` creates the tables on start")
    if current == head:
        return Check("database", True, f"reachable, schema at {current}")
    if all(known_revision(rev) for rev in current.split(",")):
        return Check("database", True, f"reachable, schema at {current}; `run` migrates it to {head} on start")
    return Check(
        "database", False, f"schema at {current} is newer than this version knows ({head}); upgrade the bot first"
    )


def check_slack_token(probes: Probes) -> Check:
    """SLACK_BOT_TOKEN works and carries every scope the manifest asks for."""
    url = probes.settings.slack_api_url
    try:
        response = probes.slack.auth_test()
    except SlackApiError as exc:
        return Check(
            "slack token",
            False,
            f"{url}auth.test refused SLACK_BOT_TOKEN ({_slack_error(exc)}); reinstall the app and copy "
            "the Bot User OAuth Token into SLACK_BOT_TOKEN",
        )
    except Exception as exc:
        return Check("slack token", False, f"cannot reach Slack at {url} ({unreachable(exc, probes.timeout)})")
    granted = {s.strip() for s in str(response.headers.get("x-oauth-scopes", "")).split(",") if s.strip()}
    missing = sorted(REQUIRED_BOT_SCOPES - granted) if granted else []
    if missing:
        return Check(
            "slack token",
            False,
            f"missing scopes {', '.join(missing)}; update the app from manifest.yml and reinstall it",
        )
    return Check("slack token", True, f"bot {response.get('user')} in team {response.get('team')}")


def check_app_token(probes: Probes, app_token: SecretStr) -> Check:
    """SLACK_APP_TOKEN may open a Socket Mode connection (apps.connections.open; nothing is connected)."""
    url = probes.settings.slack_api_url
    client = WebClient(base_url=url, timeout=int(max(1, probes.timeout)), retry_handlers=[])
    try:
        client.apps_connections_open(app_token=app_token.get_secret_value())
    except SlackApiError as exc:
        return Check(
            "slack app token",
            False,
            f"{url}apps.connections.open refused SLACK_APP_TOKEN ({_slack_error(exc)}); {FIXES['SLACK_APP_TOKEN']}",
        )
    except Exception as exc:
        return Check("slack app token", False, f"cannot reach Slack at {url} ({unreachable(exc, probes.timeout)})")
    return Check("slack app token", True, "Socket Mode connections can be opened")


def check_channel(probes: Probes, variable: str, channel: str) -> Check:
    """The bot can see the channel and is a member of it."""
    name = f"channel {variable}"
    try:
        info = Notifier(probes.slack).channel_info(channel)
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error == "channel_not_found":
            return Check(
                name, False, f"{channel} not found; for a private channel, /invite the bot first, or fix {variable}"
            )
        return Check(name, False, f"conversations.info for {channel} failed ({error})")
    except Exception as exc:
        url = probes.settings.slack_api_url
        return Check(name, False, f"cannot reach Slack at {url} ({unreachable(exc, probes.timeout)})")
    if not info.get("is_member", False):
        return Check(name, False, f"the bot is not in #{info.get('name', channel)}; type /invite @bot there")
    return Check(name, True, f"#{info.get('name', channel)}, bot is a member")


def check_admin_key(probes: Probes) -> Check:
    """ANTHROPIC_ADMIN_KEY reaches the Admin API and names the org."""
    url = probes.settings.anthropic_base_url or DEFAULT_BASE_URL
    if probes.admin is None:
        return Check("anthropic admin key", False, f"ANTHROPIC_ADMIN_KEY: missing; {FIXES['ANTHROPIC_ADMIN_KEY']}")
    try:
        org = probes.admin.get_organization()
    except AdminAPIError as exc:
        if isinstance(exc, AdminKeyInvalid | PermissionDenied):
            fix = f"replace ANTHROPIC_ADMIN_KEY: {FIXES['ANTHROPIC_ADMIN_KEY']}"
        else:
            fix = "check ANTHROPIC_BASE_URL and the network"
        return Check("anthropic admin key", False, f"Admin API at {url}: {operator_reason(exc)}; {fix}")
    how = "detected" if probes.settings.anthropic_org_type == "auto" else "ANTHROPIC_ORG_TYPE"
    try:
        kind = f"a {ORG_KIND[probes.admin.org_type()]} org ({how})"
    except AdminAPIError as exc:
        kind = f"org type unknown ({operator_reason(exc)}); set ANTHROPIC_ORG_TYPE"
    return Check("anthropic admin key", True, f"organization {org.name} ({org.id}), {kind}")


def run_doctor(deps: Deps, out: Callable[[str], None] = print, *, timeout: float = CHECK_TIMEOUT) -> int:
    """Run every check side by side, print one line each (in a fixed order), return the process exit code."""
    settings = deps.settings
    probes = Probes.for_settings(settings, timeout)
    planned: list[tuple[str, Callable[[], Check]]] = [
        ("database", lambda: check_database(deps)),
        ("slack token", lambda: check_slack_token(probes)),
    ]
    app_token = settings.slack_app_token
    if app_token is not None:
        planned.append(("slack app token", lambda: check_app_token(probes, app_token)))
    channels = [("ADMIN_CHANNEL_ID", settings.admin_channel_id)]
    if settings.alert_channel_id != settings.admin_channel_id:
        channels.append(("ALERT_CHANNEL_ID", settings.alert_channel_id))
    for variable, channel in channels:
        if channel:
            planned.append((f"channel {variable}", functools.partial(check_channel, probes, variable, channel)))
    planned.append(("anthropic admin key", lambda: check_admin_key(probes)))
    pool = ThreadPoolExecutor(max_workers=len(planned), thread_name_prefix="ckb-doctor")
    futures: list[Future[Check]] = [pool.submit(fn) for _, fn in planned]
    wait(futures, timeout=REPORT_DEADLINE)
    pool.shutdown(wait=False, cancel_futures=True)
    checks = []
    for (name, _), future in zip(planned, futures, strict=True):
        if not future.done():
            checks.append(Check(name, False, f"no answer within {REPORT_DEADLINE:g} s"))
        elif future.exception() is not None:
            checks.append(Check(name, False, f"the check failed ({type(future.exception()).__name__})"))
        else:
            checks.append(future.result())
    for check in checks:
        out(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    failed = sum(not c.ok for c in checks)
    out("all checks passed" if not failed else f"{failed} check(s) failed")
    return 0 if not failed else 1
