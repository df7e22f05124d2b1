"""Suggestions for a call's text: the in-memory ranking (hotline.domain.kb_rank), kept fresh.

Each worker process holds one `SuggestIndex` per database. Before ranking it asks the
database for the entries' signature — how many there are and the latest `changed_at`, which
every edit moves (a use does not: it changes no words) — and rebuilds when that differs, so an
edit on one worker reaches the suggestions of every worker at their next request. Use counts
and last use are read afresh for the few entries returned.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.kb_rank import Doc, Ranked, SuggestIndex
from hotline.domain.knowledge import offered
from hotline.domain.models import KbEntry
from hotline.services.knowledge import local_today

_FIELDS = ("id", "title", "questions", "answer", "status", "valid_from", "valid_to")


@dataclass
class _Cached:
    signature: tuple[Any, ...]
    index: SuggestIndex


_indexes: dict[str, _Cached] = {}
_locks: dict[str, asyncio.Lock] = {}


async def _signature() -> tuple[Any, ...]:
    conn = KbEntry._meta.db
    _, rows = await conn.execute_query("SELECT COUNT(*), MAX(changed_at), MAX(id) FROM kb_entry")
    row = rows[0]
    values = tuple(row.values()) if isinstance(row, dict) else tuple(row)
    return tuple(str(v) for v in values)


async def current_index() -> SuggestIndex:
    """This worker's ranking of every entry, rebuilt if an entry changed since it was built."""
    name = KbEntry._meta.db.connection_name
    signature = await _signature()
    cached = _indexes.get(name)
    if cached is not None and cached.signature == signature:
        return cached.index
    lock = _locks.setdefault(name, asyncio.Lock())
    async with lock:
        cached = _indexes.get(name)
        if cached is not None and cached.signature == signature:
            return cached.index
        rows = await KbEntry.all().order_by("id").values(*_FIELDS)
        docs = [
            Doc(
                id=r["id"],
                title=r["title"],
                questions=tuple(r["questions"] or ()),
                answer=r["answer"],
                status=r["status"],
                valid_from=r["valid_from"],
                valid_to=r["valid_to"],
            )
            for r in rows
        ]
        # Building 10,000 vectors takes about a second of CPU: off the event loop.
        index = await asyncio.to_thread(SuggestIndex, docs)
        _indexes[name] = _Cached(signature, index)
        return index


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
