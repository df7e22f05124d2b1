"""The rows the audited rates are summed from: one per assignment, one per callback.

`hotline.reporting.unit_rates.ticket_rate_rows` derives a ticket's rows from its events and met
clocks (pure); this module keeps them in `rate_assignment` / `rate_callback`:

* the write path calls `refresh_ticket_rates` in the transaction of every action that
  can change them (`ActionSpec.affects_rates`): one read of the ticket's rate events and
  one upsert per table that has rows, so the rows always match the log;
* `rebuild_rates` recomputes every row from the log with the same function (after an
  upgrade, or after a change of the rules);
* `sum_rate_rows` turns a period into per-unit figures with two GROUP BY queries.

Events are append-only, so a ticket's rows only ever gain rows or change flags: a row is
named by (ticket, n-th 派单/改派 or n-th 回访) and written with an upsert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

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
    all_rate_rows,
    ticket_rate_rows,
)
from sla.clock import ClockKind

RATE_CLOCK_KINDS = (ClockKind.RECEIPT.value, ClockKind.FEEDBACK.value)
_ASSIGNMENT_COLUMNS = (
    "ticket_id",
    "ordinal",
    "unit",
    "dispatched_at",
    "merged",
    *ASSIGNMENT_COUNTS,
)
_CALLBACK_COUNT_COLUMNS = tuple(c for c in CALLBACK_COUNTS if c != "callbacks")
_CALLBACK_COLUMNS = (
    "ticket_id",
    "ordinal",
    "unit",
    "called_at",
    "satisfaction",
    *_CALLBACK_COUNT_COLUMNS,
)


# ---- SQL helpers (both backends) -------------------------------------------------------


def placeholders(dialect: str, sql: str) -> str:
    """`?` placeholders as the backend wants them (asyncpg numbers them: $1, $2, …)."""
    if dialect != "postgres":
        return sql
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, 1))


def when(value: Any) -> datetime:
    """A stored datetime: asyncpg gives datetimes, SQLite the UTC text tortoise wrote."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def flag(value: Any) -> bool | None:
    """A JSON boolean as the backend extracts it: SQLite 1/0, PostgreSQL 'true'/'false'."""
    if value is None:
        return None
    return value in (1, True, "true", "1")


def stored_time(dialect: str, at: datetime) -> Any:
    """A datetime as a parameter: SQLite compares the UTC text tortoise writes, so bind that."""
    at = at.astimezone(UTC)
    return at if dialect == "postgres" else str(at)


def _json_field(dialect: str, key: str) -> str:
    """SQL for one top-level key of the payload (text or number, NULL when absent)."""
    if dialect == "postgres":
        return f"payload->>'{key}'"
    return f"json_extract(payload, '$.{key}')"


def rate_event_sql(dialect: str, where: str) -> str:
    """SELECT of the rate events matching `where` (plus `action IN (?…)` for RATE_ACTIONS),
    with the four payload keys the rates read extracted by the database."""
    dispatches = ", ".join(f"'{a}'" for a in sorted(DISPATCH_ACTIONS))
    callback = [
        f"CASE WHEN action = 'callback' THEN {_json_field(dialect, key)} END"
        for key in ("contacted", "satisfaction", "solved")
    ]
    return (
        "SELECT ticket_id, id, action, created_at, "
        f"CASE WHEN action IN ({dispatches}) THEN {_json_field(dialect, 'lead_unit')} END, "
        f"{', '.join(callback)} "
        f"FROM ticket_event WHERE {where} "
        f"AND action IN ({', '.join('?' * len(RATE_ACTIONS))})"
    )


def rate_clock_sql(where: str) -> str:
    """SELECT of the met receipt/feedback clocks matching `where`."""
    return (
        "SELECT ticket_id, kind, started_at, due_at FROM ticket_clock "
        f"WHERE {where} AND kind IN ('receipt', 'feedback') AND met_at IS NOT NULL"
    )


def rate_event_of(r: Sequence[Any]) -> RateEvent:
    """The record of a row of `rate_event_sql`."""
    if r[2] in CALLBACK_ACTIONS:
        return RateEvent(r[0], r[1], r[2], when(r[3]), r[4], flag(r[5]), r[6], flag(r[7]))
    return RateEvent(r[0], r[1], r[2], when(r[3]), r[4])


def rate_clock_of(r: Sequence[Any]) -> RateClock:
    """The record of a row of `rate_clock_sql`."""
    return RateClock(r[0], r[1], when(r[2]), None if r[3] is None else when(r[3]))


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
    conn: BaseDBAsyncClient, table: str, columns: tuple[str, ...], rows: list[list[Any]]
) -> None:
    """One INSERT … ON CONFLICT (ticket_id, ordinal) DO UPDATE for all `rows`."""
    if not rows:
        return
    dialect = conn.capabilities.dialect
    one = "(" + ", ".join("?" * len(columns)) + ")"
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT (ticket_id, ordinal) DO UPDATE SET {updates}"
    )
    await conn.execute_query(placeholders(dialect, sql), [v for row in rows for v in row])


