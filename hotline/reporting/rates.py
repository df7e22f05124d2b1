"""Rates derived from the event log (pure): every figure is reproducible from the events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hotline.domain.lifecycle import RATE_EFFECTS, RateEffect, Role

# The actions dispatch_figures reads (派单, 改派, 退单), from the action table.
DISPATCH_FIGURE_EFFECTS = frozenset({RateEffect.ASSIGN, RateEffect.REASSIGN, RateEffect.DISPUTE})
DISPATCH_FIGURE_ACTIONS = frozenset(
    a for a, r in RATE_EFFECTS.items() if r in DISPATCH_FIGURE_EFFECTS
)


@dataclass(frozen=True)
class EventRow:
    """The fields of an event the rates need."""

    ticket_id: int
    action: str
    actor_role: str
    actor_unit: str | None
    payload: dict[str, Any]


@dataclass
class DispatchFigures:
    """Routing figures for one unit (or overall): counts and shares."""

    dispatched: int = 0
    auto_dispatched: int = 0
    disputed: int = 0
    redispatched_away: int = 0
    tickets: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        """Counts and shares, rounded for people."""

        def share(n: int) -> float:
            return round(n / self.dispatched, 4) if self.dispatched else 0.0

        return {
            "dispatched": self.dispatched,
            "auto_dispatched": self.auto_dispatched,
            "disputed": self.disputed,
            "redispatched_away": self.redispatched_away,
            "auto_dispatch_rate": share(self.auto_dispatched),
            "dispute_rate": share(self.disputed),
            "redispatch_rate": share(self.redispatched_away),
        }


def dispatch_figures(
    events: Iterable[EventRow],
) -> tuple[DispatchFigures, dict[str, DispatchFigures]]:
    """Overall and per-unit: dispatches received, auto-dispatched, 退单 and 改派 away.

    A dispatch counts for the unit it named; a 退单 for the unit that disputed; a 改派 as
    "re-dispatched away" for the unit that held the ticket before.
    """
    overall = DispatchFigures()
    per_unit: dict[str, DispatchFigures] = defaultdict(DispatchFigures)
    for e in events:
        effect = RATE_EFFECTS.get(e.action)
        if effect in (RateEffect.ASSIGN, RateEffect.REASSIGN):
            lead = e.payload.get("lead_unit")
            for fig in (overall, per_unit[lead]) if lead else (overall,):
                fig.dispatched += 1
                fig.tickets.add(e.ticket_id)
                if e.actor_role == Role.SYSTEM.value:
                    fig.auto_dispatched += 1
            if effect is RateEffect.REASSIGN:
                previous = e.payload.get("previous_unit")
                overall.redispatched_away += 1
                if previous:
                    per_unit[previous].redispatched_away += 1
        elif effect is RateEffect.DISPUTE:
            overall.disputed += 1
            if e.actor_unit:
                per_unit[e.actor_unit].disputed += 1
    return overall, dict(per_unit)
