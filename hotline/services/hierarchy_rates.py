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

    def as_dict(self) -> dict[str, Any]:
        """Counts and the two on-time rates (None without a denominator)."""
        data: dict[str, Any] = asdict(self)
        due = self.opinions_given + self.opinions_overdue
        data["opinion_on_time_rate"] = round(self.opinions_on_time / due, 4) if due else None
        data["sub_on_time_rate"] = (
            round(self.sub_replied_on_time / self.subdispatched, 4) if self.subdispatched else None
        )
        return data


def _on_time(answered: datetime | None, due: datetime | None) -> bool:
    return answered is not None and (due is None or answered <= due)


async def hierarchy_figures(*, days: DateRange, group: UnitGroup, now: datetime) -> dict[str, Any]:
    """Per unit of the group: opinions given and on time, 下派 answered and on time."""
    period = days.period()
    horizon = min(now, period.end)  # an overdue opinion is one whose limit passed by then
    directory = await unit_directory()
    selected = group.select(directory.values())
    by_id = {u.id: u for u in directory.values()}
    wanted = None if selected is None else {u.id for u in selected}
    figures: dict[int, HierarchyFigures] = {}
    query = TicketUnit.filter(
        role__in=["assist", "sub"], created_at__gte=period.start, created_at__lt=period.end
    )
    if wanted is not None:
        query = query.filter(unit_id__in=sorted(wanted))
    links = await query.values_list("unit_id", "role", "due_at", "answered_at")
    for unit_id, role, due, answered in links:
        fig = figures.setdefault(unit_id, HierarchyFigures())
        if role == "assist":
            fig.assists += 1
            fig.opinions_given += answered is not None
            fig.opinions_on_time += _on_time(answered, due)
            fig.opinions_overdue += answered is None and due is not None and due < horizon
        else:
            fig.subdispatched += 1
            fig.sub_replied += answered is not None
            fig.sub_replied_on_time += _on_time(answered, due)
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
