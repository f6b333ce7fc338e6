"""The HTTP side of the Slack stand-in: a threading HTTP/1.1 server and what a route answers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: ``route(http_method, path, headers, body)``: the stand-in's answer to one request.
Route = Callable[[str, str, dict[str, str], bytes], "Answer"]


@dataclass
class Answer:
    """What a route answers: status, body, content type and headers (``payload`` is what is recorded)."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    payload: Any = None

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Answer:
        """A JSON answer."""
        return cls(status, json.dumps(payload).encode(), headers=headers or {}, payload=payload)

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Answer:
        """A plain-text answer."""
        return cls(status, text.encode(), content_type=content_type, payload=text)


class Server(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections so ``stop`` can drop them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], route: Route) -> None:
        self.route = route
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, RequestHandler)


class RequestHandler(BaseHTTPRequestHandler):
    """One connection: reads a request (also chunked) and writes the route's answer."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections end after this
    server: Server

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return

    def _dispatch(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.route(self.command, self.path, headers, body)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. during a delay)
            self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""
