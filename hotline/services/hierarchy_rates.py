"""Figures of the hierarchy per unit: 协办意见 given (on time) and 下派 handled below.

The responsible unit's own rates (`hotline.services.rates`) are unchanged by both: an
assisting unit's opinion and a descendant's part in a 下派 are counted here, for the unit
that gave them, from the ticket's unit links (each written by an action of the event log:
派单/改派 for 协办, 下派 and its answers for the descendant) and the 下派退回 events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from hotline.domain.lifecycle import Action
from hotline.domain.models import TicketEvent, TicketUnit
from hotline.reporting.unit_rates import Period
from hotline.services.rate_sql import placeholders, stored_time
from hotline.services.rates import DateRange, UnitGroup
from hotline.services.units import unit_directory


@dataclass
class HierarchyFigures:
    """One unit's part in others' tickets during a period (assignments made in it)."""

    assists: int = 0  # times it was named an assisting unit (派单/改派)
    opinions_given: int = 0  # of those, with an opinion given
    opinions_on_time: int = 0  # ... within the 协办时限
    opinions_overdue: int = 0  # no opinion and the 协办时限 passed (by the period's end or now)
    subdispatched: int = 0  # 下派 received from its superior
    sub_replied: int = 0  # answered upward
    sub_replied_on_time: int = 0  # the (latest) answer within the internal deadline
    sub_returned: int = 0  # answers its superior sent back (下派退回, by the return's time)

    def count_link(
        self, role: str, due: datetime | None, answered: datetime | None, horizon: datetime
    ) -> None:
        """Add one 协办 (`assist`) or 下派 (`sub`) link: the definition, one link at a time,
        which the database's grouped counts (`_LINK_COUNTS`) are checked against."""
        on_time = answered is not None and (due is None or answered <= due)
        if role == "assist":
            self.assists += 1
            self.opinions_given += answered is not None
            self.opinions_on_time += on_time
            self.opinions_overdue += answered is None and due is not None and due < horizon
        else:
            self.subdispatched += 1
            self.sub_replied += answered is not None
            self.sub_replied_on_time += on_time

    def as_dict(self) -> dict[str, Any]:
        """Counts and the two on-time rates (None without a denominator)."""
        data: dict[str, Any] = asdict(self)
        due = self.opinions_given + self.opinions_overdue
        data["opinion_on_time_rate"] = round(self.opinions_on_time / due, 4) if due else None
        data["sub_on_time_rate"] = (
            round(self.sub_replied_on_time / self.subdispatched, 4) if self.subdispatched else None
        )
        return data


# Per (unit, role) of the links made in the period: links, answered, answered by the due
# time (or without one), unanswered with the due time passed by the horizon
# (`HierarchyFigures.count_link`, one link at a time). Counted by the
# database through the covering (role, created_at, …) index: a year at 1,000,000 tickets
# is ~100,000 links, which the ORM turned into objects one by one (~1 s on SQLite). The
# times are compared as stored: timestamps on PostgreSQL, tortoise's UTC text on SQLite.
_LINK_COUNTS = (
    "SELECT unit_id, role, COUNT(*), "
    "SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN answered_at IS NOT NULL AND (due_at IS NULL OR answered_at <= due_at) "
    "THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN answered_at IS NULL AND due_at < ? THEN 1 ELSE 0 END) "
    "FROM ticket_unit WHERE role IN ('assist', 'sub') AND created_at >= ? AND created_at < ?"
)


async def _link_counts(
    period: Period, horizon: datetime, wanted: set[int] | None
) -> list[tuple[int, str, int, int, int, int]]:
    """(unit_id, role, links, answered, on time, overdue) of the period's 协办/下派 links."""
    conn = TicketUnit._meta.db
    dialect = conn.capabilities.dialect
    sql = _LINK_COUNTS
    params: list[Any] = [stored_time(dialect, t) for t in (horizon, period.start, period.end)]
    if wanted is not None:
        if not wanted:
            return []
        sql += f" AND unit_id IN ({', '.join('?' * len(wanted))})"
        params += sorted(wanted)
    _, rows = await conn.execute_query(
        placeholders(dialect, sql + " GROUP BY unit_id, role"), params
    )
    return [(int(r[0]), r[1], *(int(v or 0) for v in list(r)[2:])) for r in rows]


async def hierarchy_figures(*, days: DateRange, group: UnitGroup, now: datetime) -> dict[str, Any]:
    """Per unit of the group: opinions given and on time, 下派 answered and on time."""
    period = days.period()
    horizon = min(now, period.end)  # an overdue opinion is one whose limit passed by then
    directory = await unit_directory()
    selected = group.select(directory.values())
    by_id = {u.id: u for u in directory.values()}
    wanted = None if selected is None else {u.id for u in selected}
    figures: dict[int, HierarchyFigures] = {}
    for unit_id, role, *counts in await _link_counts(period, horizon, wanted):
        fig = figures.setdefault(unit_id, HierarchyFigures())
        if role == "assist":
            fig.assists, fig.opinions_given, fig.opinions_on_time, fig.opinions_overdue = counts
        else:
            fig.subdispatched, fig.sub_replied, fig.sub_replied_on_time, _ = counts
    codes = {u.code: u.id for u in directory.values()}
    returns = await TicketEvent.filter(
        action=Action.SUB_RETURN.value, created_at__gte=period.start, created_at__lt=period.end
    ).values_list("payload", flat=True)
    for payload in returns:
        unit_id = codes.get((payload or {}).get("unit", ""))
        if unit_id is None or (wanted is not None and unit_id not in wanted):
            continue
        figures.setdefault(unit_id, HierarchyFigures()).sub_returned += 1
    listed = sorted(figures, key=lambda i: i)
    return {
        "from": days.first.isoformat(),
        "to": days.last.isoformat(),
        "filter": group.describe(),
        "units": [
            {
                "unit": by_id[i].code if i in by_id else str(i),
                "name": by_id[i].name if i in by_id else str(i),
                "kind": by_id[i].kind if i in by_id else None,
                **figures[i].as_dict(),
            }
            for i in listed
        ],
    }
