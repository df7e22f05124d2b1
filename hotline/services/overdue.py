"""Overdue work for supervisors: per-unit counts and one page of the longest overdue tickets.

Aggregated by the database whatever the backlog: one `GROUP BY lead_unit_id` for the counts
(and each unit's longest wait) and one `ORDER BY next_due_at LIMIT/OFFSET` for the page
shown, both on the `next_due_at` index. Nothing materialises every overdue ticket (the
dashboard once loaded 149,352 of them into Python to show 100).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.functions import Count, Min

from hotline.domain.lifecycle import OPEN_STATUSES
from hotline.domain.models import Ticket, Unit
from hotline.domain.timefmt import local_iso
from hotline.domain.vocabulary import Status
from hotline.services.rate_rows import when
from hotline.services.rates import UnitGroup
from hotline.services.units import unit_directory


@dataclass(frozen=True)
class OverduePage:
    """Which slice of the overdue list: 1-based page of `per_page` tickets."""

    page: int = 1
    per_page: int = 50

    @property
    def offset(self) -> int:
        """Tickets before this page."""
        return (self.page - 1) * self.per_page


def _hours(now: datetime, due: datetime) -> float:
    """How long past due, in hours (one decimal)."""
    return round((now - due).total_seconds() / 3600, 1)


# The overdue list's entry for tickets waiting on the centre (退单待改派).
CENTRE_ID = 0
CENTRE_ENTRY = {"unit": "CENTRE", "name": "热线中心（退单待改派）"}


async def overdue_summary(
    *, now: datetime, group: UnitGroup | None = None, page: OverduePage = OverduePage()
) -> dict[str, Any]:
    """Open tickets with a clock past due (`next_due_at < now`): every unit's count, the
    longest-waiting unit first, and one page of the tickets, the longest overdue first."""
    directory = await unit_directory()
    selected = (group or UnitGroup()).select(directory.values())
    query = Ticket.filter(
        next_due_at__lt=now,
        status__in=[s.value for s in OPEN_STATUSES],
        lead_unit_id__isnull=False,
    )
    if selected is not None:
        query = query.filter(lead_unit_id__in=[u.id for u in selected])
    # 退单待改派 waits on the centre, never on the unit that disputed it: its own entry.
    disputed = Status.DISPUTED.value
    counts = list(
        await query.exclude(status=disputed)
        .annotate(n=Count("id"), oldest=Min("next_due_at"))
        .group_by("lead_unit_id")
        .values_list("lead_unit_id", "n", "oldest")
    )
    centre = (
        await query.filter(status=disputed)
        .annotate(n=Count("id"), oldest=Min("next_due_at"))
        .values_list("n", "oldest")
    )
    if centre and centre[0][0]:
        counts.append((CENTRE_ID, centre[0][0], centre[0][1]))
    by_id: dict[int, Unit] = {u.id: u for u in directory.values()}
    total = sum(int(n) for _, n, _ in counts)
    rows = (
        await query.order_by("next_due_at", "id")
        .offset(page.offset)
        .limit(page.per_page)
        .values_list("number", "title", "status", "lead_unit_id", "next_due_at")
        if page.offset < total
        else []
    )

    def unit_of(unit_id: int, status: str | None = None) -> dict[str, str]:
        if unit_id == CENTRE_ID or status == disputed:
            return dict(CENTRE_ENTRY)
        unit = by_id.get(unit_id)
        return {
            "unit": unit.code if unit else str(unit_id),
            "name": unit.name if unit else str(unit_id),
        }

    return {
        "now": local_iso(now),
        "total": total,
        "page": page.page,
        "per_page": page.per_page,
        "pages": max(1, -(-total // page.per_page)),
        # Units with the longest-waiting ticket first.
        "units": [
            {
                **unit_of(unit_id),
                "count": int(n),
                "oldest_due_at": local_iso(when(oldest)),
                "overdue_hours": _hours(now, when(oldest)),
            }
            for unit_id, n, oldest in sorted(counts, key=lambda r: (when(r[2]), r[0]))
        ],
        "tickets": [
            {
                "number": number,
                "title": title,
                "status": status,
                **unit_of(unit_id, status),
                "due_at": local_iso(due),
                "overdue_hours": _hours(now, due),
            }
            for number, title, status, unit_id, due in rows
        ],
    }
