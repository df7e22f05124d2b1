"""The last line: an exception no handler answered becomes one answer and, at most, one log line.

Starlette's ServerErrorMiddleware answers with the app's 500 handler and then re-raises, so
uvicorn logs the same traceback a second time; this middleware sits inside it and does not
re-raise. A database that does not answer (connection refused or reset, backends terminated,
the database closed to connections, the pool closed, the SQLite file locked or gone) is a 503
with Retry-After, not a 500: the request may well succeed in a moment. Pages get a Chinese
HTML page, the API its JSON error. An outage is logged as it starts, then once per interval
with the count of requests it refused, and once when the database answers again — not a
traceback per request, which buried the one line that mattered under thousands.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import DBConnectionError

from hotline.web.http import error_response

log = logging.getLogger("hotline")

RETRY_AFTER_SECONDS = 30
DB_UNAVAILABLE = "数据库暂时不可用，请稍后重试"
# What a person reads on a page while the database is away: what happened and what to do.
DB_UNAVAILABLE_PAGE = (
    f"系统繁忙：数据库暂时不可用。请约 {RETRY_AFTER_SECONDS} 秒后刷新本页重试，"
    "已填写的内容请先复制保存；如有紧急情况，请直接拨打 12345 热线。"
)
INTERNAL_ERROR = "服务器内部错误，请稍后重试"
INTERNAL_ERROR_PAGE = (
    "服务器内部错误，您的操作可能没有完成。请稍后刷新本页查看结果后再试；如问题持续，请联系管理员。"
)
# Citizens have no administrator to call: they have the hotline.
INTERNAL_ERROR_CITIZEN = (
    "服务器内部错误，您的操作可能没有完成。请稍后刷新本页查看结果后再试；"
    "如有急事，请直接拨打 12345 热线。"
)
CITIZEN_PATHS = ("/track", "/submit")  # citizens' pages: their own layout, nothing of staff
OUTAGE_LOG_INTERVAL = 10.0  # seconds between two lines about one outage
# sqlite3.OperationalError messages that mean "cannot reach the file", not "bad SQL".
_SQLITE_UNAVAILABLE = (
    "unable to open database file",
    "database is locked",
    "disk i/o error",
    "readonly database",
    "database disk image is malformed",
)
_DB_MODULES = ("asyncpg", "tortoise", "aiosqlite", "sqlite3")

try:  # PostgreSQL is optional
    import asyncpg
    from asyncpg import exceptions as pg

    _ASYNCPG_UNAVAILABLE: tuple[type[BaseException], ...] = (
        pg.PostgresConnectionError,  # 08xxx, ConnectionDoesNotExistError among them
        pg.OperatorInterventionError,  # 57xxx: admin shutdown, crash, cannot connect now
        pg.TooManyConnectionsError,
        asyncpg.InterfaceError,  # "pool is closed", "connection is closed", "another operation"
        asyncpg.InternalClientError,  # "cannot switch to state …" on a connection torn down
    )
    # Subclasses of the above that are a statement's or the program's fault, not the server's.
    _ASYNCPG_OWN_FAULT: tuple[type[BaseException], ...] = (
        pg.QueryCanceledError,  # statement_timeout: that statement, not the database
        asyncpg.exceptions._base.DataError,  # a bad query argument (an InterfaceError)
        asyncpg.exceptions.ClientConfigurationError,
        asyncpg.exceptions.OutdatedSchemaCacheError,
    )
    # 55000 is also "currval is not yet defined"; only the refused connection is an outage.
    _ASYNCPG_BY_MESSAGE: tuple[tuple[type[BaseException], str], ...] = (
        (pg.ObjectNotInPrerequisiteStateError, "not currently accepting connections"),
    )
except ImportError:  # pragma: no cover
    _ASYNCPG_UNAVAILABLE = _ASYNCPG_OWN_FAULT = ()
    _ASYNCPG_BY_MESSAGE = ()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes: tortoise wraps driver errors (OperationalError(exc) …)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        # tortoise's OperationalError(exc) keeps the driver's error as an argument as well.
        todo += [a for a in current.args if isinstance(a, BaseException)]
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]


def _raised_in_db_layer(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.split(".")[0] in _DB_MODULES:
            return True
        tb = tb.tb_next
    return False


def _unreachable(e: BaseException) -> bool:
    if isinstance(e, DBConnectionError):
        return True
    if isinstance(e, _ASYNCPG_UNAVAILABLE) and not isinstance(e, _ASYNCPG_OWN_FAULT):
        return True
    for kind, words in _ASYNCPG_BY_MESSAGE:
        if type(e) is kind and words in str(e):
            return True
    if isinstance(e, sqlite3.OperationalError):
        return any(m in str(e).lower() for m in _SQLITE_UNAVAILABLE)
    # Refused, reset, timed out, "Multiple exceptions: [Errno 111] …" while connecting.
    return isinstance(e, OSError) and _raised_in_db_layer(e)


def database_unavailable(exc: BaseException) -> bool:
    """Whether an exception means the database could not be reached (not a bad statement)."""
    return any(_unreachable(e) for e in _chain(exc))


class OutageLog:
    """Logs an outage when it starts, every `interval` seconds with a count, and its end.

    Requests that never touch the database (the sign-in page, a redirect) go on being
    answered during an outage, so the outage is over only once requests are answered and
    none has been refused for a whole interval.
    """

    def __init__(
        self, interval: float = OUTAGE_LOG_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.refused = 0  # since the last line
        self.total = 0  # since the outage started
        self.last_line = 0.0
        self.last_refusal: float | None = None  # None: no outage
        self._lock = threading.Lock()  # the counts are shared by every request of the app

    def refused_request(self, where: str, exc: BaseException) -> None:
        """One request answered 503 because the database is unreachable."""
        with self._lock:
            now = self.clock()
            starting = self.last_refusal is None
            self.last_refusal = now
            self.refused += 1
            self.total += 1
            if not starting and now - self.last_line < self.interval:
                return
            count, since = self.refused, now - self.last_line
            self.refused, self.last_line = 0, now
        # The error's class and text say what is wrong; its traceback (the driver's
        # internals) says nothing more and was repeated per request.
        log.error(
            "database unavailable%s: %d request(s) answered 503%s; latest %s: %s: %s",
            " (outage starts)" if starting else "",
            count,
            "" if starting else f" in the last {since:.0f} s",
            where,
            type(exc).__name__,
            str(exc)[:300],
        )

    def answered(self) -> None:
        """A request was answered; an outage without refusals for an interval is over."""
        if self.last_refusal is None:
            return
        with self._lock:
            now = self.clock()
            if self.last_refusal is None or now - self.last_refusal < self.interval:
                return
            total, count = self.total, self.refused
            self.refused = self.total = 0
            self.last_refusal = None
        log.warning(
            "database reachable again: %d request(s) answered 503 during the outage "
            "(%d since the last report)",
            total,
            count,
        )


def unavailable_response(request: Request) -> Response:
    """503 with Retry-After: a Chinese page for pages, the JSON error for the API."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _is_page(request):
        return _page(request, 503, DB_UNAVAILABLE_PAGE, headers)
    response = error_response(503, "database_unavailable", DB_UNAVAILABLE)
    response.headers.update(headers)
    return response


