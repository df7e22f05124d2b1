"""Rate-limit counters in the database, shared by every web worker and machine.

One row per key and fixed time window; each hit is one atomic upsert-and-return (as ticket
numbers are), which SQLite ≥3.35 and PostgreSQL both serialise, so concurrent workers never
read the same count.

Limits on *failed* guesses use reservations: `reserve` takes a place for an attempt before
its answer is checked (only while failures plus places taken stay under the limit), and the
attempt then either `fail`s (the place becomes a failure) or is `release`d (right answer, no
trace). So parallel guesses cannot all pass before any has failed, and right answers never
use up the limit: an attempt that finds every place taken by attempts still under way waits
for them (`Reserved.WAIT`) rather than being refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from enum import Enum

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.errors import HotlineError
from hotline.domain.models import RateCounter


@dataclass(frozen=True)
class Window:
    """One key's current fixed window: its row key and the Unix second it ends."""

    key: str
    ends: int


def window(scope: str, ident: str, seconds: int, now: float) -> Window:
    """The window of `seconds` that `now` (Unix time) falls in, for `scope` and `ident`."""
    index = int(now // seconds)
    return Window(f"{scope}:{_safe(ident)}:{seconds}:{index}", (index + 1) * seconds)


def _safe(ident: str) -> str:
    """Client addresses, ticket numbers and user names as given, anything long or odd as a digest.

    120 characters leave room for "user|IPv6 address" (64 + 1 + 45) within the 160 of the key.
    """
    if len(ident) <= 120 and ident.isascii() and ident.isprintable() and " " not in ident:
        return ident
    return "#" + hashlib.sha256(ident.encode("utf-8", "replace")).hexdigest()[:40]


def _conn() -> BaseDBAsyncClient:
    return RateCounter._meta.db


def _p(conn: BaseDBAsyncClient, n: int) -> str:
    return f"${n}" if conn.capabilities.dialect == "postgres" else "?"


async def hit(win: Window) -> int:
    """Count one hit in the window and return the count including it."""
    conn = _conn()
    sql = (
        'INSERT INTO rate_counter ("key", hits, pending, expires) '
        f"VALUES ({_p(conn, 1)}, 1, 0, {_p(conn, 2)}) "
        'ON CONFLICT ("key") DO UPDATE SET hits = rate_counter.hits + 1 RETURNING hits'
    )
    rows = await conn.execute_query_dict(sql, [win.key, win.ends])
    return int(rows[0]["hits"])


async def unhit(*wins: Window) -> None:
    """Take back one hit from each window (the request turned out not to count)."""
    if not wins:
        return
    conn = _conn()
    # One row per statement: a multi-row UPDATE locks its rows in scan order, and two such
    # statements over the same keys deadlock on PostgreSQL under concurrent attempts.
    for key in sorted({w.key for w in wins}):
        await conn.execute_query(
            f'UPDATE rate_counter SET hits = hits - 1 WHERE hits > 0 AND "key" = {_p(conn, 1)}',
            [key],
        )


class Reserved(Enum):
    """What `reserve` found."""

    OK = "ok"  # a place is taken: settle it with `fail` or `release`
    WAIT = "wait"  # places are taken by attempts under way: try again in a moment
    FULL = "full"  # failures alone reach the limit: refuse


async def reserve(win: Window, limit: int, *, before: tuple[int, int] = (0, 0)) -> Reserved:
    """Take a place for one attempt if failures + places taken stay under `limit`.

    `before` is (failures, places taken) counting from outside this window (the previous
    window, for limits that look back further than one window).
    """
    failures_before, pending_before = before
    if failures_before >= limit:
        return Reserved.FULL
    room = limit - failures_before - pending_before
    if room > 0:
        conn = _conn()
        # One statement: the condition and the increment cannot be split by another worker.
        sql = (
            'INSERT INTO rate_counter ("key", hits, pending, expires) '
            f"VALUES ({_p(conn, 1)}, 0, 1, {_p(conn, 2)}) "
            'ON CONFLICT ("key") DO UPDATE SET pending = rate_counter.pending + 1 '
            f"WHERE rate_counter.hits + rate_counter.pending < {_p(conn, 3)} RETURNING hits"
        )
        if await conn.execute_query_dict(sql, [win.key, win.ends, room]):
            return Reserved.OK
    failures, _ = await counts(win)
    return Reserved.FULL if failures + failures_before >= limit else Reserved.WAIT


@dataclass(frozen=True)
class Place:
    """A limit to take a place under: `win` at most `limit`, `previous` counting too."""

    win: Window
    limit: int
    previous: Window | None = None


class Full(Exception):
    """Failures alone fill `place`: the attempt is refused."""

    def __init__(self, place: Place) -> None:
        super().__init__(place.win.key)
        self.place = place


BUSY = "当前访问人数较多，请稍后再试"


async def reserve_all(places: list[Place], *, patience: float = 10.0) -> list[Window]:
    """A place under every limit, waiting while attempts under way hold the last ones.

    Raises `Full` when failures alone fill one, and a 503 `HotlineError` when the places stay
    taken for `patience` seconds (answers take milliseconds; only an overloaded server waits so
    long). Returns the windows to `fail` or `release`.
    """
    deadline = time.monotonic() + patience
    pause = 0.005
    while True:
        taken: list[Window] = []
        for place in places:
            before = await counts(place.previous) if place.previous else (0, 0)
            outcome = await reserve(place.win, place.limit, before=before)
            if outcome is Reserved.OK:
                taken.append(place.win)
                continue
            await release(*taken)
            if outcome is Reserved.FULL:
                raise Full(place)
            break
        else:
            return taken
        if time.monotonic() >= deadline:
            raise HotlineError(BUSY, status=503, code="busy")
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.1)


async def fail(win: Window) -> int:
    """A reserved attempt failed: its place becomes a failure. Returns the failures."""
    conn = _conn()
    sql = (
        'INSERT INTO rate_counter ("key", hits, pending, expires) '
        f"VALUES ({_p(conn, 1)}, 1, 0, {_p(conn, 2)}) "
        'ON CONFLICT ("key") DO UPDATE SET hits = rate_counter.hits + 1, '
        "pending = CASE WHEN rate_counter.pending > 0 THEN rate_counter.pending - 1 ELSE 0 END "
        "RETURNING hits"
    )
    rows = await conn.execute_query_dict(sql, [win.key, win.ends])
    return int(rows[0]["hits"])


async def release(*wins: Window) -> None:
    """Reserved attempts that were right (or never checked): give their places back."""
    if not wins:
        return
    conn = _conn()
    # One row per statement (see `unhit`): no statement holds one row's lock while waiting
    # for another's, so concurrent releases cannot deadlock.
    for key in sorted({w.key for w in wins}):
        await conn.execute_query(
            "UPDATE rate_counter SET pending = pending - 1 "
            f'WHERE pending > 0 AND "key" = {_p(conn, 1)}',
            [key],
        )


async def counts(win: Window) -> tuple[int, int]:
    """(failures, places taken) of a window, without counting."""
    row = await RateCounter.get_or_none(key=win.key)
    return (row.hits, row.pending) if row else (0, 0)


async def hits(win: Window) -> int:
    """The current count of a window, without counting."""
    row = await RateCounter.get_or_none(key=win.key)
    return row.hits if row else 0


async def purge(now: float) -> int:
    """Delete the rows of windows that have ended; returns how many."""
    return await RateCounter.filter(expires__lte=int(now)).delete()
