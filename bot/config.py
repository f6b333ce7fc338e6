"""Settings: the only place that reads the environment (and `.env`).

Variable names are fixed (README: Settings; other tools rely on them). Secrets are `SecretStr` and never
appear in error text: `ConfigError` lines name the variable and the fix, never the value.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/claude-key-bot.db"

# Values people leave in from examples and docs: refused so the bot never starts half-configured.
# `backend[+driver]://…`, checked without importing SQLAlchemy (settings are read before any heavy import).
_DATABASE_URL = re.compile(r"^(?P<backend>[A-Za-z][A-Za-z0-9]*)(\+[A-Za-z0-9_]+)?://")
_PLACEHOLDER = re.compile(r"(your[-_]|changeme|change-me|replace[-_]?me|xxxx|<|>|\.\.\.|…)", re.IGNORECASE)


class Mode(StrEnum):
    """What the process is about to do; each mode needs a different set of settings."""

    SOCKET = "socket"
    HTTP = "http"
    JOBS = "jobs"
    DOCTOR = "doctor"
    WORKER = "worker"


# One sentence per variable: how to fix it. Used for missing and malformed values alike.
FIXES: dict[str, str] = {
    "SLACK_BOT_TOKEN": "set it to the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from your Slack app's Basic Information page",
    "SLACK_APP_TOKEN": "create an app-level token with the connections:write scope (Basic Information → "
    "App-Level Tokens) and set it (xapp-…)",
    "SLACK_TEAM_ID": "set the workspace ID (T…) or Enterprise Grid ID (E…) to serve, or leave it empty for the "
    "bot token's workspace",
    "SLACK_API_URL": "set an http(s) URL ending in /api/, or remove it to use https://slack.com/api/",
    "ANTHROPIC_ADMIN_KEY": "create an Admin API key (sk-ant-admin…) in the Claude Console under "
    "Settings → Admin keys and set it",
    "ANTHROPIC_BASE_URL": "set an http(s) URL, or remove it to use the SDK's default",
    "DATABASE_URL": "set a SQLAlchemy URL such as sqlite:///./data/claude-key-bot.db or postgresql://user@host:5432/db",
    "ADMIN_CHANNEL_ID": "set it to the admin channel's ID (C… or G…, from the channel's About tab)",
    "ALERT_CHANNEL_ID": "set it to a channel ID (C… or G…), or remove it to use ADMIN_CHANNEL_ID",
    "ADMIN_SLACK_USER_IDS": "set comma-separated Slack user IDs such as U012ABC,U034DEF, or leave it empty",
    "MONTHLY_BUDGET_USD": "set a positive dollar amount such as 5000 or 1250.50, or remove it",
    "BUDGET_THRESHOLDS": "set comma-separated percentages between 1 and 1000, such as 50,75,90,100",
    "KEY_MAX_AGE_DAYS": "set a whole number of days between 1 and 3650",
    "KEY_STALE_DAYS": "set a whole number of days between 1 and 3650",
    "RATE_LIMIT_ALERT_PERCENT": "set a whole percentage between 1 and 100, such as 80",
    "TIMEZONE": "set an IANA time zone name such as UTC or Europe/Berlin",
    "CONSOLE_URL": "set an http(s) URL, or remove it to use https://platform.claude.com",
    "PORT": "set a port number between 1 and 65535",
    "SCHEDULER_ENABLED": "set true or false",
    "WORKERS": "set a whole number from 0 to 32 (0: no worker processes here; run `claude-key-bot worker`)",
    "LOG_LEVEL": "set one of DEBUG, INFO, WARNING, ERROR",
    "LOG_FORMAT": "set text or json",
}


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("not an http(s) URL")
    return value


def _check_secret(value: SecretStr | None, prefix: str) -> SecretStr | None:
    if value is None:
        return None
    raw = value.get_secret_value().strip()
    if not raw:
        return None
    if _PLACEHOLDER.search(raw):
        raise ValueError("looks like a placeholder from an example")
    if prefix and not raw.startswith(prefix):
        raise ValueError(f"does not start with {prefix}")
    return SecretStr(raw)


class DatabaseSettings(BaseSettings):
    """The subset `migrate` needs: only the database."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        match = _DATABASE_URL.match(value)
        if match is None:
            raise ValueError("not a SQLAlchemy URL")
        if match["backend"].lower() not in {"sqlite", "postgresql"}:
            raise ValueError("only sqlite and postgresql are supported")
        return value


