"""The last line: an exception no handler answered becomes one JSON answer and one log entry.

Starlette's ServerErrorMiddleware answers with the app's 500 handler and then re-raises, so
uvicorn logs the same traceback a second time; this middleware sits inside it and does not
re-raise. A database that does not answer (connection refused, pool closed, SQLite file gone)
is a 503 with Retry-After, not a 500: the request may well succeed in a moment.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import DBConnectionError

from hotline.web.http import error_response

log = logging.getLogger("hotline")

RETRY_AFTER_SECONDS = 30
DB_UNAVAILABLE = "数据库暂时不可用，请稍后重试"
# sqlite3.OperationalError messages that mean "cannot reach the file", not "bad SQL".
_SQLITE_UNAVAILABLE = (
    "unable to open database file",
    "database is locked",
    "disk i/o error",
    "readonly database",
)
_DB_MODULES = ("asyncpg", "tortoise", "aiosqlite", "sqlite3")

try:  # PostgreSQL is optional
    import asyncpg

    _ASYNCPG_UNAVAILABLE: tuple[type[BaseException], ...] = (
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
        asyncpg.InterfaceError,  # "pool is closed", "connection is closed"
        asyncpg.exceptions.ConnectionDoesNotExistError,
    )
except ImportError:  # pragma: no cover
    _ASYNCPG_UNAVAILABLE = ()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _raised_in_db_layer(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.split(".")[0] in _DB_MODULES:
            return True
        tb = tb.tb_next
    return False


def database_unavailable(exc: BaseException) -> bool:
    """Whether an exception means the database could not be reached (not a bad statement)."""
    for e in _chain(exc):
        if isinstance(e, (DBConnectionError, *_ASYNCPG_UNAVAILABLE)):
            return True
        if isinstance(e, sqlite3.OperationalError) and any(
            m in str(e).lower() for m in _SQLITE_UNAVAILABLE
        ):
            return True
        # Refused, reset, timed out, "Multiple exceptions: [Errno 111] …" while connecting.
        if isinstance(e, OSError) and _raised_in_db_layer(e):
            return True
    return False


class Failsafe:
    """Answer any unhandled exception: 503 + Retry-After for an unreachable database, else 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:  # half an answer is out: let the server close the connection
                raise
            request = Request(scope)
            if database_unavailable(exc):
                log.error(
                    "database unavailable on %s %s: %s",
                    request.method,
                    request.url.path,
                    exc,
                    exc_info=exc,
                )
                response = error_response(503, "database_unavailable", DB_UNAVAILABLE)
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            else:
                log.error(
                    "unhandled error on %s %s", request.method, request.url.path, exc_info=exc
                )
                response = error_response(500, "internal_error", "服务器内部错误，请稍后重试")
            await response(scope, receive, send)
