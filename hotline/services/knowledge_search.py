"""Suggestions for a call's text: the in-memory ranking (hotline.domain.kb_rank), kept fresh.

Each worker process holds one `SuggestIndex` per database. Before ranking it asks the
database for the newest history row and entry id — every change of an entry's words writes a
history row (a use does not: it changes no words) — and re-weighs the entries changed since,
so an edit on one worker reaches the suggestions of every worker at their next request. Use
counts and last use are read afresh for the few entries returned.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from hotline.domain.kb_rank import Doc, Ranked, SuggestIndex
from hotline.domain.knowledge import offered
from hotline.domain.models import KbEntry, KbHistory
from hotline.services.knowledge import local_today

log = logging.getLogger("hotline.knowledge")
_FIELDS = ("id", "title", "questions", "answer", "status", "valid_from", "valid_to")


@dataclass
class _Cached:
    """A worker's index and what it has seen: the newest history row and entry id."""

    history: int
    newest: int
    index: SuggestIndex


# Kept on the connection object: each database (a test's, a worker's) has its own, and its
# own lock (one build at a time; made in the loop that uses the connection).
_ATTRIBUTE = "_hotline_kb_suggest_index"
_LOCK = "_hotline_kb_suggest_lock"


async def _signature(conn: Any) -> tuple[int, int]:
    """(newest history row, newest entry id): every change of an entry's words writes history.
    Both are read off primary keys: no scan, whatever the size."""
    _, rows = await conn.execute_query(
        "SELECT (SELECT MAX(id) FROM kb_history), (SELECT MAX(id) FROM kb_entry)"
    )
    row = rows[0]
    values = tuple(row.values()) if isinstance(row, dict) else tuple(row)
    return int(values[0] or 0), int(values[1] or 0)


def _doc(r: dict[str, Any]) -> Doc:
    return Doc(
        id=r["id"],
        title=r["title"],
        questions=tuple(r["questions"] or ()),
        answer=r["answer"],
        status=r["status"],
        valid_from=r["valid_from"],
        valid_to=r["valid_to"],
    )


async def current_index() -> SuggestIndex:
    """This worker's ranking of every entry, brought up to date with the database.

    The first call builds it in full (off the event loop); afterwards only the entries with
    history rows (or ids) newer than the ones seen are read and re-weighed.
    """
    conn = KbEntry._meta.db
    history, newest = await _signature(conn)
    cached: _Cached | None = getattr(conn, _ATTRIBUTE, None)
    if cached is not None and (cached.history, cached.newest) == (history, newest):
        return cached.index
    lock = getattr(conn, _LOCK, None)
    if lock is None:
        lock = asyncio.Lock()
        setattr(conn, _LOCK, lock)
    async with lock:
        cached = getattr(conn, _ATTRIBUTE, None)
        if cached is not None and (cached.history, cached.newest) == (history, newest):
            return cached.index
        # Fewer than seen: another database behind the same connection (a restore) — rebuild.
        if cached is None or history < cached.history or newest < cached.newest:
            rows = await KbEntry.all().order_by("id").values(*_FIELDS)
            index = await asyncio.to_thread(SuggestIndex, [_doc(r) for r in rows])
        else:
            edited = await KbHistory.filter(id__gt=cached.history).values_list(
                "entry_id", flat=True
            )
            changed = Q(id__in=sorted(set(edited))) | Q(id__gt=cached.newest)
            rows = await KbEntry.filter(changed).order_by("id").values(*_FIELDS)
            index = cached.index.updated([_doc(r) for r in rows])
        setattr(conn, _ATTRIBUTE, _Cached(history, newest, index))
        return index


async def warm_up() -> None:
    """Build this worker's index at start-up (seconds at 10,000 entries), so the first call's
    suggestions do not wait for it; a failure here is logged and the first call builds it."""
    try:
        await current_index()
    except Exception:  # noqa: BLE001 - start-up must not fail for a cache
        log.warning("knowledge base: suggestion index not built at start-up", exc_info=True)


@dataclass(frozen=True)
class Suggestion:
    """A ranked entry with its row as stored now (use count, unit)."""

    ranked: Ranked
    entry: KbEntry


async def suggest(*, text: str, now: datetime, limit: int = 5) -> list[Suggestion]:
    """The best entries for a call's text that may be offered now, best first."""
    if not text.strip():
        return []
    index = await current_index()
    today = local_today(now)
    ranked = index.best(text, today=today, limit=limit)
    if not ranked:
        return []
    rows = {e.id: e for e in await KbEntry.filter(id__in=[r.doc.id for r in ranked])}
    # Checked again on the row as it is now: an entry expired a moment ago is not offered.
    return [
        Suggestion(r, rows[r.doc.id])
        for r in ranked
        if r.doc.id in rows
        and offered(
            rows[r.doc.id].status, rows[r.doc.id].valid_from, rows[r.doc.id].valid_to, today
        )
    ]
