"""Settings: exact variable names, SecretStr, one line per problem, no secret ever echoed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import SecretStr

from bot.config import ConfigError, Mode, Settings, load_settings

GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-test-bot-token",
    "SLACK_SIGNING_SECRET": "test-signing-secret-value",
    "SLACK_APP_TOKEN": "xapp-test-app-token",
    "ANTHROPIC_ADMIN_KEY": "sk-ant-admin01-test-key",
    "ADMIN_CHANNEL_ID": "C0ADMIN",
}
ALL_VARIABLES = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "ANTHROPIC_ADMIN_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_ORG_TYPE",
    "DATABASE_URL",
    "ADMIN_CHANNEL_ID",
    "ALERT_CHANNEL_ID",
    "ADMIN_SLACK_USER_IDS",
    "MONTHLY_BUDGET_USD",
    "BUDGET_THRESHOLDS",
    "KEY_MAX_AGE_DAYS",
    "KEY_STALE_DAYS",
    "TIMEZONE",
    "CONSOLE_URL",
    "PORT",
    "SCHEDULER_ENABLED",
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ALL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_match_the_design(env: pytest.MonkeyPatch) -> None:
    settings = load_settings(Mode.HTTP)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.anthropic_base_url is None
    assert settings.anthropic_org_type == "auto"
    assert settings.database_url == "sqlite:///./data/claude-key-bot.db"
    assert settings.alert_channel == "C0ADMIN"
    assert settings.admin_slack_user_ids == []
    assert settings.monthly_budget_usd is None
    assert settings.budget_thresholds == [50, 75, 90, 100]
    assert (settings.key_max_age_days, settings.key_stale_days) == (90, 30)
    assert settings.timezone == "UTC"
    assert settings.console_url == "https://platform.claude.com"
    assert settings.port == 3000
    assert settings.scheduler_enabled is True
    assert isinstance(settings.slack_bot_token, SecretStr)
    assert isinstance(settings.anthropic_admin_key, SecretStr)


def test_every_variable_is_read_by_its_exact_name(env: pytest.MonkeyPatch) -> None:
    values = {
        "SLACK_API_URL": "http://127.0.0.1:9/api",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:8",
        "ANTHROPIC_ORG_TYPE": "enterprise",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
        "ALERT_CHANNEL_ID": "C0ALERTS",
        "ADMIN_SLACK_USER_IDS": "U01, U02",
        "MONTHLY_BUDGET_USD": "1250.50",
        "BUDGET_THRESHOLDS": "90,50",
        "KEY_MAX_AGE_DAYS": "60",
        "KEY_STALE_DAYS": "14",
        "TIMEZONE": "Europe/Berlin",
        "CONSOLE_URL": "https://console.example.com",
        "PORT": "8080",
        "SCHEDULER_ENABLED": "false",
    }
    for name, value in values.items():
        env.setenv(name, value)
    s = load_settings(Mode.SOCKET)
    assert s.slack_api_url == "http://127.0.0.1:9/api/"  # trailing slash added
    assert s.anthropic_base_url == "http://127.0.0.1:8"
    assert s.anthropic_org_type == "enterprise"
    assert s.database_url.startswith("postgresql://")
    assert s.alert_channel == "C0ALERTS"
    assert s.admin_slack_user_ids == ["U01", "U02"]
    assert s.monthly_budget_usd == Decimal("1250.50")
    assert s.budget_thresholds == [50, 90]
    assert (s.key_max_age_days, s.key_stale_days, s.port) == (60, 14, 8080)
    assert s.timezone == "Europe/Berlin"
    assert s.console_url == "https://console.example.com"
    assert s.scheduler_enabled is False


def test_dotenv_file_is_read(env: pytest.MonkeyPatch, tmp_path) -> None:
    env.delenv("ADMIN_CHANNEL_ID")
    (tmp_path / ".env").write_text("ADMIN_CHANNEL_ID=C0FROMFILE\n")
    assert load_settings(Mode.HTTP).admin_channel_id == "C0FROMFILE"


def test_missing_settings_are_listed_one_line_each_per_mode(env: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "ANTHROPIC_ADMIN_KEY"):
        env.delenv(name)
    with pytest.raises(ConfigError) as http:
        load_settings(Mode.HTTP)
    names = [line.split(":")[0] for line in http.value.problems]
    assert names == ["SLACK_BOT_TOKEN", "ANTHROPIC_ADMIN_KEY", "SLACK_SIGNING_SECRET"]
    assert all("missing" in line and "set" in line for line in http.value.problems)
    with pytest.raises(ConfigError) as socket:
        load_settings(Mode.SOCKET)
    assert [line.split(":")[0] for line in socket.value.problems][-1] == "SLACK_APP_TOKEN"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token-not-bot"),
        ("SLACK_BOT_TOKEN", "xoxb-your-bot-token"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind"),
        ("ANTHROPIC_ADMIN_KEY", "sk-ant-api03-an-inference-key"),
        ("ADMIN_CHANNEL_ID", "#admins"),
        ("ADMIN_SLACK_USER_IDS", "alice,bob"),
        ("MONTHLY_BUDGET_USD", "-5"),
        ("MONTHLY_BUDGET_USD", "12.345"),
        ("BUDGET_THRESHOLDS", "50,abc"),
        ("KEY_MAX_AGE_DAYS", "-7"),
        ("TIMEZONE", "Mars/Olympus"),
        ("PORT", "99999"),
        ("SLACK_API_URL", "ftp://files.internal/api"),
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("SCHEDULER_ENABLED", "maybe"),
    ],
)
def test_malformed_setting_names_the_variable_and_never_the_value(
    env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings(Mode.HTTP)
    assert len(error.value.problems) == 1
    line = error.value.problems[0]
    assert line.startswith(f"{name}: ")
    assert value not in line
    assert "; " in line  # a fix follows


def test_several_problems_are_all_reported(env: pytest.MonkeyPatch) -> None:
    env.setenv("PORT", "x")
    env.setenv("TIMEZONE", "Nowhere/Land")
    env.delenv("ADMIN_CHANNEL_ID")
    with pytest.raises(ConfigError) as error:
        load_settings(Mode.HTTP)
    assert {line.split(":")[0] for line in error.value.problems} == {"PORT", "TIMEZONE"}


def test_secrets_do_not_leak_through_repr(env: pytest.MonkeyPatch) -> None:
    settings = load_settings(Mode.HTTP)
    text = repr(settings) + str(settings) + str(settings.model_dump())
    for secret in GOOD.values():
        if secret != "C0ADMIN":
            assert secret not in text


def test_env_example_lists_every_variable_with_a_comment() -> None:
    from pathlib import Path

    lines = Path(__file__).parents[1].joinpath(".env.example").read_text().splitlines()
    for name in ALL_VARIABLES:
        index = next((i for i, line in enumerate(lines) if line.lstrip("# ").startswith(f"{name}=")), None)
        assert index is not None, f"{name} missing from .env.example"
        assert lines[index - 1].startswith("#"), f"{name} has no comment line above it"
    assert Settings.model_fields.keys() >= {name.lower() for name in ALL_VARIABLES}
