"""A new ticket written in one trip to the database.

Under load each statement of a transaction is a round trip: on SQLite a hop to aiosqlite's
thread and back, each waiting for the GIL and for the scheduler, while the connection's one
transaction lock is held. The intake path spent far more in these hops than in SQLite itself.

Here the code that writes a ticket's rows runs as it always does, but against `Recorder`: a
connection that keeps each write (the ORM's own SQL and values, so what is written is exactly
what the ORM writes) instead of sending it. `Trip.send` then sends them all at once:

- SQLite: one function on the connection's thread runs every statement and the COMMIT;
- PostgreSQL: one statement, a data-modifying WITH holding every insert (see `_PostgresTrip`
  for why the number is taken in a statement of its own).

The ticket's number and id are taken first (`Trip.reserve`; on SQLite in the same
transaction), so the rows that point at the ticket can be built before it is written. Reads
made while building (the units' mail recipients, when not remembered) go to the database as
usual. The caller's own transaction, if any (Open311 writes its token with the ticket), is
kept: a savepoint on SQLite, the two statements inside it on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper
from tortoise.connection import get_connections
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.models import Model

from hotline.domain.timefmt import local_day
from hotline.services.numbering import counter_sql, ticket_number

# One line per hop to SQLite's thread (each statement in it is logged too, as tortoise logs
# its own): how tests count trips. On PostgreSQL each logged statement is one trip.
trips_log = logging.getLogger("hotline.db_trips")

T = TypeVar("T")

_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})


@dataclass
class Statement:
    """One write as the ORM issued it: its SQL and one list of values per row."""

    sql: str
    rows: list[list[Any]]


class Recorder(BaseDBAsyncClient):
    """A connection that keeps the writes made through it; reads go to `reader`."""

    def __init__(self, reader: BaseDBAsyncClient) -> None:
        super().__init__(
            reader.connection_name, fetch_inserted=getattr(reader, "fetch_inserted", True)
        )
        self.capabilities = reader.capabilities
        self.executor_class = reader.executor_class
        self.query_class = reader.query_class
        self.schema_generator = reader.schema_generator
        self.reader = reader
        self.statements: list[Statement] = []

    async def execute_insert(self, query: str, values: list) -> None:
        # No id comes back: rows that need theirs before the commit are not recorded here.
        self.statements.append(Statement(query, [list(values)]))

    async def execute_many(self, query: str, values: list[list]) -> None:
        self.statements.append(Statement(query, [list(v) for v in values]))

    async def execute_query(self, query: str, values: list | None = None) -> tuple[int, list]:
        if _is_write(query):
            self.statements.append(Statement(query, [list(values or [])]))
            return 0, []
        return await self.reader.execute_query(query, values)

    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        if _is_write(query):
            # A recorded write has no result yet: a caller that needs one must not use this.
            raise OperationalError(f"a write that returns rows cannot be batched: {query[:80]}")
        return await self.reader.execute_query_dict(query, values)

    async def execute_script(self, query: str) -> None:
        raise OperationalError("scripts are not batched")


def _is_write(query: str) -> bool:
    head = query.lstrip().split(None, 1)
    return bool(head) and head[0].upper() in _WRITES


@dataclass
class Trip(ABC):
    """One transaction: `reserve` the number and id, record writes on `recorder`, `send`."""

    recorder: Recorder
    ticket_table: str = "ticket"
    sent: bool = field(default=False, init=False)
    # The rows of the read sent with `reserve`, by column name.
    read_rows: list[dict[str, Any]] = field(default_factory=list, init=False)

    @abstractmethod
    async def reserve(
        self, now: datetime, read: tuple[str, list[Any]] | None = None
    ) -> tuple[str, int]:
        """The new ticket's number (the day's counter, bumped) and id; `read` (a SELECT with
        `?` placeholders, and its values), when given, goes with them and its rows are kept
        in `read_rows` (intake's repeat screen: its own trip saved)."""

    @abstractmethod
    async def send(self) -> None:
        """Write every recorded statement and commit."""


@asynccontextmanager
async def trip(ticket_model: type[Model]) -> AsyncIterator[Trip]:
    """A transaction whose writes go to the database in one trip (`Trip.send`); `reserve`
    takes the next id of `ticket_model`'s table.

    Leaving the block without `send` (an error while building) rolls back what `reserve` did.
    """
    client = ticket_model._meta.db  # the caller's transaction, when inside one
    table = ticket_model._meta.db_table
    if isinstance(client, SqliteTransactionWrapper):
        # Inside the caller's transaction (which holds the lock): a savepoint in one hop.
        async with _sqlite_trip(client, table, nested=True) as t:
            yield t
    elif isinstance(client, SqliteClient):
        async with _sqlite_trip(client, table, nested=False) as t:
            yield t
    elif isinstance(client, TransactionalDBClient):
        # Inside the caller's transaction: the number, then every row, in it.
        t = _PostgresTrip(Recorder(client), table, own=False)
        yield t
        if not t.sent:
            raise OperationalError("a trip was left without sending its writes")
    else:
        async with _pinned(client) as pinned:
            # Reads while building go to the same connection: with every pooled connection
            # held by a trip, a read waiting for another one would wait for ever.
            token = get_connections().set(client.connection_name, pinned)
            try:
                t = _PostgresTrip(Recorder(pinned), table, own=True, pinned=pinned)
                yield t
                if not t.sent:
                    raise OperationalError("a trip was left without sending its writes")
            finally:
                get_connections().reset(token)


@asynccontextmanager
async def _pinned(client: Any) -> AsyncIterator[BaseDBAsyncClient]:
    """One pooled PostgreSQL connection for both of a trip's statements, each still its own
    transaction (autocommit: no BEGIN is sent). The pool resets a connection when it is given
    back, a round trip of its own (asyncpg: advisory locks, cursors, settings): once per
    create instead of once per statement. Built as tortoise builds a transaction's client,
    so statements are logged and errors translated as on any other."""
    from tortoise.backends.asyncpg.client import TransactionWrapper

    if client._pool is None:
        # As tortoise guards it: two tasks starting at once must not build two pools.
        async with client._pool_init_lock:
            if client._pool is None:
                await client.create_connection(with_db=True)
    pool = client._pool
    pinned = TransactionWrapper(client)
    pinned._connection = await pool.acquire()
    try:
        yield pinned
    finally:
        await pool.release(pinned._connection)


# ---- SQLite -------------------------------------------------------------------------


@asynccontextmanager
async def _sqlite_trip(client: SqliteClient, table: str, *, nested: bool) -> AsyncIterator[Trip]:
    """The connection's transaction lock held, as tortoise's own transaction holds it; the
    BEGIN goes with the first hop and the COMMIT with the last."""
    if client._connection is None:
        await client.create_connection(with_db=True)
    if nested:
        t = _SqliteTrip(Recorder(client), table, aconn=client._connection, nested=True)
        async with _rolled_back_unless_sent(t):
            yield t
        return
    async with client._lock:
        # Reads while building run inside this transaction, and so does anything that
        # uses the default connection meanwhile (as inside `in_transaction`).
        reader = SqliteTransactionWrapper(client)
        token = get_connections().set(client.connection_name, reader)
        t = _SqliteTrip(Recorder(reader), table, aconn=client._connection)
        try:
            async with _rolled_back_unless_sent(t):
                yield t
        finally:
            get_connections().reset(token)


@asynccontextmanager
async def _rolled_back_unless_sent(t: _SqliteTrip) -> AsyncIterator[None]:
    try:
        yield
    except BaseException:
        if t.begun and not t.sent:
            await t.hop(t.rollback)
        raise
    if not t.sent:
        if t.begun:
            await t.hop(t.rollback)
        raise OperationalError("a trip was left without sending its writes")


@dataclass
class _SqliteTrip(Trip):
    aconn: Any = None  # the aiosqlite connection
    nested: bool = False
    begun: bool = field(default=False, init=False)

    def begin(self, db: sqlite3.Connection) -> None:
        db.execute("SAVEPOINT one_trip" if self.nested else "BEGIN")

    def commit(self, db: sqlite3.Connection) -> None:
        db.execute("RELEASE one_trip" if self.nested else "COMMIT")

    def rollback(self, db: sqlite3.Connection) -> None:
        if self.nested:
            db.execute("ROLLBACK TO one_trip")
            db.execute("RELEASE one_trip")
        else:
            db.execute("ROLLBACK")

    async def hop(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on aiosqlite's thread with its sqlite3 connection: one hop."""
        trips_log.debug("sqlite hop")
        try:
            # aiosqlite's own way to run a call on its thread (it has no public one).
            return await self.aconn._execute(fn, self.aconn._conn)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(exc) from exc
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc

    async def reserve(
        self, now: datetime, read: tuple[str, list[Any]] | None = None
    ) -> tuple[str, int]:
        day = local_day(now)
        log = self.recorder.log
        bump = counter_sql("?")
        last = "SELECT seq FROM sqlite_sequence WHERE name = ?"

        def begin(db: sqlite3.Connection) -> tuple[int, int]:
            self.begin(db)
            try:
                log.debug("%s: %s", bump, [day])
                value = db.execute(bump, [day]).fetchone()[0]
                # The write above holds the database's write lock: no other connection
                # can take the next id before this transaction ends.
                log.debug("%s: %s", last, [self.ticket_table])
                seq = db.execute(last, [self.ticket_table]).fetchone()
                if read is not None:
                    # After the write: a read first would start a snapshot that another
                    # worker's commit could make too old to write in (SQLITE_BUSY_SNAPSHOT).
                    log.debug("%s: %s", *read)
                    cursor = db.execute(*read)
                    names = [d[0] for d in cursor.description]
                    self.read_rows = [dict(zip(names, r, strict=True)) for r in cursor]
            except BaseException:
                self.rollback(db)
                raise
            return value, (seq[0] if seq else 0) + 1

        value, ticket_id = await self.hop(begin)
        self.begun = True
        return ticket_number(day, value), ticket_id

    async def send(self) -> None:
        statements = self.recorder.statements
        log = self.recorder.log

        def write(db: sqlite3.Connection) -> None:
            try:
                for s in statements:
                    log.debug("%s: %s", s.sql, s.rows if len(s.rows) > 1 else s.rows[0])
                    if len(s.rows) == 1:
                        db.execute(s.sql, s.rows[0])
                    else:
                        db.executemany(s.sql, s.rows)
                self.commit(db)
            except BaseException:
                self.rollback(db)
                raise

        try:
            await self.hop(write)
        finally:
            self.sent = True


# ---- PostgreSQL ---------------------------------------------------------------------


@dataclass
class _PostgresTrip(Trip):
    """Two statements, each its own transaction when not inside the caller's (`own`).

    The day's counter row is the one row every create updates: held from its bump to the
    commit, it would make creates wait for each other's whole write, commit and flush
    included. So the bump commits on its own, at once, without waiting for its flush
    (`synchronous_commit` off for that statement only): the ticket's own commit, later in
    the same log, flushes it too, so a number whose ticket was saved is never handed out
    again. The ticket and all its rows are then one statement, atomic on its own.
    A create that fails after its number was taken leaves that number unused.
    """

    own: bool = True
    # A connection of our own (`_pinned`) when not inside the caller's transaction.
    pinned: BaseDBAsyncClient | None = None

    async def reserve(
        self, now: datetime, read: tuple[str, list[Any]] | None = None
    ) -> tuple[str, int]:
        day = local_day(now)
        quick = (
            "quick AS (SELECT set_config('synchronous_commit', 'off', true)), " if self.own else ""
        )
        values: list[Any] = [day, self.ticket_table]
        rows_of = ""
        if read is not None:
            # The read's rows as one JSON array in the same row (the statement's one answer).
            rows_of = (
                f", (SELECT coalesce(json_agg(r), '[]') FROM ({_numbered(read[0], 3)}) r) AS rows"
            )
            values += read[1]
        sql = (
            f"WITH {quick}c AS ({counter_sql('$1')}) "
            f"SELECT c.value, nextval(pg_get_serial_sequence($2, 'id')) AS id{rows_of} FROM c"
            + (", quick" if self.own else "")
        )
        rows = await (self.pinned or self.recorder.reader).execute_query_dict(sql, values)
        if read is not None:
            found = rows[0]["rows"]
            self.read_rows = json.loads(found) if isinstance(found, str) else list(found)
        return ticket_number(day, rows[0]["value"]), rows[0]["id"]

    async def send(self) -> None:
        sql, values = with_statement(self.recorder.statements)
        await (self.pinned or self.recorder.reader).execute_query(sql, values)
        self.sent = True


_PARAM = re.compile(r"\$(\d+)")


def _numbered(sql: str, first: int) -> str:
    """`?` placeholders as asyncpg's $n, numbered from `first`."""
    parts = sql.split("?")
    return "".join(p + (f"${first + i}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


def with_statement(statements: Sequence[Statement]) -> tuple[str, list[Any]]:
    """The statements as one: each but the last a part of a WITH, parameters renumbered,
    a many-row statement as one multi-row VALUES. PostgreSQL runs the parts on one snapshot
    and checks the foreign keys at the end, so a ticket and its rows go in together."""
    parts: list[str] = []
    values: list[Any] = []
    for s in statements:
        sql, vals = _one(s, len(values))
        parts.append(sql)
        values += vals
    if len(parts) == 1:
        return parts[0], values
    head = ", ".join(f"w{i} AS ({p})" for i, p in enumerate(parts[:-1]))
    return f"WITH {head} {parts[-1]}", values


def _one(s: Statement, offset: int) -> tuple[str, list[Any]]:
    """One statement's SQL with its parameters numbered from `offset` + 1, and its values."""
    width = len(s.rows[0])
    if len(s.rows) == 1:
        return _shift(s.sql, offset), list(s.rows[0])
    start, end = _values_tuple(s.sql)
    row = s.sql[start:end]
    tuples = ",".join(_shift(row, offset + i * width) for i in range(len(s.rows)))
    return (
        _shift(s.sql[:start], offset) + tuples + _shift(s.sql[end:], offset),
        [v for r in s.rows for v in r],
    )


def _shift(sql: str, offset: int) -> str:
    return _PARAM.sub(lambda m: f"${int(m.group(1)) + offset}", sql) if offset else sql


def _values_tuple(sql: str) -> tuple[int, int]:
    """Where the parenthesised row after VALUES starts and ends in an INSERT."""
    at = sql.upper().index(" VALUES ")
    start = sql.index("(", at)
    depth = 0
    for i in range(start, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return start, i + 1
    raise ValueError(f"no VALUES row in {sql[:80]}")
