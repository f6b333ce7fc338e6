"""The HTTP edge under hostile input, over loopback: bodies read with a limit and a deadline, signatures checked
before anything parses, only the served team answered, slow clients cut off, refusals logged once and counted.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from bot import http as edge
from bot.http import BotTokenError, create_web_app, gates
from bot.http import server as http_server
from tests.botserver import BotServer, command_body, signed_headers
from tests.conftest import make_settings

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


@pytest.fixture(autouse=True)
def fresh_refusal_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gates, "REFUSALS", gates.RefusalLog())


def _serve(settings, deps) -> BotServer:
    from bot.app import create_app

    return BotServer(create_web_app(create_app(settings, deps), deps)).start()


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


def _metric(client: httpx.Client, url: str, line_start: str) -> float:
    for line in client.get(f"{url}/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# --- 4: only the served team --------------------------------------------------------------------------------


def _other_team_command(team_id: str, enterprise_id: str | None = None) -> str:
    body = command_body("help").replace("team_id=T0STANDIN", f"team_id={team_id}")
    return body + (f"&enterprise_id={enterprise_id}" if enterprise_id else "")


def test_a_signed_request_from_another_team_gets_401_and_runs_nothing(
    bot_url: str, client: httpx.Client, slack_standin
) -> None:
    slack_standin.reset_calls()
    body = _other_team_command("T0OTHER")
    response = client.post(f"{bot_url}/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 401
    assert "Claude key bot" not in response.text
    assert slack_standin.calls == []
    own = command_body("help")
    assert client.post(f"{bot_url}/slack/events", content=own, headers=signed_headers(own)).status_code == 200


def test_an_enterprise_grid_id_serves_its_teams_only(
    slack_standin, anthropic_standin, sqlite_url: str, client: httpx.Client
) -> None:
    from bot.deps import build_deps

    settings = make_settings(slack_standin, anthropic_standin, sqlite_url, slack_team_id="E0GRID")
    deps = build_deps(settings)
    server = _serve(settings, deps)
    try:
        for body, status in [
            (_other_team_command("T0SISTER", "E0GRID"), 200),
            (_other_team_command("T0STANDIN"), 401),  # the token's own team, but not in the grid
            (_other_team_command("T0SISTER", "E0OTHER"), 401),
        ]:
            response = client.post(f"{server.url}/slack/events", content=body, headers=signed_headers(body))
            assert response.status_code == status, body
    finally:
        server.stop()
        deps.close()


def test_slack_team_id_must_look_like_a_team_or_grid_id(slack_standin, anthropic_standin, sqlite_url) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not a workspace"):
        make_settings(slack_standin, anthropic_standin, sqlite_url, slack_team_id="acme")


# --- 18: the bot token is checked at start ------------------------------------------------------------------


def test_a_bad_bot_token_is_refused_at_start(slack_standin, anthropic_standin, sqlite_url: str) -> None:
    from bot.app import create_app
    from bot.deps import build_deps

    settings = make_settings(slack_standin, anthropic_standin, sqlite_url, slack_bot_token="xoxb-not-a-real-one")
    deps = build_deps(settings)
    try:
        with pytest.raises(BotTokenError, match=r"^SLACK_BOT_TOKEN .*invalid_auth"):
            create_web_app(create_app(settings, deps), deps)
    finally:
        deps.close()


def test_run_http_with_a_bad_token_exits_with_one_line_naming_it(slack_standin, anthropic_standin, tmp_path) -> None:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-not-a-real-one",
        "SLACK_SIGNING_SECRET": "a-signing-secret",
        "SLACK_API_URL": slack_standin.base_url,
        "ANTHROPIC_ADMIN_KEY": anthropic_standin.admin_key,
        "ANTHROPIC_BASE_URL": anthropic_standin.base_url,
        "ADMIN_CHANNEL_ID": "C0ADMIN",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SCHEDULER_ENABLED": "false",
        "PORT": "1",  # never bound: the check comes first
    }
    done = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "claude-key-bot"), "run", "--http"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if "SLACK_BOT_TOKEN" in line]
    assert lines == ["claude-key-bot cannot start: SLACK_BOT_TOKEN was refused by Slack's auth.test (invalid_auth)"]
    assert "xoxb-not-a-real-one" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_auth_test_failing_after_start_never_answers_500(bot_url: str, client: httpx.Client, slack_standin) -> None:
    slack_standin.reset_calls()  # the one call at start
    slack_standin.inject("auth.test", error="invalid_auth", times=5)
    body = command_body("help")
    response = client.post(f"{bot_url}/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    assert "Claude key bot commands" in response.text
    assert slack_standin.calls_to("auth.test") == []


# --- 6: the body limit holds for chunked bodies -------------------------------------------------------------


def _raw_request(url: str, head: bytes, chunks: Iterator[bytes]) -> bytes:
    """Send `head` then `chunks` until the server answers or closes; return what it answered."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
        except (ConnectionResetError, TimeoutError):
            pass
        return received


