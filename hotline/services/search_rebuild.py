"""The ticket search index rebuilt in bulk (after a restore, an import, an upgrade).

Row by row through the ORM, a rebuild took 1,032 s for 100,000 tickets: model instances for
every event, an upsert per document, and PostgreSQL maintaining two GIN indexes row by row.
Here tickets and their written events are read in id-ordered chunks with plain SQL, the
documents are made by the same `document()` the incremental index uses (so both agree), and
written in bulk:

- SQLite: plain INSERTs in rowid order into the emptied FTS5 table, all in the caller's
  transaction. Readers (WAL) keep seeing the old index until it commits; writers wait.
- PostgreSQL: COPY into a shadow table, its primary key and GIN indexes built once at the end,
  then swapped for the live table. Readers search the old index all along; writers index
  into the old one until the swap, so the tickets changed meanwhile are indexed again under a
  lock that holds writers (not readers) back for that last moment.

Progress is reported per chunk (done, total).
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.fulltext import fts5_text, tsvector_literal
from hotline.services import fulltext
from hotline.services.fulltext import Kind
from hotline.services.ticket_search import (
    _FIELDS,
    TEXT_KEYS,
    TICKETS,
    _Said,
    _said,
    _Words,
    document,
)

Progress = Callable[[int, int], None]
SHADOW = f"{TICKETS.table}_rebuild"
# Tickets per chunk: a few MB of documents in memory, a COPY of ~5 MB on PostgreSQL.
REBUILD_BATCH = 5000
REBUILD_CACHE_KIB = 256 * 1024
# COPY's text format: these characters are escaped (terms never hold them; safety only).
_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


def _mark(postgres: bool, n: int) -> str:
    return f"${n}" if postgres else "?"


async def _tickets(
    conn: BaseDBAsyncClient, postgres: bool, after: int, limit: int
) -> list[dict[str, Any]]:
    sql = (
        f"SELECT {', '.join(_FIELDS)} FROM ticket WHERE id > {_mark(postgres, 1)}"
        f" ORDER BY id LIMIT {int(limit)}"
    )
    _, rows = await conn.execute_query(sql, [after])
    out = []
    for row in rows:
        item = dict(row)
        item["confidential"] = bool(item["confidential"])
        out.append(item)
    return out


async def _said_between(
    conn: BaseDBAsyncClient, postgres: bool, first: int, last: int
) -> dict[int, list[_Said]]:
    """The written words of the events of tickets first..last, in event order."""
    if postgres:
        has_text = "payload ?| ARRAY['" + "','".join(TEXT_KEYS) + "']"
    else:
        # A superset (the key may be a value's words too); `_said` decides exactly.
        has_text = "(" + " OR ".join(f"payload LIKE '%\"{k}\"%'" for k in TEXT_KEYS) + ")"
    sql = (
        "SELECT ticket_id, actor_role, payload FROM ticket_event"
        f" WHERE ticket_id >= {_mark(postgres, 1)} AND ticket_id <= {_mark(postgres, 2)}"
        f" AND {has_text} ORDER BY id"
    )
    _, rows = await conn.execute_query(sql, [first, last])
    found: dict[int, list[_Said]] = {}
    for ticket_id, role, payload in ((r[0], r[1], r[2]) for r in rows):
        if isinstance(payload, str | bytes):
            payload = json.loads(payload)
        item = _said(role, payload)
        if item is not None:
            found.setdefault(int(ticket_id), []).append(item)
    return found


async def _chunks(
    conn: BaseDBAsyncClient, postgres: bool
) -> AsyncIterator[list[tuple[int, dict[str, list[str]]]]]:
    """(id, {column: texts}) documents, a chunk at a time, in id order."""
    after = 0
    while True:
        rows = await _tickets(conn, postgres, after, REBUILD_BATCH)
        if not rows:
            return
        said = await _said_between(conn, postgres, rows[0]["id"], rows[-1]["id"])
        yield [(row["id"], document(_Words.of(row), said.get(row["id"], []))) for row in rows]
        after = rows[-1]["id"]


async def _count(conn: BaseDBAsyncClient) -> int:
    _, rows = await conn.execute_query("SELECT COUNT(*) FROM ticket")
    return int(rows[0][0])


async def rebuild_tickets(conn: BaseDBAsyncClient, *, progress: Progress | None = None) -> int:
    """Index every ticket afresh; returns how many (see the module docstring)."""
    if _postgres(conn):
        return await _rebuild_postgres(conn, progress)
    return await _rebuild_sqlite(conn, progress)


async def _rebuild_sqlite(conn: BaseDBAsyncClient, progress: Progress | None) -> int:
    # Dropped and created afresh rather than emptied: a DELETE leaves the old segments and
    # adds a tombstone per row, and a long-fragmented index makes every later insert merge
    # through them. DDL is transactional: readers see the old table until the commit.
    await conn.execute_query(f"DROP TABLE IF EXISTS {TICKETS.table}")
    await fulltext.ensure(conn, TICKETS)
    # A larger page cache while the new segments are written (SQLite's default is 2 MB).
    _, cache = await conn.execute_query("PRAGMA cache_size")
    await conn.execute_query(f"PRAGMA cache_size = {-REBUILD_CACHE_KIB}")
    try:
        return await _fill_sqlite(conn, progress)
    finally:
        await conn.execute_query(f"PRAGMA cache_size = {int(cache[0][0])}")


async def _fill_sqlite(conn: BaseDBAsyncClient, progress: Progress | None) -> int:
    total = await _count(conn)
    cols = ", ".join(TICKETS.columns)
    marks = ", ".join("?" for _ in TICKETS.columns)
    # The table is empty: rowid order appends to FTS5's segments without replacing anything.
    sql = f"INSERT INTO {TICKETS.table} (rowid, {cols}) VALUES (?, {marks})"
    done = 0
    async for docs in _chunks(conn, False):
        rows = [
            [key, *(fts5_text(*texts.get(c, ())) for c in TICKETS.columns)] for key, texts in docs
        ]
        await conn.execute_many(sql, rows)
        done += len(rows)
        if progress is not None:
            progress(done, total)
    return done


def _copy_line(key: int, texts: dict[str, list[str]]) -> str:
    vectors = (tsvector_literal(*texts.get(c, ())) for c in TICKETS.columns)
    return "\t".join([str(key), *(v.translate(_COPY_ESCAPE) for v in vectors)]) + "\n"


async def _rebuild_postgres(conn: BaseDBAsyncClient, progress: Progress | None) -> int:
    table, cols = TICKETS.table, TICKETS.columns
    await fulltext.ensure(conn, TICKETS)
    await conn.execute_script(
        f"DROP TABLE IF EXISTS {SHADOW};"
        f" CREATE TABLE {SHADOW} (id INT NOT NULL, "
        + ", ".join(f"{c} tsvector NOT NULL" for c in cols)
        + ")"
    )
    # What changes from here on is indexed again before the swap.
    _, marks = await conn.execute_query(
        "SELECT clock_timestamp() AS at, (SELECT COALESCE(MAX(id), 0) FROM ticket_event) AS ev"
    )
    since, last_event = marks[0]["at"], int(marks[0]["ev"])
    total = await _count(conn)
    done, last_id = 0, 0
    async for docs in _chunks(conn, True):
        data = "".join(_copy_line(key, texts) for key, texts in docs).encode()
        # Held only around the COPY: the wrapper's lock is not reentrant.
        async with conn.acquire_connection() as raw:
            await raw.copy_to_table(SHADOW, source=io.BytesIO(data), columns=["id", *cols])
        done += len(docs)
        last_id = docs[-1][0]
        if progress is not None:
            progress(done, total)
    # Built once over the whole table: far cheaper than maintained row by row.
    await conn.execute_script(
        "SET LOCAL maintenance_work_mem = '256MB';"
        f" ALTER TABLE {SHADOW} ADD CONSTRAINT {SHADOW}_pkey PRIMARY KEY (id);"
        + "".join(f" CREATE INDEX {SHADOW}_{c} ON {SHADOW} USING gin ({c});" for c in cols)
    )
    # Writers wait from here (their index write needs the table); readers go on.
    await conn.execute_script(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    _, changed = await conn.execute_query(
        "SELECT id FROM ticket WHERE updated_at >= $1 OR id > $2"
        " UNION SELECT ticket_id FROM ticket_event WHERE id > $3",
        [since, last_id, last_event],
    )
    await _reindex(conn, sorted(int(r[0]) for r in changed))
    await conn.execute_script(
        f"DROP TABLE {table}; ALTER TABLE {SHADOW} RENAME TO {table};"
        f" ALTER INDEX {SHADOW}_pkey RENAME TO {table}_pkey;"
        + "".join(f" ALTER INDEX {SHADOW}_{c} RENAME TO {table}_{c};" for c in cols)
    )
    return done + sum(1 for r in changed if int(r[0]) > last_id)


async def _reindex(conn: BaseDBAsyncClient, ids: list[int]) -> None:
    """The documents of tickets changed during the rebuild, into the shadow table."""
    shadow = Kind(SHADOW, TICKETS.columns)
    for start in range(0, len(ids), REBUILD_BATCH):
        chunk = ids[start : start + REBUILD_BATCH]
        sql = f"SELECT {', '.join(_FIELDS)} FROM ticket WHERE id = ANY($1::int[]) ORDER BY id"
        _, rows = await conn.execute_query(sql, [chunk])
        tickets = [{**dict(r), "confidential": bool(r["confidential"])} for r in rows]
        said = await _said_between(conn, True, chunk[0], chunk[-1])
        await fulltext.put_many(
            conn,
            shadow,
            ((t["id"], document(_Words.of(t), said.get(t["id"], []))) for t in tickets),
        )
