"""Fill the district and street of tickets recorded before intake stored where the matter is.

Intake now files a phone call under the place the router finds in its words; tickets taken
before that have neither, and the 热点区域 figures miss them. This reads the same gazetteer
(no classifier: the ticket's own kind and category are given) and writes only tickets whose
district is empty, so running it twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from tortoise.transactions import in_transaction

from hotline.domain.models import Ticket
from routing.loader import Routing

CHUNK = 500  # tickets per transaction: short enough never to hold SQLite's writer for long


async def fill_places(
    routing: Routing, *, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """(tickets read, tickets given a district) over every ticket with no district."""
    last_id = 0
    seen = filled = 0
    while True:
        rows = (
            await Ticket.filter(id__gt=last_id, district="")
            .order_by("id")
            .limit(CHUNK)
            .values_list("id", "kind", "category", "title", "content", "address")
        )
        if not rows:
            return seen, filled
        last_id = rows[-1][0]
        found: list[tuple[int, str, str]] = []
        for ticket_id, kind, category, title, content, address in rows:
            decision = routing.route(
                text=f"{title}\n{content}", address=address, kind=kind, category=category
            )
            if decision.district:
                found.append((ticket_id, decision.district, decision.street))
        async with in_transaction() as conn:
            for ticket_id, district, street in found:
                # district="" again: a ticket edited meanwhile keeps what a person gave it.
                await (
                    Ticket.filter(id=ticket_id, district="")
                    .using_db(conn)
                    .update(district=district, street=street)
                )
        seen += len(rows)
        filled += len(found)
        if progress is not None:
            progress(seen, filled)