class Settings(DatabaseSettings):
    """Every setting in the README's Settings table; mode-specific requirements are checked by `problems_for`."""

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_team_id: str | None = None
    anthropic_admin_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    anthropic_org_type: Literal["auto", "console", "enterprise"] = "auto"
    admin_channel_id: str | None = None
    alert_channel_id: str | None = None
    admin_slack_user_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    monthly_budget_usd: Decimal | None = None
    budget_thresholds: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [50, 75, 90, 100])
    key_max_age_days: int = Field(default=90, ge=1, le=3650)
    key_stale_days: int = Field(default=30, ge=1, le=3650)
    # rate-limit-headroom: a model group's busiest minute at or above this share of its limit alerts
    rate_limit_alert_percent: int = Field(default=80, ge=1, le=100)
    timezone: str = "UTC"
    console_url: str = "https://platform.claude.com"
    port: int = Field(default=3000, ge=1, le=65535)
    scheduler_enabled: bool = True
    # Two: each idles at about 80 MB and keeps 16 items in hand; README (Operations: workers) has the figures.
    workers: int = Field(default=2, ge=0, le=32)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        return _check_secret(value, "xoxb-")

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        return _check_secret(value, "xapp-")

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return _check_secret(value, "")

    @field_validator("anthropic_admin_key")
    @classmethod
    def _admin_key(cls, value: SecretStr | None) -> SecretStr | None:
        return _check_secret(value, "sk-ant-admin")

    @field_validator("slack_team_id")
    @classmethod
    def _team_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not re.fullmatch(r"[TE][A-Z0-9]{2,}", value):
            raise ValueError("not a workspace (T…) or Enterprise Grid (E…) ID")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        checked = _check_url(value) or value
        return checked if checked.endswith("/") else checked + "/"

    @field_validator("anthropic_base_url", "console_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        return _check_url(value)

    @field_validator("admin_channel_id", "alert_channel_id")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
            raise ValueError("not a channel ID")
        return value

    @field_validator("admin_slack_user_ids", mode="before")
    @classmethod
    def _user_ids(cls, value: Any) -> Any:
        value = _split_csv(value)
        for user_id in value or []:
            if not re.fullmatch(r"[UW][A-Z0-9]{2,}", str(user_id)):
                raise ValueError("not a list of Slack user IDs")
        return value

    @field_validator("budget_thresholds", mode="before")
    @classmethod
    def _thresholds(cls, value: Any) -> Any:
        value = _split_csv(value)
        try:
            numbers = sorted({int(v) for v in value})
        except (TypeError, ValueError) as exc:
            raise ValueError("not a list of whole percentages") from exc
        if not numbers or any(n < 1 or n > 1000 for n in numbers):
            raise ValueError("percentages must be between 1 and 1000")
        return numbers

    @field_validator("monthly_budget_usd", mode="before")
    @classmethod
    def _budget(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            amount = Decimal(str(value).strip().lstrip("$").replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError("not an amount") from exc
        if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValueError("must be positive, in dollars and cents")
        return amount

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @property
    def alert_channel(self) -> str | None:
        """Where budget alerts go: ALERT_CHANNEL_ID, else the admin channel."""
        return self.alert_channel_id or self.admin_channel_id

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    def problems_for(self, mode: Mode) -> list[str]:
        """Settings that are missing for this mode, one line each."""
        required = ["SLACK_BOT_TOKEN", "ANTHROPIC_ADMIN_KEY", "ADMIN_CHANNEL_ID"]
        if mode is Mode.HTTP:
            required.append("SLACK_SIGNING_SECRET")
        if mode is Mode.SOCKET:
            required.append("SLACK_APP_TOKEN")
        return [f"{name}: missing; {FIXES[name]}." for name in required if getattr(self, name.lower()) is None]


class ConfigError(Exception):
    """Settings that cannot be used; `problems` holds one line per variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _describe(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        name = str(item["loc"][0]).upper() if item["loc"] else "SETTINGS"
        reason = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        lines.append(f"{name}: {reason}; {FIXES.get(name, 'check its value')}.")
    return lines


def load_settings(mode: Mode, **overrides: Any) -> Settings:
    """Read the environment and `.env`, and check what `mode` needs; raise ConfigError with every problem."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    problems = settings.problems_for(mode)
    if problems:
        raise ConfigError(problems)
    return settings


def load_database_settings(**overrides: Any) -> DatabaseSettings:
    """Read only DATABASE_URL (for `migrate`)."""
    try:
        return DatabaseSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
