"""Rate-limit counters in the database, shared by every web worker and machine.

One row per key and fixed time window; each hit is one atomic upsert-and-return (as ticket
numbers are), which SQLite ≥3.35 and PostgreSQL both serialise, so concurrent workers never
read the same count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.models import RateCounter


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
    """Client addresses and ticket numbers as given, anything long or odd as a digest."""
    if len(ident) <= 64 and ident.isascii() and ident.isprintable() and " " not in ident:
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
        'INSERT INTO rate_counter ("key", hits, expires) '
        f"VALUES ({_p(conn, 1)}, 1, {_p(conn, 2)}) "
        'ON CONFLICT ("key") DO UPDATE SET hits = rate_counter.hits + 1 RETURNING hits'
    )
    rows = await conn.execute_query_dict(sql, [win.key, win.ends])
    return int(rows[0]["hits"])


async def unhit(*wins: Window) -> None:
    """Take back one hit from each window (the request turned out not to count)."""
    if not wins:
        return
    conn = _conn()
    marks = ", ".join(_p(conn, i + 1) for i in range(len(wins)))
    await conn.execute_query(
        f'UPDATE rate_counter SET hits = hits - 1 WHERE hits > 0 AND "key" IN ({marks})',
        [w.key for w in wins],
    )


async def hits(win: Window) -> int:
    """The current count of a window, without counting."""
    row = await RateCounter.get_or_none(key=win.key)
    return row.hits if row else 0


async def purge(now: float) -> int:
    """Delete the rows of windows that have ended; returns how many."""
    return await RateCounter.filter(expires__lte=int(now)).delete()
