"""Full-text search over tickets, with each role's view rules.

A ticket is indexed in two columns:

- `shared`: what the ticket's units are shown — the dispatch title and text (of a 举报 or
  confidential ticket only once a person confirmed them), the address (not of those), and
  what units themselves wrote (replies, mediation accounts, notes, reasons);
- `centre`: what only the hotline centre reads — the original title and content (when they
  differ from the dispatch text), an unconfirmed proposal, and the centre's own notes.

Staff search both; a unit searches `shared` of the tickets it holds, and the result is
checked once more against the same rule the unit's pages use, so nothing of a 举报's original
(the reporter's name, phone, words) can be found by a unit. Anonymised tickets are indexed as
they now read: their removed name and phone are gone from the index in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from hotline.domain.auth import Principal
from hotline.domain.fulltext import Query, normalise, parse_query, runs
from hotline.domain.lifecycle import Role
from hotline.domain.models import Ticket, TicketEvent
from hotline.privacy.confirmed import needs_confirmation, unit_text_of
from hotline.privacy.rules import CONFIDENTIAL_KINDS, mask_personal
from hotline.services import fulltext
from hotline.services.fulltext import Hits, Kind

TICKETS = Kind("ticket_search", ("shared", "centre"))
STAFF_COLUMNS = ("shared", "centre")
UNIT_COLUMNS = ("shared",)
# Event payload keys holding words people wrote (replies, notes, reasons, accounts).
TEXT_KEYS = ("text", "note", "reason")
# Ticket columns the document is made of: an action that sets one re-indexes the ticket.
DOCUMENT_COLUMNS = frozenset(
    {
        "title",
        "content",
        "address",
        "dispatch_title",
        "dispatch_text",
        "dispatch_confirmed_at",
        "kind",
        "confidential",
        "complainant_name",
        "anonymised_at",
    }
)
# What a rebuild reads of each ticket.
_FIELDS = (
    "id",
    "kind",
    "confidential",
    "title",
    "content",
    "address",
    "complainant_name",
    "dispatch_title",
    "dispatch_text",
    "dispatch_confirmed_at",
    "anonymised_at",
)


@dataclass(frozen=True)
class _Words:
    """A ticket's indexed columns, from a row (model or dict)."""

    id: int
    kind: str
    confidential: bool
    title: str
    content: str
    address: str
    complainant_name: str
    dispatch_title: str | None
    dispatch_text: str | None
    dispatch_confirmed_at: Any
    anonymised_at: Any

    @classmethod
    def of(cls, row: Ticket | dict[str, Any]) -> _Words:
        get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
        return cls(**{name: get(name) for name in _FIELDS})


@dataclass(frozen=True)
class _Said:
    """One event's written words and whether a unit wrote them."""

    by_unit: bool
    texts: tuple[str, ...]


def _said(actor_role: str, payload: Any) -> _Said | None:
    if not isinstance(payload, dict):
        return None
    texts = tuple(str(payload[k]) for k in TEXT_KEYS if isinstance(payload.get(k), str))
    return _Said(actor_role == Role.UNIT.value, texts) if texts else None


def document(ticket: _Words, said: Iterable[_Said]) -> dict[str, list[str]]:
    """The ticket's texts per index column (see the module docstring)."""
    hidden = needs_confirmation(kind=ticket.kind, confidential=ticket.confidential)
    seen = unit_text_of(ticket)
    shared: list[str] = []
    centre: list[str] = []
    if seen.confirmed or not hidden:
        shared += [seen.title, seen.text]
    else:
        # An unconfirmed proposal: the centre may search it, no unit reads it yet.
        centre += [ticket.dispatch_title or "", ticket.dispatch_text or ""]
    (centre if hidden else shared).append(ticket.address)
    # Of the original only the runs units do not read already: the masked name and number
    # (我叫李建国, 13912345678), not the whole text a second time, which would double the index
    # (a phrase never spans two runs, so every search finds the same tickets).
    seen_runs = normalise("\n".join(shared))
    for text in (ticket.title, ticket.content):
        centre.append(" ".join(run for run in runs(text) if run not in seen_runs))
    for item in said:
        texts = item.texts
        if ticket.anonymised_at is not None:
            # The event log keeps the words; the index of an anonymised ticket does not keep
            # the numbers in them.
            texts = tuple(mask_personal(t) for t in texts)
        (shared if item.by_unit else centre).extend(texts)
    return {"shared": shared, "centre": centre}


