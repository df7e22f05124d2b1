"""The rows the audited rates are summed from: one per assignment, one per callback.

`hotline.reporting.unit_rates.ticket_rate_rows` derives a ticket's rows from its events and
receipt/feedback clocks (pure); this module keeps them in `rate_assignment` / `rate_callback`:

* the write path calls `refresh_ticket_rates` in the transaction of every action that
  can change them (`ActionSpec.affects_rates`, or any clock change: the rows keep the
  deadline an unanswered assignment is late against): one read of the ticket's rate events,
  one of its stored rows, one upsert per table that has rows, so the rows always match the
  log;
* the same transaction adds the change to the daily per-unit rollup (`rate_daily`);
* `rebuild_rates` recomputes every row from the log with the same function (after an
  upgrade, or after a change of the rules) into staging tables and swaps them in with one
  short transaction (`hotline.services.rate_rebuild`);
* `sum_rate_rows` turns a period into per-unit figures from the rollup.

Events are append-only, so a ticket's rows only ever gain rows or change flags: a row is
named by (ticket, n-th 派单/改派 or n-th 回访) and written with an upsert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.models import RateAssignment, TicketClock, TicketEvent
from hotline.reporting.unit_rates import (
    ASSIGNMENT_COUNTS,
    CALLBACK_ACTIONS,
    CALLBACK_COUNTS,
    DISPATCH_ACTIONS,
    PAYLOAD_ACTIONS,
    RATE_ACTIONS,
    Assignment,
    Callback,
    Figures,
    Period,
    RateClock,
    RateEvent,
    ticket_rate_rows,
)
from hotline.services.rate_daily import (
    day_sums,
    days_change,
    period_figures,
    stored_days,
    upsert_days,
)
from hotline.services.rate_sql import (
    flag,
    json_field,
    placeholders,
    stored_time,
    when,
)
from sla.clock import ClockKind, ClockState

RATE_CLOCK_KINDS = (ClockKind.RECEIPT.value, ClockKind.FEEDBACK.value)
ASSIGNMENT_COLUMNS = (
    "ticket_id",
    "ordinal",
    "unit",
    "dispatched_at",
    "merged",
    *ASSIGNMENT_COUNTS,
    "unsigned_due_at",
    "unreplied_due_at",
)
_CALLBACK_COUNT_COLUMNS = tuple(c for c in CALLBACK_COUNTS if c != "callbacks")
CALLBACK_COLUMNS = (
    "ticket_id",
    "ordinal",
    "unit",
    "called_at",
    "satisfaction",
    *_CALLBACK_COUNT_COLUMNS,
)


def rate_event_sql(dialect: str, where: str) -> str:
    """SELECT of the rate events matching `where` (plus `action IN (?…)` for RATE_ACTIONS),
    with the four payload keys the rates read extracted by the database."""
    dispatches = ", ".join(f"'{a}'" for a in sorted(DISPATCH_ACTIONS))
    callback = [
        f"CASE WHEN action = 'callback' THEN {json_field(dialect, key)} END"
        for key in ("contacted", "satisfaction", "solved")
    ]
    return (
        "SELECT ticket_id, id, action, created_at, "
        f"CASE WHEN action IN ({dispatches}) THEN {json_field(dialect, 'lead_unit')} END, "
        f"{', '.join(callback)} "
        f"FROM ticket_event WHERE {where} "
        f"AND action IN ({', '.join('?' * len(RATE_ACTIONS))})"
    )


def rate_clock_sql(where: str) -> str:
    """SELECT of the receipt/feedback clocks matching `where` (met or running)."""
    return (
        "SELECT ticket_id, kind, started_at, due_at, met_at, state FROM ticket_clock "
        f"WHERE {where} AND kind IN ('receipt', 'feedback')"
    )


def rate_event_of(r: Sequence[Any]) -> RateEvent:
    """The record of a row of `rate_event_sql`."""
    if r[2] in CALLBACK_ACTIONS:
        return RateEvent(r[0], r[1], r[2], when(r[3]), r[4], flag(r[5]), r[6], flag(r[7]))
    return RateEvent(r[0], r[1], r[2], when(r[3]), r[4])


def rate_clock_of(r: Sequence[Any]) -> RateClock:
    """The record of a row of `rate_clock_sql`."""
    return RateClock(
        r[0],
        r[1],
        when(r[2]),
        None if r[3] is None else when(r[3]),
        None if r[4] is None else when(r[4]),
        paused=r[5] == ClockState.PAUSED.value,
    )


def rate_clock_of_row(c: TicketClock) -> RateClock:
    """The record of a clock row in hand."""
    return RateClock(
        c.ticket_id,
        c.kind,
        c.started_at,
        c.due_at,
        c.met_at,
        paused=c.state == ClockState.PAUSED.value,
    )


# ---- writing rows ----------------------------------------------------------------------


def _assignment_values(dialect: str, a: Assignment) -> list[Any]:
    counts = a.counts()
    return [
        a.ticket_id,
        a.ordinal,
        a.unit,
        stored_time(dialect, a.at),
        a.merged,
        *(counts[c] for c in ASSIGNMENT_COUNTS),
        None if a.unsigned_due_at is None else stored_time(dialect, a.unsigned_due_at),
        None if a.unreplied_due_at is None else stored_time(dialect, a.unreplied_due_at),
    ]


def _callback_values(dialect: str, c: Callback) -> list[Any]:
    counts = c.counts()
    return [
        c.ticket_id,
        c.ordinal,
        c.unit,
        stored_time(dialect, c.at),
        c.satisfaction,
        *(counts[n] for n in _CALLBACK_COUNT_COLUMNS),
    ]


async def _upsert(
    conn: BaseDBAsyncClient,
    table: str,
    columns: tuple[str, ...],
    rows: list[list[Any]],
    *,
    plain: bool = False,
) -> None:
    """One INSERT … ON CONFLICT (ticket_id, ordinal) DO UPDATE for all `rows` (`plain`: a
    bare INSERT, for the rebuild's staging tables, which have no constraint)."""
    if not rows:
        return
    dialect = conn.capabilities.dialect
    one = "(" + ", ".join("?" * len(columns)) + ")"
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))}"
    if not plain:
        sql += f" ON CONFLICT (ticket_id, ordinal) DO UPDATE SET {updates}"
    await conn.execute_query(placeholders(dialect, sql), [v for row in rows for v in row])