def _chunked(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    piece = b"a" * size
    for _ in range(total // size):
        yield b"%x\r\n" % size + piece + b"\r\n"
    yield b"0\r\n\r\n"


@pytest.mark.parametrize("with_length", [False, True])
def test_a_body_over_the_limit_is_refused_while_it_streams(bot_url: str, with_length: bool) -> None:
    headers = signed_headers("x")
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + f"X-Slack-Request-Timestamp: {headers['X-Slack-Request-Timestamp']}\r\n".encode()
        + f"X-Slack-Signature: {headers['X-Slack-Signature']}\r\n".encode()
    )
    total = 8 * edge.MAX_BODY_BYTES
    if with_length:
        piece = b"a" * 65536
        body = (piece for _ in range(total // len(piece)))
        answer = _raw_request(bot_url, head + f"Content-Length: {total}\r\n\r\n".encode(), body)
    else:
        answer = _raw_request(bot_url, head + b"Transfer-Encoding: chunked\r\n\r\n", _chunked(total, 4096))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


# --- 7: nothing parses an unverified body -------------------------------------------------------------------

UNSIGNED = [
    ("payload=x", FORM),
    ("payload=%7B", FORM),
    ("{", "application/json"),
    (b"payload=\xff\xfe\x80", FORM),
    ("", FORM),
]


@pytest.mark.parametrize(("body", "content_type"), UNSIGNED)
@pytest.mark.parametrize("timestamp", ["now", "abc", "9" * 5000, "-1", "\uff11\uff12\uff13"])
def test_malformed_unsigned_bodies_get_401_without_a_traceback(
    bot_url: str, client: httpx.Client, caplog: pytest.LogCaptureFixture, body, content_type: str, timestamp: str
) -> None:
    ts = str(int(time.time())) if timestamp == "now" else timestamp
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + "0" * 64}
    raw = body if isinstance(body, bytes) else body.encode()
    response = client.post(
        f"{bot_url}/slack/events", content=raw, headers={k.encode(): v.encode() for k, v in headers.items()}
    )
    assert response.status_code in (400, 401)
    _no_tracebacks(caplog)


@pytest.mark.parametrize(
    "body",
    [
        "payload=x",
        "payload=%7B",
        "payload=%5B%5D",
        "a=%ZZ&payload",
        "{=1&team_id=T0STANDIN",
        "payload=" + quote(json.dumps({"type": "block_actions", "team": ["id"]})),
        "payload=" + quote(json.dumps({"type": "block_actions", "team": {"id": "T0STANDIN"}, "user": 5})),
    ],
)
def test_signed_but_unparseable_bodies_get_400(
    bot_url: str, client: httpx.Client, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    response = client.post(f"{bot_url}/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 400
    _no_tracebacks(caplog)


def _click(payload_changes: dict, response_url: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ADMIN", "team_id": "T0STANDIN"},
        "team": {"id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "response_url": response_url,
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0ADMIN"},
        "actions": [{"type": "button", "action_id": "approve_request", "block_id": "b", "value": "{}"}],
    }
    payload.update(payload_changes)
    return "payload=" + quote(json.dumps(payload))


@pytest.mark.parametrize(
    "changes",
    [
        {"actions": {}},
        {"actions": []},
        {"actions": [{}]},
        {"actions": ["x"]},
        {"actions": [{"action_id": {"a": 1}}]},
        {"state": {"values": []}},
        {"state": {"values": []}, "actions": {}},
    ],
    ids=["actions-dict", "actions-empty", "action-empty", "action-str", "action-id-dict", "values-list", "both"],
)
def test_signed_oddly_shaped_clicks_get_the_stale_button_answer(
    bot_url: str, client: httpx.Client, slack_standin, caplog: pytest.LogCaptureFixture, changes: dict
) -> None:
    from handlers.middleware import STALE_BUTTON

    response_url = slack_standin.new_response_url()
    body = _click(changes, response_url)
    response = client.post(f"{bot_url}/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    answered = slack_standin.wait_for_response(timeout=10)
    assert [r.body.get("text") for r in answered] == [STALE_BUTTON]
    _no_tracebacks(caplog)


@pytest.mark.parametrize(
    "view",
    [
        [],
        {"callback_id": {"x": 1}},
        {"callback_id": "spend_approve_modal", "state": {"values": []}},
        {"callback_id": "request_modal", "state": {"values": [1]}},
    ],
    ids=["view-list", "callback-dict", "spend-values-list", "request-values-list"],
)
def test_signed_oddly_shaped_submissions_are_acked(
    bot_url: str, client: httpx.Client, caplog: pytest.LogCaptureFixture, view
) -> None:
    payload = {"type": "view_submission", "user": {"id": "U0ADMIN"}, "team": {"id": "T0STANDIN"}, "view": view}
    body = "payload=" + quote(json.dumps(payload))
    response = client.post(f"{bot_url}/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    _no_tracebacks(caplog)


def test_a_signed_event_without_an_event_gets_400(bot_url: str, client: httpx.Client) -> None:
    body = json.dumps({"type": "event_callback", "team_id": "T0STANDIN", "event_id": "Ev1", "event": []})
    headers = signed_headers(body, content_type="application/json")
    assert client.post(f"{bot_url}/slack/events", content=body, headers=headers).status_code == 400


def test_only_a_post_takes_the_fast_path_other_methods_and_paths_answer_as_routes_do(
    bot_url: str, client: httpx.Client
) -> None:
    body = command_body("help")
    acked = client.post(f"{bot_url}/slack/events", content=body, headers=signed_headers(body))
    assert acked.status_code == 200 and acked.headers["content-type"].startswith("application/json")
    assert int(acked.headers["content-length"]) == len(acked.content)
    assert "server" not in acked.headers  # the server software is not advertised
    assert client.get(f"{bot_url}/slack/events").status_code == 405
    assert client.put(f"{bot_url}/slack/events", content=body, headers=signed_headers(body)).status_code == 405
    assert client.post(f"{bot_url}/slack/other", content=body, headers=signed_headers(body)).status_code == 404
    assert client.post(f"{bot_url}/slack/events?x=1", content=body, headers=signed_headers(body)).status_code == 200
    refused = client.post(f"{bot_url}/slack/events", content=body, headers=signed_headers(body, secret="wrong"))
    assert (refused.status_code, refused.json()) == (401, {"error": "bad_signature"})


# --- 8: slow clients ----------------------------------------------------------------------------------------


def test_300_half_sent_requests_do_not_stop_healthz(
    monkeypatch: pytest.MonkeyPatch, settings, deps, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(http_server, "HEADER_READ_SECONDS", 2.0)
    server = _serve(settings, deps)
    host, port = server.url.removeprefix("http://").split(":")
    held: list[socket.socket] = []
    try:
        for _ in range(300):
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Le")
            held.append(sock)
        health = client.get(f"{server.url}/healthz")
        assert health.status_code == 200
        # The server closes every one of them at the header deadline.
        deadline = time.monotonic() + 30
        for sock in held:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            assert sock.recv(1024) == b""
        lines = [r.getMessage() for r in caplog.records if "slow_headers" in r.getMessage()]
        assert len(lines) == 1
    finally:
        for sock in held:
            sock.close()
        server.stop()


def test_a_body_that_stops_arriving_gets_408(monkeypatch: pytest.MonkeyPatch, settings, deps) -> None:
    monkeypatch.setattr(gates, "BODY_READ_SECONDS", 1.0)
    server = _serve(settings, deps)
    try:
        head = (
            b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        answer = _raw_request(server.url, head, iter([b"{"]))
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    finally:
        server.stop()


def test_a_body_that_came_with_its_headers_is_taken_in_one_receive(
    monkeypatch: pytest.MonkeyPatch, settings, deps
) -> None:
    seen: list[bool] = []

    def spy(receive):
        seen.append(edge_body_is_in(receive))
        return seen[-1]

    edge_body_is_in = gates._body_is_in
    monkeypatch.setattr(gates, "_body_is_in", spy)
    server = _serve(settings, deps)
    try:
        body = command_body("help")
        headers = signed_headers(body)
        head = (
            "POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body.encode())}\r\n"
            f"X-Slack-Request-Timestamp: {headers['X-Slack-Request-Timestamp']}\r\n"
            f"X-Slack-Signature: {headers['X-Slack-Signature']}\r\n\r\n"
        ).encode()
        answer = _raw_request(server.url, head + body.encode(), iter(()))  # one write, as Slack sends a request
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert seen == [True]  # uvicorn's cycle had the whole body: no deadline was set for it
    finally:
        server.stop()


def test_failed_accepts_are_logged_once_not_once_each(caplog: pytest.LogCaptureFixture) -> None:
    for _ in range(50):
        logging.getLogger("asyncio").error("socket.accept() out of system resource", exc_info=OSError(24, "Too many"))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "refused a request to /slack/events: out_of_files: no file descriptor left to accept a connection (ulimit -n)"
    ]


def test_uvicorn_runs_with_deadlines_and_a_concurrency_limit() -> None:
    options = edge.uvicorn_options()
    assert options["http"] is edge.DeadlineH11Protocol
    assert options["limit_concurrency"] == edge.LIMIT_CONCURRENCY


# --- 19: rejected signatures are logged and counted ---------------------------------------------------------


def test_rejected_signatures_are_logged_once_and_counted_apart_from_acks(
    bot_url: str, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    acks_before = _metric(client, bot_url, "claude_key_bot_ack_seconds_count")
    body = command_body("help")
    for _ in range(20):
        headers = signed_headers(body, secret="the-wrong-secret")
        assert client.post(f"{bot_url}/slack/events", content=body, headers=headers).status_code == 401
    stale = signed_headers(body, timestamp=int(time.time()) - 3600)
    assert client.post(f"{bot_url}/slack/events", content=body, headers=stale).status_code == 401
    lines = [r.getMessage() for r in caplog.records if "refused a request" in r.getMessage()]
    assert lines == [
        "refused a request to /slack/events: bad_signature: signature does not match SLACK_SIGNING_SECRET",
        "refused a request to /slack/events: stale_timestamp: timestamp more than 5 minutes from this server's clock",
    ]
    assert _metric(client, bot_url, 'claude_key_bot_http_refusals_total{reason="bad_signature"}') == 20
    assert _metric(client, bot_url, 'claude_key_bot_http_refusals_total{reason="stale_timestamp"}') == 1
    assert _metric(client, bot_url, "claude_key_bot_ack_seconds_count") == acks_before


def test_the_refusal_log_reports_how_many_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    log = edge.RefusalLog(interval=0.0)
    log.refused("too_large", "first")
    log.interval = 3600.0
    log.refused("too_large", "second")
    log.refused("too_large", "third")
    log.interval = 0.0
    log.refused("too_large", "fourth")
    assert [r.getMessage() for r in caplog.records] == [
        "refused a request to /slack/events: too_large: first",
        "refused a request to /slack/events: too_large: fourth (2 more since the last line)",
    ]
