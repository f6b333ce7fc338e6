"""The Admin API stand-in itself: lifecycle, the requests it received, faults to inject, and dispatch."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.anthropic.errors import ApiError, bad, error_payload
from bot.sandbox.anthropic.faults import Fault, fault_body, take_fault
from bot.sandbox.anthropic.paging import always_more, without_cursor
from bot.sandbox.anthropic.rate_limits import RateLimitSeed
from bot.sandbox.anthropic.records import AdminRequest
from bot.sandbox.anthropic.request import Req
from bot.sandbox.anthropic.routes import route
from bot.sandbox.anthropic.seed import AdminSeed
from bot.sandbox.anthropic.seed_analytics import AnalyticsSeed
from bot.sandbox.anthropic.transport import Handler, Server
from bot.sandbox.anthropic.vocab import DEFAULT_ADMIN_KEY


class AnthropicStandIn(AdminSeed, AnalyticsSeed, RateLimitSeed):
    """Stateful Admin API stand-in. See the package docstring for the behaviour it implements."""

    def __init__(self, *, admin_key: str = DEFAULT_ADMIN_KEY, latency: float = 0.0, port: int = 0) -> None:
        super().__init__()
        self.admin_key = admin_key
        self._port = port
        self.latency = latency  # seconds slept (outside the lock) before every response; settable at runtime
        self.busy_seconds = 0.0  # time spent computing answers, on top of `latency` (benchmarks report it)
        self._req_seq = itertools.count(1)
        self._requests: deque[AdminRequest] = deque(maxlen=200_000)
        self._faults: list[Fault] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> AnthropicStandIn:
        """Serve on 127.0.0.1 in a background thread (a no-op when already started)."""
        if self._server is not None:
            return self
        self._server = Server(self._serve, self._port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="anthropic-standin",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_all()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AnthropicStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the stand-in listens on."""
        if self._server is None:
            raise RuntimeError("stand-in is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The base URL to hand the anthropic client."""
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------------ request records

    @property
    def requests(self) -> list[AdminRequest]:
        """Every request recorded so far."""
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    def matching(self, method: str | None = None, path: str | re.Pattern[str] | None = None) -> list[AdminRequest]:
        """Recorded requests with this method and a path that fully matches ``path`` (a literal or regex)."""
        pattern = re.compile(path) if isinstance(path, str) else path
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (pattern is None or pattern.fullmatch(r.path) is not None)
        ]

    def count(self, method: str | None = None, path: str | re.Pattern[str] | None = None) -> int:
        """How many recorded requests match (see :meth:`matching`)."""
        return len(self.matching(method, path))

    def wait_for(
        self,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[AdminRequest], bool] | None = None,
    ) -> list[AdminRequest]:
        """Poll until at least ``count`` matching requests were recorded; TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.matching(method, path) if predicate is None or predicate(r)]
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"saw {len(found)}/{count} requests for {method} {path} within {timeout}s")
            time.sleep(0.01)

    # ------------------------------------------------------------------------- fault injection

    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: int | None = 429,
        headers: dict[str, str] | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
        delay: float = 0.0,
        times: int = 1,
        reset_connection: bool = False,
        malformed_json: bool = False,
        content_type: str | None = None,
        repeat_cursor: bool = False,
        applied: bool = False,
    ) -> None:
        """Queue a fault for the next ``times`` requests whose method matches and path ``re.search``-es.

        ``status=None`` is a pass-through fault: sleep ``delay`` and then serve normally.
        ``malformed_json`` sends a truncated JSON body with ``status`` (use ``status=200`` for a "success").
        ``reset_connection`` aborts the TCP connection (RST) without any response.
        ``content_type`` overrides the response Content-Type (e.g. "text/html" for a proxy error page).
        ``repeat_cursor`` (with ``status=None``) answers a listing page as if no cursor had been sent, with
        ``has_more`` set: a server stuck handing out the same page and cursor.
        ``applied`` serves the request first, so a write takes effect, and then answers with the fault (a
        timeout or 5xx after the server committed: the client can't tell whether the write happened).
        """
        with self._lock:
            self._faults.append(
                Fault(
                    method=method.upper(),
                    pattern=re.compile(path_regex),
                    status=status,
                    headers=dict(headers or {}),
                    error_type=error_type,
                    error_code=error_code,
                    delay=delay,
                    times=times,
                    reset_connection=reset_connection,
                    malformed_json=malformed_json,
                    content_type=content_type,
                    repeat_cursor=repeat_cursor,
                    applied=applied,
                )
            )

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    # ------------------------------------------------------------------------------- dispatch

    def _serve(self, http: Handler) -> None:
        split = urlsplit(http.path)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in http.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = http.rfile.read(length) if length else b""
        body: Any = None
        body_error = False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body, body_error = raw.decode("utf-8", "replace"), True
        method = http.command.upper()
        with self._lock:
            self._requests.append(AdminRequest(method, path, query, headers, body, time.time()))
            request_id = f"req_standin_{next(self._req_seq):010d}"
            fault = take_fault(self._faults, method, path)
        extra = {"request-id": request_id}

        pause = self.latency + (fault.delay if fault else 0.0)
        if pause > 0:
            time.sleep(pause)
        if fault is not None and fault.applied:
            self._respond(method, path, query, headers, body, body_error, request_id)
        if fault is not None and fault.reset_connection:
            http.reset()
            return
        if fault is not None and fault.status is not None:
            payload = fault_body(fault, fault.status, request_id)
            http.write(fault.status, payload, {**extra, **fault.headers}, fault.content_type)
            return

        repeat = fault is not None and fault.repeat_cursor
        served = without_cursor(query) if repeat else query
        status, payload = self._respond(method, path, served, headers, body, body_error, request_id)
        if repeat and status == 200:
            payload = always_more(payload)
        http.write(status, payload, extra)

    def _respond(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
        body_error: bool,
        request_id: str,
    ) -> tuple[int, bytes]:
        try:
            if headers.get("authorization") != f"Bearer {self.admin_key}":
                raise ApiError(401, "authentication_error", "invalid bearer token")
            if body_error:
                raise bad("Request body is not valid JSON")
            handler, params = route(method, path)
            req = Req(method, path, query, headers, body)
            with self._lock:
                started = time.perf_counter()  # the lock taken: its waits are other requests' busy time
                result = handler(self, req, **params)
                busy = time.perf_counter() - started
            started = time.perf_counter()
            answer = json.dumps(result).encode()
            busy += time.perf_counter() - started
            with self._lock:
                self.busy_seconds += busy
            return 200, answer
        except ApiError as err:
            return err.status, error_payload(err, request_id)
