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
* An on-time rate counts what was **due**, not only what was answered: an assignment of the
  period not replied (not signed) whose feedback (receipt) deadline passed while the unit
  held it, before the period's end (or now, for a running period), is `overdue_unreplied`
  (`overdue_unsigned`) and counts as late. Each assignment keeps the due time it can be
  late against (`unreplied_due_at`, `unsigned_due_at`), so the count is a comparison with
  the cut-off, not a rule that needs the clock.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from hotline.domain.lifecycle import RATE_EFFECTS, RateEffect

# The action table says what each event counts for (ActionSpec.rate); these are views of it.
_ASSIGNING = frozenset({RateEffect.ASSIGN, RateEffect.REASSIGN})
DISPATCH_ACTIONS = frozenset(a for a, r in RATE_EFFECTS.items() if r in _ASSIGNING)
# Every action the rates read; others (urge, pause, create, …) are never loaded.
RATE_ACTIONS = frozenset(RATE_EFFECTS)
# Actions whose payload the rates need (the unit of a dispatch, the answers of a callback).
PAYLOAD_ACTIONS = frozenset(
    a for a, r in RATE_EFFECTS.items() if r in _ASSIGNING or r is RateEffect.CALLBACK
)
# Actions that give a row its date (assignments and callbacks): a period touches a ticket
# that has one of these in it.
DATED_ACTIONS = PAYLOAD_ACTIONS
CALLBACK_ACTIONS = frozenset(a for a, r in RATE_EFFECTS.items() if r is RateEffect.CALLBACK)


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
    met_at: datetime | None = None  # stopped (by a sign, reply, 退单, 改派 …); None: running
    paused: bool = False  # an approved 挂起: not running, so not late while it lasts


