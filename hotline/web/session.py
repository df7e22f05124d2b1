"""Sign-in for the staff pages: server-side sessions, CSRF tokens bound to them, flash messages.

A signed-in session is a `web_session` row (hotline.services.web_sessions); the cookie,
HMAC-signed under `SECRET_KEY`, carries only its random key and one-shot flash messages.
Every request looks the row up (one indexed query that also reads the user), so sign-out,
a password change, disabling the account and an admin's 全部登出 end it on every worker at
the next request. A session ends after `SESSION_IDLE_MINUTES` without real activity, measured
on the server: background refreshes (`X-Hotline-Poll`) are served but neither count as
activity nor keep it alive. The idle end is a convenience (a client can omit the header); the
security boundary is sign-out/revocation and the absolute `SESSION_MAX_HOURS`.

Before sign-in the cookie holds only a random CSRF token for the sign-in form: no row is
written for visitors who never sign in. A signed-in session's CSRF token is an HMAC of its
key, so it dies with the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders, Secret
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.domain.auth import Principal
from hotline.services import web_sessions
from hotline.services.web_sessions import LiveSession, SessionPolicy

if TYPE_CHECKING:
    from hotline.runtime.config import Settings

log = logging.getLogger("hotline.session")

COOKIE = "hotline_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Background refreshes (htmx polling) send this header: they are served, but they neither
# count as activity nor keep a session alive, so an unattended screen still signs out.
POLL_HEADER = "x-hotline-poll"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class SessionSettings:
    """How sessions are signed and how long they live."""

    secret: Secret
    idle_minutes: float = 30.0
    max_hours: float = 12.0
    secure: bool = False
    generated: bool = False  # the secret was made up at start: sessions end at restart

    @property
    def policy(self) -> SessionPolicy:
        """The idle and absolute limits as the session service takes them."""
        return web_sessions.policy_for(idle_minutes=self.idle_minutes, max_hours=self.max_hours)

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionSettings:
        """SECRET_KEY, SESSION_IDLE_MINUTES and SESSION_MAX_HOURS; Secure for https."""
        secret = settings.secret_key
        generated = secret is None or not str(secret)
        if generated:
            log.warning(
                "SECRET_KEY is not set: using a random key, so every session ends when the "
                "service restarts (and several workers do not share sessions). Set SECRET_KEY."
            )
            secret = Secret(secrets.token_urlsafe(32))
        assert secret is not None
        return cls(
            secret=secret,
            idle_minutes=settings.session_idle_minutes,
            max_hours=settings.session_max_hours,
            secure=urlsplit(settings.public_base_url).scheme == "https",
            generated=generated,
        )


def now_utc() -> datetime:
    """The clock sessions are measured by (time.time, so tests can move it)."""
    return datetime.fromtimestamp(time.time(), UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(data: dict[str, Any], secret: Secret) -> str:
    """The cookie value for a session dict."""
    body = _b64(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    mac = hmac.new(str(secret).encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(value: str, secret: Secret) -> dict[str, Any] | None:
    """The session dict of a cookie value, or None when it is forged or malformed."""
    body, _, mac = value.partition(".")
    if not body or not mac:
        return None
    expected = hmac.new(str(secret).encode(), body.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        data = json.loads(_unb64(body))
    except (ValueError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def new_session() -> dict[str, Any]:
    """A fresh anonymous session: only a CSRF token (the sign-in form needs one)."""
    return {"csrf": secrets.token_urlsafe(24)}


class Session(dict[str, Any]):
    """The cookie data of one request; handlers mutate it and the middleware writes it back.

    `live` is the server-side session when someone is signed in (the cookie then holds its
    key under "sid").
    """

    modified = False
    live: LiveSession | None = None
    secret: Secret | None = None

    def mark(self) -> None:
        """Note that the cookie must be rewritten."""
        self.modified = True

    def reset(self) -> None:
        """Become a fresh anonymous session (the old key and CSRF token are forgotten)."""
        self.clear()
        self.update(new_session())
        self.live = None
        self.mark()

    @property
    def csrf(self) -> str:
        """Signed in: an HMAC of the session key, so the token ends with the session."""
        if self.live is not None and self.secret is not None:
            mac = hmac.new(
                str(self.secret).encode(), b"csrf:" + str(self["sid"]).encode(), hashlib.sha256
            )
            return _b64(mac.digest())
        return str(self["csrf"])


def session_of(request: HTTPConnection) -> Session:
    """This request's session (always present behind SessionMiddleware)."""
    return request.state.session  # type: ignore[no-any-return]


def session_settings_of(request: HTTPConnection) -> SessionSettings:
    """The settings the middleware runs with."""
    return request.state.session_settings  # type: ignore[no-any-return]