async def write_rate_rows(
    conn: BaseDBAsyncClient,
    assignments: list[Assignment],
    callbacks: list[Callback],
    *,
    tables: tuple[str, str] = ("rate_assignment", "rate_callback"),
) -> None:
    """Upsert rows (one statement per table that has any); `tables` other than the live
    ones are the rebuild's staging tables (plain inserts)."""
    dialect = conn.capabilities.dialect
    plain = tables != ("rate_assignment", "rate_callback")
    await _upsert(
        conn,
        tables[0],
        ASSIGNMENT_COLUMNS,
        [_assignment_values(dialect, a) for a in assignments],
        plain=plain,
    )
    await _upsert(
        conn,
        tables[1],
        CALLBACK_COLUMNS,
        [_callback_values(dialect, c) for c in callbacks],
        plain=plain,
    )


async def refresh_ticket_rates(
    conn: BaseDBAsyncClient,
    *,
    ticket_id: int,
    clocks: Iterable[TicketClock],
    events: Sequence[TicketEvent] | None = None,
) -> None:
    """Recompute one ticket's rate rows, upsert them and add their change to the daily
    rollup, in the caller's transaction.

    `clocks`: every clock row of the ticket as just written. `events`: every event of the
    ticket, in order, when the caller holds them all (a ticket created in this
    transaction, which has no rows yet); otherwise the ticket's rate events and its stored
    rows are read back (two queries).
    """
    old = {} if events is not None else await stored_days(conn, ticket_id)
    if events is None:
        dialect = conn.capabilities.dialect
        _, found = await conn.execute_query(
            placeholders(dialect, rate_event_sql(dialect, "ticket_id = ?")),
            [ticket_id, *sorted(RATE_ACTIONS)],
        )
        rate_events = [rate_event_of(r) for r in found]
    else:
        rate_events = [
            RateEvent.of(
                ticket_id,
                seq,
                e.action,
                e.created_at,
                e.payload if e.action in PAYLOAD_ACTIONS else None,
            )
            for seq, e in enumerate(events)
        ]
    rate_clocks = [rate_clock_of_row(c) for c in clocks if c.kind in RATE_CLOCK_KINDS]
    assignments, callbacks = ticket_rate_rows(rate_events, rate_clocks)
    await write_rate_rows(conn, assignments, callbacks)
    await upsert_days(conn, days_change(old, day_sums([*assignments, *callbacks])))


async def rates_need_rebuild() -> bool:
    """The event log has dispatches but no rollup row exists (a database upgraded to the
    release that added the rows, or the daily rollup, before `rebuild_rates` ran)."""
    conn = RateAssignment._meta.db
    dialect = conn.capabilities.dialect
    _, rows = await conn.execute_query("SELECT 1 FROM rate_daily LIMIT 1")
    if rows:
        return False
    _, rows = await conn.execute_query(
        placeholders(dialect, "SELECT 1 FROM ticket_event WHERE action IN (?, ?) LIMIT 1"),
        sorted(DISPATCH_ACTIONS),
    )
    return bool(rows)


# ---- reading figures -------------------------------------------------------------------


async def sum_rate_rows(period: Period, *, now: datetime | None = None) -> dict[str, Figures]:
    """Per-unit figures of the rows whose own date is in `period` (whole local days): the
    daily rollup summed, and the overdue counts judged at the period's end or `now`.

    A unit is listed when it has a row in the period, even one that adds nothing (as in
    `unit_rates.count_rows`): such a row still makes its rollup key.
    """
    return await period_figures(RateAssignment._meta.db, period, now)


async def rebuild_rates(*, batch: int = 5000, progress: Any = None) -> tuple[int, int]:
    """Recompute every rate row and the rollup from the event log; (assignments, callbacks).

    Atomic for readers: see `hotline.services.rate_rebuild`.
    """
    from hotline.services.rate_rebuild import rebuild

    return await rebuild(batch=batch, progress=progress)
