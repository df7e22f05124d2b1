"""Chinese full-text search, the database half: one index per kind of document.

A kind names its table and its columns (tickets: `shared`, what units are shown too, and
`centre`, what only the hotline centre reads). The terms come from `hotline.domain.fulltext`
(character bigrams); here they are stored and matched:

- SQLite: an FTS5 table (unicode61 over the space-separated terms), rowid = the document's id.
  FTS5 walks its doclists newest id first, so `ORDER BY rowid DESC LIMIT n` stops after n.
- PostgreSQL: a table of tsvectors with a GIN index per column, written as tsvector literals
  (positions included) so the server's parser and locale never see the Chinese.

Matches are capped (`cap`): the newest `cap` matching documents are ranked by relevance
(FTS5 bm25 / ts_rank), then recency; the total says "more than cap" instead of counting a
common word's 80,000 hits. Writes go through the caller's connection, so an index row changes
in the transaction of the change it reflects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from hotline.domain.fulltext import Query, fts5_text, tsvector_literal

DEFAULT_CAP = 1000


@dataclass(frozen=True)
class Kind:
    """A kind of document: its index table and text columns (the key is the row's id)."""

    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Hits:
    """Ids in rank order (at most `cap`), how many matched, and whether there were more."""

    ids: list[int]
    total: int
    capped: bool


def _postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


def ddl(kind: Kind, dialect: str) -> list[str]:
    """The statements that create the kind's index (idempotent)."""
    if dialect == "postgres":
        cols = ", ".join(f"{c} tsvector NOT NULL" for c in kind.columns)
        return [
            # No foreign key: documents are never deleted with the rows they index, and
            # a key would add a lookup to every write for nothing.
            f"CREATE TABLE IF NOT EXISTS {kind.table} (id INT NOT NULL PRIMARY KEY, {cols})",
            *(
                f"CREATE INDEX IF NOT EXISTS {kind.table}_{c} ON {kind.table} USING gin ({c})"
                for c in kind.columns
            ),
        ]
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {kind.table} USING fts5("
        f"{', '.join(kind.columns)}, tokenize='unicode61 remove_diacritics 0', detail=full)"
    ]


async def ensure(conn: BaseDBAsyncClient, kind: Kind) -> None:
    """Create the kind's index if it is missing."""
    for statement in ddl(kind, conn.capabilities.dialect):
        # One statement each, not a script: Python's sqlite3 commits before every script,
        # which would end the caller's transaction (and a rebuild's atomicity with it).
        await conn.execute_query(statement)


def _row(kind: Kind, key: int, texts: dict[str, Sequence[str]], postgres: bool) -> list[Any]:
    encode = tsvector_literal if postgres else fts5_text
    return [key, *(encode(*texts.get(c, ())) for c in kind.columns)]


async def put_many(
    conn: BaseDBAsyncClient, kind: Kind, docs: Iterable[tuple[int, dict[str, Sequence[str]]]]
) -> int:
    """Index (or re-index) documents: id and, per column, the texts; returns how many."""
    postgres = _postgres(conn)
    rows = [_row(kind, key, texts, postgres) for key, texts in docs]
    if not rows:
        return 0
    cols = ", ".join(kind.columns)
    if postgres:
        casts = ", ".join(f"${i}::tsvector" for i in range(2, len(kind.columns) + 2))
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in kind.columns)
        sql = (
            f"INSERT INTO {kind.table} (id, {cols}) VALUES ($1, {casts}) "
            f"ON CONFLICT (id) DO UPDATE SET {sets}"
        )
    else:
        marks = ", ".join("?" for _ in kind.columns)
        # FTS5 replaces a row with the same rowid (its old terms leave the index).
        sql = f"INSERT OR REPLACE INTO {kind.table} (rowid, {cols}) VALUES (?, {marks})"
    # One document (every write): one statement, not a prepared batch.
    if len(rows) == 1:
        await conn.execute_query(sql, rows[0])
    else:
        await conn.execute_many(sql, rows)
    return len(rows)


async def put(
    conn: BaseDBAsyncClient, kind: Kind, key: int, texts: dict[str, Sequence[str]]
) -> None:
    """Index (or re-index) one document."""
    await put_many(conn, kind, [(key, texts)])


async def remove(conn: BaseDBAsyncClient, kind: Kind, keys: Sequence[int]) -> None:
    """Drop documents from the index."""
    if not keys:
        return
    key = "id" if _postgres(conn) else "rowid"
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        if _postgres(conn):
            await conn.execute_query(f"DELETE FROM {kind.table} WHERE id = ANY($1::int[])", [chunk])
        else:
            marks = ", ".join("?" for _ in chunk)
            await conn.execute_query(f"DELETE FROM {kind.table} WHERE {key} IN ({marks})", chunk)


async def clear(conn: BaseDBAsyncClient, kind: Kind) -> None:
    """Empty the index (before a rebuild)."""
    await conn.execute_query(f"DELETE FROM {kind.table}")  # not a script: see ensure()


