"""Figures for supervisors, read from the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.domain.models import TicketEvent, Unit
from hotline.reporting.rates import DISPATCH_FIGURE_ACTIONS, EventRow, dispatch_figures


async def routing_figures(*, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """Shares auto-dispatched, disputed (退单率) and re-dispatched, overall and per unit."""
    query = TicketEvent.filter(action__in=sorted(DISPATCH_FIGURE_ACTIONS))
    if since:
        query = query.filter(created_at__gte=since)
    if until:
        query = query.filter(created_at__lt=until)
    rows = await query.order_by("id").values(
        "ticket_id", "action", "actor_role", "actor_unit__code", "payload"
    )
    overall, per_unit = dispatch_figures(
        EventRow(r["ticket_id"], r["action"], r["actor_role"], r["actor_unit__code"], r["payload"])
        for r in rows
    )
    names = {u.code: u.name for u in await Unit.filter(code__in=list(per_unit))}
    return {
        "overall": overall.as_dict(),
        "units": [
            {"code": code, "name": names.get(code, code), **fig.as_dict()}
            for code, fig in sorted(per_unit.items(), key=lambda kv: -kv[1].dispatched)
        ],
    }