async def write_rate_rows(
    conn: BaseDBAsyncClient, assignments: list[Assignment], callbacks: list[Callback]
) -> None:
    """Upsert rows (one statement per table that has any)."""
    dialect = conn.capabilities.dialect
    await _upsert(
        conn,
        "rate_assignment",
        _ASSIGNMENT_COLUMNS,
        [_assignment_values(dialect, a) for a in assignments],
    )
    await _upsert(
        conn, "rate_callback", _CALLBACK_COLUMNS, [_callback_values(dialect, c) for c in callbacks]
    )


async def refresh_ticket_rates(
    conn: BaseDBAsyncClient,
    *,
    ticket_id: int,
    clocks: Iterable[TicketClock],
    events: Sequence[TicketEvent] | None = None,
) -> None:
    """Recompute one ticket's rate rows and upsert them, in the caller's transaction.

    `clocks`: every clock row of the ticket as just written. `events`: every event of the
    ticket, in order, when the caller holds them all (a ticket created in this
    transaction); otherwise the ticket's rate events are read back (one query).
    """
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
    rate_clocks = [
        RateClock(ticket_id, c.kind, c.started_at, c.due_at)
        for c in clocks
        if c.met_at is not None and c.kind in RATE_CLOCK_KINDS
    ]
    assignments, callbacks = ticket_rate_rows(rate_events, rate_clocks)
    await write_rate_rows(conn, assignments, callbacks)


async def rebuild_rates(*, batch: int = 5000) -> tuple[int, int]:
    """Recompute every rate row from the event log; returns (assignments, callbacks).

    One transaction: the figures never show a half-built state. Tickets are read in id
    ranges of `batch` so memory stays bounded.
    """
    written_a = written_c = 0
    async with in_transaction() as conn:
        dialect = conn.capabilities.dialect
        await conn.execute_script("DELETE FROM rate_assignment")
        await conn.execute_script("DELETE FROM rate_callback")
        _, bounds = await conn.execute_query(
            "SELECT MIN(ticket_id), MAX(ticket_id) FROM ticket_event"
        )
        low, high = (bounds[0][0], bounds[0][1]) if bounds else (None, None)
        if low is None:
            return 0, 0
        actions = sorted(RATE_ACTIONS)
        event_sql = placeholders(
            dialect, rate_event_sql(dialect, "ticket_id >= ? AND ticket_id < ?")
        )
        clock_sql = placeholders(dialect, rate_clock_sql("ticket_id >= ? AND ticket_id < ?"))
        for first in range(low, high + 1, batch):
            span = [first, first + batch]
            _, event_rows = await conn.execute_query(event_sql, [*span, *actions])
            if not event_rows:
                continue
            _, clock_rows = await conn.execute_query(clock_sql, span)
            assignments, callbacks = all_rate_rows(
                [rate_event_of(r) for r in event_rows], [rate_clock_of(r) for r in clock_rows]
            )
            # Bounded statements: SQLite allows 32,766 parameters per statement.
            for i in range(0, len(assignments), 1000):
                await write_rate_rows(conn, assignments[i : i + 1000], [])
            for i in range(0, len(callbacks), 1000):
                await write_rate_rows(conn, [], callbacks[i : i + 1000])
            written_a += len(assignments)
            written_c += len(callbacks)
    return written_a, written_c


async def rates_need_rebuild() -> bool:
    """The event log has dispatches but no assignment row exists (a database upgraded to
    the release that added the rows, before `rebuild_rates` ran)."""
    conn = RateAssignment._meta.db
    dialect = conn.capabilities.dialect
    _, rows = await conn.execute_query("SELECT 1 FROM rate_assignment LIMIT 1")
    if rows:
        return False
    _, rows = await conn.execute_query(
        placeholders(dialect, "SELECT 1 FROM ticket_event WHERE action IN (?, ?) LIMIT 1"),
        sorted(DISPATCH_ACTIONS),
    )
    return bool(rows)


# ---- reading figures -------------------------------------------------------------------


async def sum_rate_rows(period: Period) -> dict[str, Figures]:
    """Per-unit figures of the rows whose own date is in `period`: two GROUP BY queries.

    A unit is listed when it has a row in the period, even one that adds nothing (as in
    `unit_rates.count_rows`).
    """
    conn = RateAssignment._meta.db
    dialect = conn.capabilities.dialect
    bounds = [stored_time(dialect, period.start), stored_time(dialect, period.end)]
    per_unit: dict[str, Figures] = {}
    for table, at, sums in (
        ("rate_assignment", "dispatched_at", ASSIGNMENT_COUNTS),
        ("rate_callback", "called_at", CALLBACK_COUNTS),
    ):
        columns = ", ".join("COUNT(*)" if c == "callbacks" else f"SUM({c})" for c in sums)
        sql = f"SELECT unit, {columns} FROM {table} WHERE {at} >= ? AND {at} < ? GROUP BY unit"
        _, rows = await conn.execute_query(placeholders(dialect, sql), bounds)
        for row in rows:
            fig = per_unit.setdefault(row[0], Figures())
            for name, value in zip(sums, list(row)[1:], strict=True):
                setattr(fig, name, int(value))
    return per_unit
