"""The rates supervisors audit, per unit, from the event log and the clock rows (pure).

No I/O, no clock: `unit_rates` takes plain records and a period and returns counts and
rates. The rules (which event places a figure in the period, which unit it counts for)
are written out in the README under "Rates supervisors audit"; in short:

* An **assignment** is one 派单 or 改派 event; it belongs to the unit its payload names
  (`lead_unit`) and to the period its own date falls in. It lasts until the ticket's next
  改派. `dispatched`, `signed`, `signed_on_time`, `disputed`, `extended`, `replied` and
  `replied_on_time` count assignments of the period by what happened to them during that
  stint — whenever it happened, so a dispatch of 30 November signed on 1 December is a
  November dispatch that was signed. A ticket merged (并单) into another is a repeat: its
  assignment is taken back, whatever it had reached.
* A **callback** (回访 event) belongs to the period of its own date and to the unit that
  held the ticket then (the latest 派单/改派 before it). `reopened` counts the callbacks
  followed by a 重办 before the ticket's next callback.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

DISPATCH_ACTIONS = frozenset({"dispatch", "redispatch"})
# Every action the rates read; others (urge, pause, create, …) are never loaded.
RATE_ACTIONS = frozenset(
    {
        "dispatch",
        "redispatch",
        "sign",
        "reject",
        "approve-extension",
        "reply",
        "callback",
        "reopen",
        "merge",
    }
)
# Actions whose payload the rates need (the unit of a dispatch, the answers of a callback).
PAYLOAD_ACTIONS = frozenset({"dispatch", "redispatch", "callback"})


# slots, not frozen: the service builds hundreds of thousands of these per request, and a
# frozen dataclass's __init__ costs about twice as much.
@dataclass(slots=True)
class RateEvent:
    """One event-log row, reduced to what the rates read."""

    ticket_id: int
    seq: int  # the event id: orders a ticket's events
    action: str
    at: datetime
    lead_unit: str | None = None  # 派单/改派: the unit named in the payload
    contacted: bool | None = None  # 回访: the complainant was reached
    satisfaction: str | None = None  # 回访: 满意 / 基本满意 / 不满意
    solved: bool | None = None  # 回访: the complainant says the problem is solved

    @classmethod
    def of(
        cls, ticket_id: int, seq: int, action: str, at: datetime, payload: dict[str, Any] | None
    ) -> RateEvent:
        """The record of a row with its payload (only the keys the rates read)."""
        p = payload or {}
        return cls(
            ticket_id,
            seq,
            action,
            at,
            lead_unit=p.get("lead_unit"),
            contacted=p.get("contacted"),
            satisfaction=p.get("satisfaction"),
            solved=p.get("solved"),
        )


@dataclass(slots=True)
class RateClock:
    """One SLA clock row (receipt or feedback), reduced to what the rates read."""

    ticket_id: int
    kind: str
    started_at: datetime
    due_at: datetime | None


@dataclass(frozen=True)
class Period:
    """[start, end): aware datetimes (the service makes them from local days)."""

    start: datetime
    end: datetime

    def __contains__(self, at: datetime) -> bool:
        return self.start <= at < self.end


COUNT_FIELDS = (
    "dispatched",
    "signed",
    "signed_on_time",
    "disputed",
    "extended",
    "replied",
    "replied_on_time",
    "callbacks",
    "contacted",
    "solved",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "reopened",
)
# rate name → (numerator, denominator); 满意率 is computed apart (weighted numerator).
RATE_FIELDS: dict[str, tuple[str, str]] = {
    "sign_rate": ("signed", "dispatched"),
    "sign_on_time_rate": ("signed_on_time", "dispatched"),
    "dispute_rate": ("disputed", "dispatched"),
    "reply_rate": ("replied", "signed"),
    "on_time_rate": ("replied_on_time", "replied"),
    "extension_rate": ("extended", "signed"),
    "reopen_rate": ("reopened", "callbacks"),
    "response_rate": ("contacted", "callbacks"),
    "resolution_rate": ("solved", "callbacks"),
    "satisfaction_rate": ("satisfied + 0.9 × basically_satisfied", "callbacks"),
}
# Unit kinds of data/units.toml, for grouping units and for people.
UNIT_KINDS = {
    "department": "市直部门",
    "district": "区县",
    "street": "街道",
    "town": "镇",
    "enterprise": "公共服务企业",
}


@dataclass
class Figures:
    """Counts for one unit (or overall); rates are derived, never stored."""

    dispatched: int = 0
    signed: int = 0
    signed_on_time: int = 0
    disputed: int = 0
    extended: int = 0
    replied: int = 0
    replied_on_time: int = 0
    callbacks: int = 0
    contacted: int = 0
    solved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    unsatisfied: int = 0
    reopened: int = 0

    def add(self, other: Figures) -> None:
        """Add another figure set's counts to this one."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def counts(self) -> dict[str, int]:
        """The counts by name."""
        return {name: getattr(self, name) for name in COUNT_FIELDS}

    def rates(self) -> dict[str, float | None]:
        """Each rate in 0–1, rounded to 4 decimals; None where the denominator is 0."""
        out: dict[str, float | None] = {}
        for name, (num, den) in RATE_FIELDS.items():
            d = getattr(self, den)
            if not d:
                out[name] = None
            elif name == "satisfaction_rate":
                # In tenths, so 0.9 × n stays an exact integer before the one division.
                weighted = 10 * self.satisfied + 9 * self.basically_satisfied
                out[name] = round(weighted / (10 * d), 4)
            else:
                out[name] = round(getattr(self, num) / d, 4)
        return out

    def as_dict(self) -> dict[str, int | float | None]:
        """Counts then rates, as the API answers them."""
        return {**self.counts(), **self.rates()}