def _is_page(request: Request) -> bool:
    from hotline.web.pages.common import is_page

    return is_page(request.url.path)


def _citizen(request: Request) -> bool:
    path = request.url.path
    return any(path == p or path.startswith(p + "/") for p in CITIZEN_PATHS)


def _page(request: Request, status: int, message: str, headers: dict[str, str]) -> Response:
    """The error page, rendered without the session or the database (either may be down)."""
    from markupsafe import escape

    from hotline.web.pages.common import env

    if request.headers.get("hx-request"):
        body = f'<p class="flash error">{escape(message)}</p>'
    else:
        template = "citizen_error.html" if _citizen(request) else "error.html"
        body = env.get_template(template).render(
            request=request,
            status=status,
            message=message,
            home="/",
            user=None,
            csrf="",
            flashes=[],
        )
    return HTMLResponse(body, status_code=status, headers=headers)


class Failsafe:
    """Answer any unhandled exception: 503 + Retry-After for an unreachable database, else 500."""

    def __init__(self, app: ASGIApp, outage: OutageLog | None = None) -> None:
        self.app = app
        self.outage = outage or OutageLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if message["status"] != 503:
                    self.outage.answered()
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:  # half an answer is out: let the server close the connection
                raise
            request = Request(scope)
            where = f"{request.method} {request.url.path}"
            if database_unavailable(exc):
                self.outage.refused_request(where, exc)
                response = unavailable_response(request)
            else:
                log.error("unhandled error on %s", where, exc_info=exc)
                if _is_page(request):
                    text = INTERNAL_ERROR_CITIZEN if _citizen(request) else INTERNAL_ERROR_PAGE
                    response = _page(request, 500, text, {})
                else:
                    response = error_response(500, "internal_error", INTERNAL_ERROR)
            await response(scope, receive, send)
