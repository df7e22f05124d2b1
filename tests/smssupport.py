"""A local HTTP peer for the SMS gateway tests: records each request, answers from a script."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Seen:
    """One request as it arrived on the wire."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        """The query string decoded (one value a name)."""
        return dict(parse_qsl(self.raw_query, keep_blank_values=True))

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


Answer = tuple[int, Any]


@dataclass
class Peer:
    """What the peer saw and what it answers next (the last answer repeats)."""

    url: str
    seen: list[Seen] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    # Runs for each request before answering (e.g. to hold it while a second sender tries).
    on_request: Callable[[Seen], None] | None = None

    def next_answer(self) -> Answer:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@contextmanager
def http_peer(*answers: Answer) -> Iterator[Peer]:
    """A real HTTP/1.1 server on 127.0.0.1 in a thread, answering JSON bodies."""
    peer = Peer(url="", answers=list(answers) or [(200, {})])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            seen = Seen(
                method=self.command,
                path=parts.path,
                raw_query=parts.query,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            with lock:
                peer.seen.append(seen)
            if peer.on_request is not None:
                peer.on_request(seen)
            with lock:
                status, payload = peer.next_answer()
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:  # keep pytest's output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    peer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
