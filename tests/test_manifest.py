"""manifest.yml and manifest.http.yml against Slack's published JSON Schema, and against the code."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.slack.commands import COMMAND
from bot.slack.scopes import REQUIRED_BOT_SCOPES, SCOPE_USES

ROOT = Path(__file__).parents[1]
SCHEMA = json.loads((ROOT / "tests/data/slack/manifest.schema.1.0.0.json").read_text())
MANIFESTS = ["manifest.yml", "manifest.http.yml"]


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_is_valid_against_slack_schema(name: str) -> None:
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(load(name)))
    assert errors == [], [e.message for e in errors]


def test_schema_rejects_a_broken_manifest() -> None:
    broken = load("manifest.yml")
    broken["features"]["slash_commands"][0]["command"] = "claude-key"  # no leading slash
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_has_what_the_bot_needs(name: str) -> None:
    manifest = load(name)
    features, settings = manifest["features"], manifest["settings"]
    assert [c["command"] for c in features["slash_commands"]] == [COMMAND]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == REQUIRED_BOT_SCOPES


def test_socket_and_http_manifests_differ_only_in_transport() -> None:
    socket, http = load("manifest.yml"), load("manifest.http.yml")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    urls = {
        http["features"]["slash_commands"][0]["url"],
        http["settings"]["interactivity"]["request_url"],
        http["settings"]["event_subscriptions"]["request_url"],
    }
    assert len(urls) == 1 and next(iter(urls)).endswith("/slack/events")
    assert "url" not in socket["features"]["slash_commands"][0]
    assert "request_url" not in socket["settings"]["interactivity"]
    assert socket["oauth_config"] == http["oauth_config"]


def test_every_scope_is_used_by_code() -> None:
    code = "\n".join(
        p.read_text() for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py") if p.name != "scopes.py"
    )
    for scope, uses in SCOPE_USES.items():
        assert any(use in code for use in uses), f"{scope}: none of {uses} is called by the bot"


def test_every_manifest_command_is_registered() -> None:
    from slack_bolt.async_app import AsyncApp

    import handlers.commands
    from handlers.router import Router

    registered: list[str] = []

    class Recorder:
        def command(self, name: str):
            registered.append(name)
            return lambda fn: fn

    handlers.commands.register(Recorder(), worker=None, router=Router())  # type: ignore[arg-type]
    assert AsyncApp is not None
    assert {c["command"] for c in load("manifest.yml")["features"]["slash_commands"]} <= set(registered)
