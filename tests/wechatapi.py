"""A local server that plays the WeChat official-account API for the push tests.

It speaks as api.weixin.qq.com does: `POST /cgi-bin/stable_token` checks the AppID and
AppSecret and hands out a token with its lifetime; `POST /cgi-bin/message/custom/send`
checks the token (errcode 40001 for an unknown or revoked one) and the body, and records the
message; followers can be set to answer as WeChat does for them (45015: out of the 48-hour
window, 43004: unfollowed).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

APPID = "wx1234567890abcdef"
SECRET = "s3cr3t-app-secret-0123456789abcd"


@dataclass
class WeChatApiServer:
    """What the server saw, and how it answers."""

    url: str = ""
    tokens: list[str] = field(default_factory=list)  # issued, the valid ones
    token_requests: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)  # accepted messages
    refusals: dict[str, int] = field(default_factory=dict)  # openid → errcode
    busy: int = 0  # answer -1 (system busy) this many times

    def revoke_tokens(self) -> None:
        """As when another party forced a refresh: every token issued so far is invalid."""
        self.tokens.clear()

    def answer(
        self, path: str, query: dict[str, list[str]], body: dict[str, Any]
    ) -> dict[str, Any]:
        if path == "/cgi-bin/stable_token":
            self.token_requests += 1
            if body.get("grant_type") != "client_credential":
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            if body.get("appid") != APPID or body.get("secret") != SECRET:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = f"TOKEN-{self.token_requests}"
            self.tokens.append(token)
            return {"access_token": token, "expires_in": 7200}
        if path == "/cgi-bin/message/custom/send":
            if self.busy:
                self.busy -= 1
                return {"errcode": -1, "errmsg": "system error"}
            if query.get("access_token", [""])[0] not in self.tokens:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            if body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
                return {"errcode": 40008, "errmsg": "invalid message type"}
            openid = str(body.get("touser") or "")
            if openid in self.refusals:
                return {"errcode": self.refusals[openid], "errmsg": "refused"}
            self.sent.append(body)
            return {"errcode": 0, "errmsg": "ok"}
        return {"errcode": 40066, "errmsg": "invalid url"}


@contextmanager
def wechat_api() -> Iterator[WeChatApiServer]:
    """The server on 127.0.0.1 in a thread, for the length of the block."""
    server_state = WeChatApiServer()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            raw = self.rfile.read(length) if length else b"{}"
            with lock:
                payload = server_state.answer(parts.path, parse_qs(parts.query), json.loads(raw))
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(200)  # WeChat answers errors with 200 and an errcode
            self.send_header("Content-Type", "application/json; encoding=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