async def match(
    conn: BaseDBAsyncClient,
    kind: Kind,
    query: Query,
    *,
    columns: tuple[str, ...],
    within: tuple[str, list[Any]] | None = None,
    cap: int = DEFAULT_CAP,
    newest_first: bool = True,
) -> Hits:
    """The newest `cap` documents matching `query` in `columns`, ranked.

    `within` is an SQL condition on `{id}`, the document's id (with `?` placeholders) — a
    unit's tickets — applied before the cap, so a unit's own matches are never crowded out.
    On SQLite it is checked per match, newest first (a correlated EXISTS through an index):
    given as `id IN (subquery)`, SQLite would run the whole text match once per id of the
    subquery. On PostgreSQL, `newest_first=False` says `within` is selective by itself
    (a small unit's ids, bound as an array): the whole table is searched at once, not in
    windows of the newest ids, each of which would read the word's matches again.
    """
    if not query:
        return Hits([], 0, False)
    if _postgres(conn):
        rows = await _match_postgres(conn, kind, query, columns, within, cap, newest_first)
    else:
        rows = await _match_sqlite(conn, kind, query, columns, within, cap)
    capped = len(rows) > cap
    rows = rows[:cap]
    # Relevance first, in tenths of the best hit's score (bm25 and ts_rank differ in scale;
    # near-equal scores are equally relevant to a reader), then newest.
    best = max((float(r[1]) for r in rows), default=0.0) or 1.0
    ranked = sorted(rows, key=lambda r: (-round(float(r[1]) / best, 1), -int(r[0])))
    return Hits([int(r[0]) for r in ranked], len(rows), capped)


async def _match_sqlite(
    conn: BaseDBAsyncClient,
    kind: Kind,
    query: Query,
    columns: tuple[str, ...],
    within: tuple[str, list[Any]] | None,
    cap: int,
) -> list[tuple[int, float]]:
    params: list[Any] = [query.fts5(columns)]
    extra = ""
    if within is not None:
        extra = " AND " + within[0].format(id=f"{kind.table}.rowid")
        params += within[1]
    # bm25 is negative, better matches lower: negated so that higher is better, as ts_rank.
    sql = (
        f"SELECT rowid, -bm25({kind.table}) FROM {kind.table} "
        f"WHERE {kind.table} MATCH ?{extra} ORDER BY rowid DESC LIMIT {int(cap) + 1}"
    )
    _, rows = await conn.execute_query(sql, params)
    return [(row[0], row[1]) for row in rows]


async def _match_postgres(
    conn: BaseDBAsyncClient,
    kind: Kind,
    query: Query,
    columns: tuple[str, ...],
    within: tuple[str, list[Any]] | None,
    cap: int,
    newest_first: bool = True,
) -> list[tuple[int, float]]:
    """Newest matches first, looked for in ever larger windows of the newest ids.

    A GIN index yields row addresses in no useful order, and every match costs a visit to
    its heap page (the tsvectors live there): a common word's 40,000 matches in a year of
    tickets would be 40,000 page reads to keep the newest 1,000. So the newest `cap * 20`
    ids are searched first (the GIN bitmap ANDed with the primary key's range), then eight
    times as many, and so on; a common word stops at the first window, a rare one reaches
    the whole table with few matches to visit.
    """
    # Each phrase may match in any of the columns (an original-only name AND a reply's word).
    params: list[Any] = [query.tsquery()]
    hits = []
    for phrase in query.single_phrases():
        params.append(phrase.tsquery())
        n = len(params)
        hits.append("(" + " OR ".join(f"{c} @@ ${n}::tsquery" for c in columns) + ")")
    where = " AND ".join(hits)
    if within is not None:
        sub, sub_params = within
        for value in sub_params:
            params.append(value)
            sub = sub.replace("?", f"${len(params)}", 1)
        where += " AND " + sub.format(id=f"{kind.table}.id")
    rank = " + ".join(f"ts_rank({c}, $1::tsquery)" for c in columns)
    params.append(0)
    lowest = f"${len(params)}"
    # Ranked in the outer query: ts_rank reads each tsvector, so only for the capped rows.
    # `id + 0`: sorted after the bitmap scan, never by walking the primary key backwards
    # and testing every row's tsvector (190 ms for a common word at 200,000 tickets).
    sql = (
        f"SELECT id, {rank} FROM (SELECT id, {', '.join(columns)} FROM {kind.table} "
        f"WHERE {where} AND id > {lowest} ORDER BY id + 0 DESC LIMIT {int(cap) + 1}) AS newest"
    )
    async with in_transaction(conn.connection_name) as tx:
        # Read first: with index scans off, MAX(id) would scan the table.
        _, top = await tx.execute_query(f"SELECT MAX(id) AS top FROM {kind.table}")
        newest = int(top[0]["top"] or 0)
        # The planner would rather walk the primary key over the window and test each
        # row's tsvector; a bitmap AND of both indexes reads only the matching rows.
        await tx.execute_script("SET LOCAL enable_indexscan = off")
        span = int(cap) * 20 if newest_first else newest
        while True:
            params[-1] = newest - span
            _, rows = await tx.execute_query(sql, params)
            if len(rows) > cap or span >= newest:
                break
            span *= 8
    return [(row[0], row[1]) for row in rows]