class _Clocks:
    """A ticket's clocks of one kind, by start time: which one was running at a moment."""

    def __init__(self, rows: list[RateClock]) -> None:
        self.rows = sorted(rows, key=lambda c: c.started_at)
        self.starts = [c.started_at for c in self.rows]

    def running_at(self, at: datetime) -> RateClock | None:
        """The latest clock started at or before `at` (the one an event at `at` met)."""
        i = bisect_right(self.starts, at)
        return self.rows[i - 1] if i else None


def _on_time(clocks: _Clocks | None, at: datetime) -> bool:
    """Met no later than the due time of the clock running at `at` (no due time: on time)."""
    clock = clocks.running_at(at) if clocks else None
    return clock is None or clock.due_at is None or at <= clock.due_at


@dataclass(slots=True)
class _Stint:
    """One assignment (派单/改派 of the period) and what has happened to it so far."""

    fig: Figures
    signed: bool = False
    signed_on_time: bool = False
    disputed: bool = False
    extended: bool = False
    replied: bool = False

    def withdraw(self) -> None:
        """A repeat merged (并单) into another ticket counts once, there: take it back."""
        fig = self.fig
        fig.dispatched -= 1
        fig.signed -= self.signed
        fig.signed_on_time -= self.signed_on_time
        fig.disputed -= self.disputed
        fig.extended -= self.extended


def unit_rates(
    events: Iterable[RateEvent],
    clocks: Iterable[RateClock],
    period: Period,
    *,
    include: Callable[[str], bool] | None = None,
) -> tuple[Figures, dict[str, Figures]]:
    """Overall and per-unit figures of `period`.

    `events` must hold, for every ticket with a 派单/改派 or 回访 in the period, all its
    events of RATE_ACTIONS (earlier ones too: a callback's unit comes from the dispatch
    before it; later ones too: they complete the period's assignments). `clocks` holds
    those tickets' receipt and feedback clocks. `include` limits the units (a group);
    overall is the sum over the included units.
    """
    by_ticket: dict[int, list[RateEvent]] = defaultdict(list)
    for e in events:
        if e.action in RATE_ACTIONS:
            by_ticket[e.ticket_id].append(e)
    clock_rows: dict[tuple[int, str], list[RateClock]] = defaultdict(list)
    for c in clocks:
        clock_rows[(c.ticket_id, c.kind)].append(c)
    clock_index: dict[tuple[int, str], _Clocks] = {}

    def ticket_clocks(ticket_id: int, kind: str) -> _Clocks | None:
        key = (ticket_id, kind)
        if key not in clock_index:
            rows = clock_rows.get(key)
            if not rows:
                return None
            clock_index[key] = _Clocks(rows)
        return clock_index[key]

    per_unit: dict[str, Figures] = defaultdict(Figures)
    for ticket_id, rows in by_ticket.items():
        rows.sort(key=lambda e: e.seq)
        unit: str | None = None  # who holds the ticket (latest 派单/改派)
        stint: _Stint | None = None  # the current assignment, if it is one of the period's
        called_back: Figures | None = None  # the period's callback a 重办 would count for
        for e in rows:
            a = e.action
            if a in DISPATCH_ACTIONS:
                unit = e.lead_unit
                stint = None
                if unit and e.at in period:
                    stint = _Stint(per_unit[unit])
                    stint.fig.dispatched += 1
            elif a == "sign":
                if stint and not stint.signed:
                    stint.signed = True
                    stint.fig.signed += 1
                    if _on_time(ticket_clocks(ticket_id, "receipt"), e.at):
                        stint.signed_on_time = True
                        stint.fig.signed_on_time += 1
            elif a == "reject":
                if stint and not stint.disputed:
                    stint.disputed = True
                    stint.fig.disputed += 1
            elif a == "approve-extension":
                if stint and not stint.extended:
                    stint.extended = True
                    stint.fig.extended += 1
            elif a == "reply":
                if stint and not stint.replied:
                    stint.replied = True
                    stint.fig.replied += 1
                    if _on_time(ticket_clocks(ticket_id, "feedback"), e.at):
                        stint.fig.replied_on_time += 1
            elif a == "callback":
                called_back = None
                if unit and e.at in period:
                    fig = called_back = per_unit[unit]
                    fig.callbacks += 1
                    fig.contacted += bool(e.contacted)
                    fig.solved += e.solved is True
                    fig.satisfied += e.satisfaction == "满意"
                    fig.basically_satisfied += e.satisfaction == "基本满意"
                    fig.unsatisfied += e.satisfaction == "不满意"
            elif a == "reopen":
                if called_back is not None:
                    called_back.reopened += 1
                    called_back = None
            elif a == "merge":
                # Merged before any reply: the assignment is the other ticket's, not a second.
                if stint is not None:
                    stint.withdraw()
                    stint = None
    units = {code: fig for code, fig in per_unit.items() if include is None or include(code)}
    overall = Figures()
    for fig in units.values():
        overall.add(fig)
    return overall, units
