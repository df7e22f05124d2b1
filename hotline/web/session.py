"""Sign-in for the staff pages: a signed session cookie, CSRF tokens and a login throttle.

The session is a cookie signed with HMAC-SHA256 under `SECRET_KEY` (no server-side store, so
any number of web workers can read it). It holds the user id, a CSRF token, the time of the
last activity and one-shot flash messages. Every request re-reads the user, so a disabled
account is signed out at its next click. Idle sessions end after `SESSION_IDLE_MINUTES`.
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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders, Secret
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.auth import Principal
from hotline.models import User
from hotline.services.users import principal_of

if TYPE_CHECKING:
    from hotline.config import Settings

log = logging.getLogger("hotline.session")

COOKIE = "hotline_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Background refreshes (htmx polling) send this header: they do not count as activity,
# so an unattended screen still signs out after the idle time.
POLL_HEADER = "x-hotline-poll"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Rewrite the cookie's activity time at most this often (seconds).
TOUCH_EVERY = 30


@dataclass(frozen=True)
class SessionSettings:
    """How sessions are signed and how long they live."""

    secret: Secret
    idle_minutes: float = 30.0
    secure: bool = False
    generated: bool = False  # the secret was made up at start: sessions end at restart

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionSettings:
        """SECRET_KEY and SESSION_IDLE_MINUTES as resolved at start-up; Secure for https."""
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
            secure=urlsplit(settings.public_base_url).scheme == "https",
            generated=generated,
        )


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
    return {"csrf": secrets.token_urlsafe(24), "seen": int(time.time())}


class Session(dict[str, Any]):
    """The session of one request; handlers mutate it and the middleware writes it back."""

    modified = False
    cleared = False

    def mark(self) -> None:
        """Note that the cookie must be rewritten."""
        self.modified = True


def session_of(request: HTTPConnection) -> Session:
    """This request's session (always present behind SessionMiddleware)."""
    return request.state.session  # type: ignore[no-any-return]


def csrf_token(request: HTTPConnection) -> str:
    """The CSRF token forms and same-origin fetches must send back."""
    return str(session_of(request)["csrf"])


def csrf_ok(request: HTTPConnection, sent: str | None) -> bool:
    """Whether `sent` is this session's CSRF token."""
    expected = session_of(request).get("csrf")
    return bool(sent and expected) and hmac.compare_digest(str(sent), str(expected))


def sign_in(request: HTTPConnection, principal: Principal) -> None:
    """Start a signed-in session (new CSRF token: nothing from before sign-in carries over)."""
    session = session_of(request)
    session.clear()
    session.update(new_session())
    session["uid"] = principal.user_id
    request.state.session_principal = principal
    session.mark()


def sign_out(request: HTTPConnection) -> None:
    """End the session; the browser gets a fresh anonymous one."""
    session = session_of(request)
    session.clear()
    session.update(new_session())
    request.state.session_principal = None
    session.mark()


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
    """Read and verify the session cookie, load the signed-in user, write the cookie back.

    Unsafe API requests authenticated by the session (no bearer token) must carry the
    session's CSRF token in `X-CSRF-Token`; page forms check their hidden field themselves.
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
        now = int(time.time())
        raw = conn.cookies.get(COOKIE)
        data = unsign(raw, self.settings.secret) if raw else None
        session = Session()
        expired = False
        if data is not None and "csrf" in data:
            idle = now - int(data.get("seen", 0))
            if idle > self.settings.idle_minutes * 60:
                expired = "uid" in data
                data = None
        if data is None:
            session.update(new_session())
            session.mark()
        else:
            session.update(data)
        principal = None
        if "uid" in session:
            principal = await _principal(int(session["uid"]))
            if principal is None:  # disabled or deleted since sign-in
                session.clear()
                session.update(new_session())
                session.mark()
                expired = True
        polling = POLL_HEADER in conn.headers
        if (
            principal is not None
            and not polling
            and now - int(session.get("seen", 0)) >= TOUCH_EVERY
        ):
            session["seen"] = now
            session.mark()
        state = scope.setdefault("state", {})
        state["session"] = session
        state["session_principal"] = principal
        state["session_expired"] = expired

        if (
            principal is not None
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


async def _principal(user_id: int) -> Principal | None:
    user = await User.get_or_none(id=user_id, active=True).prefetch_related("unit")
    return principal_of(user) if user is not None else None