@dataclass(frozen=True)
class Period:
    """[start, end): aware datetimes (the service makes them from local days)."""

    start: datetime
    end: datetime

    def __contains__(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def cutoff(self, now: datetime | None) -> datetime:
        """The moment deadlines are judged at: the period's end, or `now` while it runs."""
        return self.end if now is None else min(self.end, now)


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
    "overdue_unsigned",
    "overdue_unreplied",
)
# Counted against a cut-off (the period's end or now), not summed from 0/1 columns.
OVERDUE_COUNTS = ("overdue_unsigned", "overdue_unreplied")
# rate name → (numerator, denominator); 满意率 is computed apart (weighted numerator).
RATE_FIELDS: dict[str, tuple[str, str]] = {
    "sign_rate": ("signed", "dispatched"),
    # Due = signed, or unsigned past the receipt deadline (late): never fewer by not signing.
    "sign_on_time_rate": ("signed_on_time", "sign_due"),
    "dispute_rate": ("disputed", "dispatched"),
    "reply_rate": ("replied", "signed"),
    # Due = replied, or unreplied past the feedback deadline (late): never fewer by not replying.
    "on_time_rate": ("replied_on_time", "reply_due"),
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
    "community": "社区/村",
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
    overdue_unsigned: int = 0
    overdue_unreplied: int = 0

    @property
    def sign_due(self) -> int:
        """Assignments whose 签收 was due: signed (on time or late) or unsigned and overdue."""
        return self.signed + self.overdue_unsigned

    @property
    def reply_due(self) -> int:
        """Assignments whose reply was due: replied (on time or late) or unreplied and overdue."""
        return self.replied + self.overdue_unreplied

    def add(self, other: Figures) -> None:
        """Add another figure set's counts to this one."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def counts(self) -> dict[str, int]:
        """The counts by name."""
        return {name: getattr(self, name) for name in COUNT_FIELDS}

    def ratio(self, name: str) -> float | None:
        """One rate unrounded (the 考核 score multiplies it); None where the denominator is 0."""
        num, den = RATE_FIELDS[name]
        d = getattr(self, den)
        if not d:
            return None
        if name == "satisfaction_rate":
            # In tenths, so 0.9 × n stays an exact integer before the one division.
            return (10 * self.satisfied + 9 * self.basically_satisfied) / (10 * d)
        return getattr(self, num) / d

    def rates(self) -> dict[str, float | None]:
        """Each rate in 0–1, rounded to 4 decimals; None where the denominator is 0."""
        out: dict[str, float | None] = {}
        for name in RATE_FIELDS:
            value = self.ratio(name)
            out[name] = None if value is None else round(value, 4)
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
class Assignment:
    """One 派单/改派 with a unit, and what happened to it until the ticket's next 改派.

    Its own date places it in a period and `unit` is whom it counts for; the flags are
    what it adds to that unit's counts, whenever they happened. The database keeps one
    row per assignment (`rate_assignment`) with exactly these values, so a period's
    counts are sums of rows.
    """

    ticket_id: int
    ordinal: int  # the ticket's n-th 派单/改派 event (1-based): names the row for good
    unit: str
    at: datetime
    signed: bool = False
    signed_on_time: bool = False
    disputed: bool = False
    extended: bool = False
    replied: bool = False
    replied_on_time: bool = False
    merged: bool = False  # the ticket was merged (并单) into another during this assignment
    # The deadline this assignment is late against while it stays unanswered: the due time
    # of its receipt (feedback) clock when that passed before the clock stopped (or it still
    # runs); None when signed (replied), merged, paused, or stopped in time (退单, 改派).
    unsigned_due_at: datetime | None = None
    unreplied_due_at: datetime | None = None

    def counts(self) -> dict[str, int]:
        """What this assignment adds to its unit's counts (0 or 1 each)."""
        # A repeat merged into another ticket counts there, not here: take the assignment
        # back. A reply is not taken back (a merge comes before any reply, or after a 重办).
        kept = not self.merged
        return {
            "dispatched": int(kept),
            "signed": int(kept and self.signed),
            "signed_on_time": int(kept and self.signed_on_time),
            "disputed": int(kept and self.disputed),
            "extended": int(kept and self.extended),
            "replied": int(self.replied),
            "replied_on_time": int(self.replied_on_time),
        }

    def overdue(self, cutoff: datetime) -> dict[str, int]:
        """Whether it is an overdue unsigned / unreplied assignment at `cutoff` (0 or 1)."""
        return {
            "overdue_unsigned": int(
                self.unsigned_due_at is not None and self.unsigned_due_at < cutoff
            ),
            "overdue_unreplied": int(
                self.unreplied_due_at is not None and self.unreplied_due_at < cutoff
            ),
        }


@dataclass(slots=True)
class Callback:
    """One 回访, for the unit that held the ticket then; one row of `rate_callback`."""

    ticket_id: int
    ordinal: int  # the ticket's n-th 回访 event (1-based)
    unit: str
    at: datetime
    contacted: bool = False
    solved: bool = False
    satisfaction: str | None = None
    reopened: bool = False  # followed by a 重办 before the ticket's next 回访

    def counts(self) -> dict[str, int]:
        """What this callback adds to its unit's counts (0 or 1 each)."""
        return {
            "callbacks": 1,
            "contacted": int(self.contacted),
            "solved": int(self.solved),
            "satisfied": int(self.satisfaction == "满意"),
            "basically_satisfied": int(self.satisfaction == "基本满意"),
            "unsatisfied": int(self.satisfaction == "不满意"),
            "reopened": int(self.reopened),
        }


ASSIGNMENT_COUNTS = (
    "dispatched",
    "signed",
    "signed_on_time",
    "disputed",
    "extended",
    "replied",
    "replied_on_time",
)
CALLBACK_COUNTS = tuple(
    name for name in COUNT_FIELDS if name not in ASSIGNMENT_COUNTS and name not in OVERDUE_COUNTS
)


def _due_while_held(
    clocks: list[RateClock], start: datetime, end: datetime | None
) -> datetime | None:
    """The due time an unanswered assignment [start, end) is late against, or None.

    The latest clock of the kind started during the assignment; its due time counts when it
    passed before the clock stopped (met, or the assignment ended) — a 退单 or 改派 in time
    is no lateness — and the clock is not paused (an approved 挂起).
    """
    mine = [c for c in clocks if c.started_at >= start and (end is None or c.started_at < end)]
    if not mine:
        return None
    clock = max(mine, key=lambda c: c.started_at)
    if clock.due_at is None or clock.paused:
        return None
    stops = [t for t in (clock.met_at, end) if t is not None]
    if stops and min(stops) <= clock.due_at:
        return None
    return clock.due_at


def ticket_rate_rows(
    events: Iterable[RateEvent], clocks: Iterable[RateClock]
) -> tuple[list[Assignment], list[Callback]]:
    """The assignments and callbacks of ONE ticket, from its events and met clocks.

    `events` are the ticket's events (any action; those outside RATE_ACTIONS are ignored),
    `clocks` its met receipt and feedback clocks. Period-free: the same rows serve every
    period, so the write path keeps them in the database and the batch computation
    (`unit_rates`) counts them.
    """
    rows = sorted((e for e in events if e.action in RATE_ACTIONS), key=lambda e: e.seq)
    by_kind: dict[str, list[RateClock]] = defaultdict(list)
    for c in clocks:
        by_kind[c.kind].append(c)
    receipt = _Clocks(by_kind["receipt"]) if by_kind.get("receipt") else None
    feedback = _Clocks(by_kind["feedback"]) if by_kind.get("feedback") else None
    assignments: list[Assignment] = []
    # assignment ordinal → when a 改派 or 并单 ended it; -ordinal → its pending 退单
    ended: dict[int, datetime] = {}
    callbacks: list[Callback] = []
    n_dispatch = n_callback = 0
    unit: str | None = None  # who holds the ticket (latest 派单/改派)
    stint: Assignment | None = None  # the current assignment, until the next 改派 or a merge
    called_back: Callback | None = None  # the callback a 重办 would count for
    for e in rows:
        effect = RATE_EFFECTS[e.action]
        if effect in _ASSIGNING:
            n_dispatch += 1
            unit = e.lead_unit
            if stint is not None:
                ended[stint.ordinal] = e.at
            stint = None
            if unit:
                stint = Assignment(e.ticket_id, n_dispatch, unit, e.at)
                assignments.append(stint)
        elif effect is RateEffect.SIGN:
            if stint:
                ended.pop(-stint.ordinal, None)  # acting on it again: the unit holds it
            if stint and not stint.signed:
                stint.signed = True
                stint.signed_on_time = _on_time(receipt, e.at)
        elif effect is RateEffect.DISPUTE:
            if stint:
                stint.disputed = True
                # From a 退单 until the centre decides, the time is the centre's (not late).
                ended[-stint.ordinal] = e.at
        elif effect is RateEffect.EXTEND:
            if stint:
                stint.extended = True
                ended.pop(-stint.ordinal, None)
        elif effect is RateEffect.REPLY:
            if stint:
                ended.pop(-stint.ordinal, None)
            if stint and not stint.replied:
                stint.replied = True
                stint.replied_on_time = _on_time(feedback, e.at)
        elif effect is RateEffect.CALLBACK:
            n_callback += 1
            called_back = None
            if unit:
                called_back = Callback(
                    e.ticket_id,
                    n_callback,
                    unit,
                    e.at,
                    contacted=bool(e.contacted),
                    solved=e.solved is True,
                    satisfaction=e.satisfaction,
                )
                callbacks.append(called_back)
        elif effect is RateEffect.REOPEN:
            if called_back is not None:
                called_back.reopened = True
                called_back = None
        elif effect is RateEffect.MERGE:
            # Merged before any reply: the assignment is the other ticket's, not a second.
            if stint is not None:
                stint.merged = True
                ended[stint.ordinal] = e.at
                stint = None
    for a in assignments:
        if a.merged:
            continue
        stops = [t for t in (ended.get(a.ordinal), ended.get(-a.ordinal)) if t is not None]
        end = min(stops) if stops else None
        if not a.signed:
            a.unsigned_due_at = _due_while_held(by_kind.get("receipt", []), a.at, end)
        if not a.replied:
            a.unreplied_due_at = _due_while_held(by_kind.get("feedback", []), a.at, end)
    return assignments, callbacks


def count_rows(
    assignments: Iterable[Assignment],
    callbacks: Iterable[Callback],
    period: Period,
    *,
    include: Callable[[str], bool] | None = None,
    now: datetime | None = None,
) -> tuple[Figures, dict[str, Figures]]:
    """Overall and per-unit figures of the rows whose own date is in `period`.

    A unit with a row in the period is listed even when the row adds nothing (a merged
    repeat's assignment); `include` limits the units, overall is the sum over them.
    Deadlines are judged at the period's end, or at `now` when that is earlier.
    """
    cutoff = period.cutoff(now)
    per_unit: dict[str, Figures] = defaultdict(Figures)
    for row in (*assignments, *callbacks):
        if row.at in period and (include is None or include(row.unit)):
            fig = per_unit[row.unit]
            counts = row.counts()
            if isinstance(row, Assignment):
                counts.update(row.overdue(cutoff))
            for name, n in counts.items():
                setattr(fig, name, getattr(fig, name) + n)
    overall = Figures()
    for fig in per_unit.values():
        overall.add(fig)
    return overall, dict(per_unit)


def unit_rates(
    events: Iterable[RateEvent],
    clocks: Iterable[RateClock],
    period: Period,
    *,
    include: Callable[[str], bool] | None = None,
    now: datetime | None = None,
) -> tuple[Figures, dict[str, Figures]]:
    """Overall and per-unit figures of `period` (the definition: rows of every ticket, counted).

    `events` must hold, for every ticket with a 派单/改派 or 回访 in the period, all its
    events of RATE_ACTIONS (earlier ones too: a callback's unit comes from the dispatch
    before it; later ones too: they complete the period's assignments). `clocks` holds
    those tickets' met receipt and feedback clocks. `include` limits the units (a group);
    overall is the sum over the included units.
    """
    assignments, callbacks = all_rate_rows(events, clocks)
    return count_rows(assignments, callbacks, period, include=include, now=now)


def all_rate_rows(
    events: Iterable[RateEvent], clocks: Iterable[RateClock]
) -> tuple[list[Assignment], list[Callback]]:
    """`ticket_rate_rows` of every ticket in `events` (the rebuild and the batch path)."""
    by_ticket: dict[int, list[RateEvent]] = defaultdict(list)
    for e in events:
        if e.action in RATE_ACTIONS:
            by_ticket[e.ticket_id].append(e)
    clock_rows: dict[int, list[RateClock]] = defaultdict(list)
    for c in clocks:
        clock_rows[c.ticket_id].append(c)
    assignments: list[Assignment] = []
    callbacks: list[Callback] = []
    for ticket_id, rows in by_ticket.items():
        a, c = ticket_rate_rows(rows, clock_rows.get(ticket_id, ()))
        assignments += a
        callbacks += c
    return assignments, callbacks