def current_session_id(request: HTTPConnection) -> int | None:
    """The `web_session` row of this request, when signed in."""
    session = getattr(request.state, "session", None)
    live = session.live if session is not None else None
    return live.id if live is not None else None


def csrf_token(request: HTTPConnection) -> str:
    """The CSRF token forms and same-origin fetches must send back."""
    return session_of(request).csrf


def csrf_ok(request: HTTPConnection, sent: str | None) -> bool:
    """Whether `sent` is this session's CSRF token."""
    expected = session_of(request).csrf
    return bool(sent and expected) and hmac.compare_digest(str(sent), expected)


async def sign_in(request: HTTPConnection, principal: Principal) -> None:
    """Start a server-side session (new key and CSRF token: nothing from before carries over)."""
    session = session_of(request)
    now = now_utc()
    if session.live is not None:  # signing in again over a live session: end the old one
        await web_sessions.revoke_session(session.live.id, now=now)
    key, row_id = await web_sessions.start_session(
        user_id=principal.user_id,
        now=now,
        policy=session_settings_of(request).policy,
        user_agent=request.headers.get("user-agent", ""),
        address=request.client.host if request.client else "",
    )
    session.clear()
    session["sid"] = key
    session.live = LiveSession(row_id, principal, now)
    session.mark()
    request.state.session_principal = principal


async def sign_out(request: HTTPConnection) -> None:
    """End the session on the server; the browser gets a fresh anonymous one."""
    session = session_of(request)
    if session.live is not None:
        await web_sessions.revoke_session(session.live.id, now=now_utc())
    session.reset()
    request.state.session_principal = None


def flash(request: HTTPConnection, message: str, kind: str = "ok") -> None:
    """A message to show once on the next page."""
    session = session_of(request)
    session.setdefault("flash", []).append([kind, message])
    session.mark()


def take_flashes(request: HTTPConnection) -> list[tuple[str, str]]:
    """The waiting flash messages, removed from the session."""
    session = session_of(request)
    items = session.pop("flash", None) or []
    if items:
        session.mark()
    return [(str(k), str(m)) for k, m in items]


class SessionMiddleware:
    """Read the session cookie, find its server-side session and user, write the cookie back.

    Unsafe API requests authenticated by the session (no bearer token) must carry the
    session's CSRF token in `X-CSRF-Token`; page forms check their hidden field themselves.
    `request.state.session_expired` says why a presented session ended ("idle", "lifetime",
    "revoked") or is False.
    """

    def __init__(self, app: ASGIApp, settings: SessionSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Open311 clients are machines with an api_key: no session, no cookie to set.
        if scope["type"] != "http" or scope["path"].startswith(("/static/", "/open311/")):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        now = now_utc()
        raw = conn.cookies.get(COOKIE)
        data = unsign(raw, self.settings.secret) if raw else None
        session = Session()
        session.secret = self.settings.secret
        ended: str | bool = False
        if data is not None and isinstance(data.get("sid"), str):
            found = await web_sessions.find_session(
                data["sid"], now=now, policy=self.settings.policy
            )
            if found.session is not None:
                session.update(data)
                session.live = found.session
            else:
                ended = str(found.ended)
        elif data is not None and isinstance(data.get("csrf"), str) and "uid" not in data:
            session.update(data)  # anonymous; a pre-upgrade cookie ("uid") is not honoured
        if session.live is None and "csrf" not in session:
            session.reset()
        live = session.live
        if (
            live is not None
            and POLL_HEADER not in conn.headers
            and web_sessions.needs_touch(live, now=now)
        ):
            await web_sessions.touch(live.id, now=now)
        state = scope.setdefault("state", {})
        state["session"] = session
        state["session_settings"] = self.settings
        state["session_principal"] = live.principal if live is not None else None
        state["session_expired"] = ended

        if (
            live is not None
            and scope["method"] in UNSAFE
            and scope["path"].startswith("/api/")
            and not conn.headers.get("authorization")
            and not csrf_ok(conn, conn.headers.get(CSRF_HEADER))
        ):
            response = JSONResponse(
                {
                    "error": {
                        "code": "csrf_failed",
                        "message": "缺少或错误的 CSRF 令牌：请刷新页面后重试",
                    }
                },
                status_code=403,
            )
            await response(scope, receive, self._sender(send, session))
            return
        await self.app(scope, receive, self._sender(send, session))

    def _sender(self, send: Send, session: Session) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start" and session.modified:
                headers = MutableHeaders(scope=message)
                headers.append("Set-Cookie", self._cookie(session))
            await send(message)

        return wrapped

    def _cookie(self, session: Session) -> str:
        value = sign(dict(session), self.settings.secret)
        parts = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if self.settings.secure:
            parts.append("Secure")
        return "; ".join(parts)
