"""Which errors mean "the database is away" (503), and how an outage is logged."""

from __future__ import annotations

import logging
import sqlite3

import asyncpg
import pytest
from asyncpg import exceptions as pg
from tortoise.exceptions import (
    DBConnectionError,
    IntegrityError,
    OperationalError,
    TransactionManagementError,
)

from hotline.web.failsafe import OutageLog, database_unavailable


def _wrapped(outer: type[Exception], inner: BaseException) -> Exception:
    """`inner` raised inside tortoise and re-raised as `outer`, the way its clients do."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer(exc)  # noqa: B904 - the implicit __context__ is what tortoise leaves
    except Exception as wrapped:
        return wrapped


UNAVAILABLE = [
    pg.ObjectNotInPrerequisiteStateError(
        'database "hotline" is not currently accepting connections'
    ),
    pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    pg.AdminShutdownError("terminating connection due to administrator command"),
    pg.CannotConnectNowError("the database system is shutting down"),
    pg.CrashShutdownError("terminating connection because of crash of another server process"),
    pg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.InterfaceError("pool is closed"),
    asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
    sqlite3.OperationalError("database is locked"),
    sqlite3.OperationalError("disk I/O error"),
    sqlite3.OperationalError("unable to open database file"),
    DBConnectionError("can't connect"),
    _wrapped(OperationalError, sqlite3.OperationalError("database is locked")),
    _wrapped(OperationalError, pg.AdminShutdownError("terminating connection")),
    _wrapped(TransactionManagementError, pg.ConnectionDoesNotExistError("connection closed")),
]
OWN_FAULT = [
    pg.QueryCanceledError("canceling statement due to statement timeout"),
    pg.LockNotAvailableError("could not obtain lock on row"),
    pg.ObjectNotInPrerequisiteStateError('currval of sequence "s" is not yet defined'),
    asyncpg.exceptions._base.DataError("invalid input for query argument $1"),
    asyncpg.exceptions.DataError("invalid input syntax for type integer"),
    pg.UndefinedTableError('relation "x" does not exist'),
    sqlite3.OperationalError("no such table: ticket"),
    _wrapped(OperationalError, sqlite3.OperationalError("no such column: x")),
    _wrapped(IntegrityError, sqlite3.IntegrityError("UNIQUE constraint failed")),
    ConnectionRefusedError(111, "Connection refused"),  # a mail server, not the database
    RuntimeError("boom"),
]


@pytest.mark.parametrize("exc", UNAVAILABLE, ids=lambda e: f"{type(e).__name__}:{e}"[:60])
def test_connection_level_errors_of_both_drivers_are_unavailable(exc: BaseException) -> None:
    assert database_unavailable(exc)


@pytest.mark.parametrize("exc", OWN_FAULT, ids=lambda e: f"{type(e).__name__}:{e}"[:60])
def test_a_bad_statement_or_program_error_is_not(exc: BaseException) -> None:
    assert not database_unavailable(exc)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_logged_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    outage = OutageLog(interval=10, clock=clock)
    error = pg.AdminShutdownError("terminating connection due to administrator command")
    with caplog.at_level(logging.INFO, logger="hotline"):
        for _ in range(500):  # 500 refusals in 5 s: one line
            outage.refused_request("GET /api/v1/tickets", error)
            outage.answered()  # a page that needs no database answers meanwhile
            clock.now += 0.01
        assert [r.getMessage()[:40] for r in caplog.records] == [
            "database unavailable (outage starts): 1 "
        ]
        clock.now += 6  # 11 s after the first line
        outage.refused_request("POST /api/v1/tickets", error)
        assert "500 request(s) answered 503 in the last 11 s" in caplog.records[-1].getMessage()
        assert "AdminShutdownError" in caplog.records[-1].getMessage()
        clock.now += 10  # quiet for an interval, then a request is answered
        outage.answered()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert messages[-1].startswith("database reachable again: 501 request(s)")
    assert not any(r.exc_info for r in caplog.records)