async def _events_said(conn: BaseDBAsyncClient, ticket_ids: list[int]) -> dict[int, list[_Said]]:
    found: dict[int, list[_Said]] = {}
    if not ticket_ids:
        return found
    rows = await (
        TicketEvent.filter(ticket_id__in=ticket_ids)
        .using_db(conn)
        .order_by("id")
        .values_list("ticket_id", "actor_role", "payload")
    )
    for ticket_id, role, payload in rows:
        item = _said(role, payload)
        if item is not None:
            found.setdefault(ticket_id, []).append(item)
    return found


async def index_ticket(
    conn: BaseDBAsyncClient, ticket: Ticket, *, events: list[TicketEvent] | None = None
) -> None:
    """Re-index one ticket in the caller's transaction (`events`: all of its events, if in hand)."""
    if events is None:
        said = (await _events_said(conn, [ticket.id])).get(ticket.id, [])
    else:
        said = [s for e in events if (s := _said(e.actor_role, e.payload)) is not None]
    await fulltext.put(conn, TICKETS, ticket.id, document(_Words.of(ticket), said))


def touches_document(updates: dict[str, Any], payloads: Iterable[dict[str, Any]]) -> bool:
    """Whether an action's column updates or event payloads change the ticket's document."""
    if DOCUMENT_COLUMNS & updates.keys():
        return True
    return any(_said("", p) is not None for p in payloads)


# ---- search -----------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A search's ranked ticket ids, the query (for highlighting) and the capped total."""

    query: Query
    hits: Hits


def parse(text: str) -> Query:
    """The query for a search text."""
    return parse_query(text)


# The tickets a unit holds, as a condition on the index row's id, checked per match newest
# first (SQLite's FTS5 walks its doclists by rowid; PostgreSQL in windows of the newest ids).
UNIT_HOLDS = (
    "EXISTS (SELECT 1 FROM ticket_unit WHERE ticket_unit.ticket_id = {id}"
    " AND ticket_unit.unit_id = ? AND ticket_unit.active = ?)"
)
# On PostgreSQL a unit holding at most this many tickets is searched through its ids instead,
# bound as one array: the planner sees how few they are and reads just those rows (primary
# key bitmap), whatever the word. Checked per match, a small unit's common word visited every
# match in the table (80,000 at 1,000,000 tickets, 0.8 s). Above it, a long array costs more
# to plan than the per-match check (19,000 ids: 0.5 s).
SMALL_UNIT = 5000


async def _unit_within(
    conn: BaseDBAsyncClient, unit_id: int | None
) -> tuple[tuple[str, list[Any]], bool]:
    """The condition for a unit's tickets, and whether it is selective by itself."""
    if conn.capabilities.dialect == "postgres":
        _, rows = await conn.execute_query(
            "SELECT ticket_id FROM ticket_unit WHERE unit_id = $1 AND active = $2 LIMIT $3",
            [unit_id, True, SMALL_UNIT + 1],
        )
        if len(rows) <= SMALL_UNIT:
            return ("{id} = ANY(?::int[])", [sorted({int(r[0]) for r in rows})]), True
    return (UNIT_HOLDS, [unit_id, True]), False


def unit_shown() -> Q:
    """Tickets whose words a unit may read at all (the rule the unit's pages use)."""
    plain = Q(confidential=False) & ~Q(kind__in=sorted(CONFIDENTIAL_KINDS))
    return Q(dispatch_confirmed_at__isnull=False) | plain


async def search(*, principal: Principal, text: str, cap: int = fulltext.DEFAULT_CAP) -> Found:
    """Tickets whose words, as this user reads them, contain the text; ranked and capped."""
    query = parse_query(text)
    conn = Ticket._meta.db
    if principal.role == Role.UNIT:
        within, selective = await _unit_within(conn, principal.unit_id)
        hits = await fulltext.match(
            conn,
            TICKETS,
            query,
            columns=UNIT_COLUMNS,
            within=within,
            cap=cap,
            newest_first=not selective,
        )
    else:
        hits = await fulltext.match(conn, TICKETS, query, columns=STAFF_COLUMNS, cap=cap)
    return Found(query, hits)


# ---- rebuild ----------------------------------------------------------------
# See hotline/services/search_rebuild.py: the bulk rebuild (plain SQL, COPY on PostgreSQL).

REBUILD_BATCH = 5000


async def rebuild_index(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the whole index; readers keep searching the old one until it is swapped in."""
    from hotline.services.search_rebuild import rebuild_tickets

    async with in_transaction() as conn:
        return await rebuild_tickets(conn, progress=progress)


async def rebuild(
    conn: BaseDBAsyncClient, *, progress: Callable[[int, int], None] | None = None
) -> int:
    """Index every ticket afresh (in the caller's transaction); returns how many."""
    from hotline.services.search_rebuild import rebuild_tickets

    return await rebuild_tickets(conn, progress=progress)
