"""The daily per-unit rollup of the rate rows (`rate_daily`) and the period sums read from it.

One row per unit and local (Asia/Shanghai) day holds the sums of that unit's assignment rows
dispatched and callback rows called back that day. The write path adds the change of a
ticket's rows in the same transaction (`add_to_days`, an atomic `x = x + excluded.x`
upsert, so two transactions touching one day never lose a count); `rebuild-rates` writes
it anew. A period's figures then read units × days rows instead of every rate row.

The overdue counts depend on the moment deadlines are judged at (the period's end, or now),
so they are not rolled up: they count the period's rows whose stored due time passed,
through partial indexes over the rows that carry one, led by the dispatch time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.indexes import UNREPLIED_DUE, UNSIGNED_DUE
from hotline.domain.timefmt import SHANGHAI
from hotline.reporting.unit_rates import (
    ASSIGNMENT_COUNTS,
    CALLBACK_COUNTS,
    Assignment,
    Callback,
    Figures,
    Period,
)
from hotline.services.rate_sql import day_of, placeholders, stored_day, stored_time, when

DAILY_COUNTS = (*ASSIGNMENT_COUNTS, *CALLBACK_COUNTS)
# (day, unit) → the counts, in DAILY_COUNTS order.
Days = dict[tuple[date, str], list[int]]


def local_day(at: datetime) -> date:
    """The Asia/Shanghai day of an instant (periods are local days)."""
    return at.astimezone(SHANGHAI).date()


def _row_counts(row: Assignment | Callback) -> list[int]:
    counts = row.counts()
    return [counts.get(name, 0) for name in DAILY_COUNTS]


def day_sums(rows: Iterable[Assignment | Callback]) -> Days:
    """The rollup of some rows: their counts summed per (day, unit)."""
    out: Days = {}
    for row in rows:
        key = (local_day(row.at), row.unit)
        have = out.get(key)
        counts = _row_counts(row)
        out[key] = counts if have is None else [a + b for a, b in zip(have, counts, strict=True)]
    return out


def add_days(into: Days, change: Mapping[tuple[date, str], list[int]], sign: int = 1) -> None:
    """`into` += sign × `change`, keeping every key (a key is a row that exists)."""
    for key, counts in change.items():
        have = into.setdefault(key, [0] * len(DAILY_COUNTS))
        for i, n in enumerate(counts):
            have[i] += sign * n


async def upsert_days(conn: BaseDBAsyncClient, days: Days, *, replace: bool = False) -> None:
    """Add `days` to `rate_daily` (or set them, `replace`), 500 keys per statement."""
    if not days:
        return
    dialect = conn.capabilities.dialect
    columns = ("day", "unit", *DAILY_COUNTS)
    one = "(" + ", ".join("?" * len(columns)) + ")"
    if replace:
        updates = ", ".join(f"{c} = excluded.{c}" for c in DAILY_COUNTS)
    else:
        updates = ", ".join(f"{c} = rate_daily.{c} + excluded.{c}" for c in DAILY_COUNTS)
    items = sorted(days.items())  # one lock order for concurrent writers on PostgreSQL
    for i in range(0, len(items), 500):
        chunk = items[i : i + 500]
        sql = (
            f"INSERT INTO rate_daily ({', '.join(columns)}) VALUES {', '.join([one] * len(chunk))} "
            f"ON CONFLICT (day, unit) DO UPDATE SET {updates}"
        )
        params = [
            v for (day, unit), counts in chunk for v in (stored_day(dialect, day), unit, *counts)
        ]
        await conn.execute_query(placeholders(dialect, sql), params)


def days_change(old: Days, new: Days) -> Days:
    """What to add to the rollup when a ticket's rows go from `old` to `new`: every key of
    `new` (a new row makes its key exist even when it adds nothing) and the non-zero
    differences of the rest; empty when nothing changes."""
    zeros = [0] * len(DAILY_COUNTS)
    change: Days = {}
    for key in new.keys() | old.keys():
        a, b = old.get(key), new.get(key)
        diff = [y - x for x, y in zip(a or zeros, b or zeros, strict=True)]
        if any(diff) or (b is not None and a is None):
            change[key] = diff
    return change


def stored_rows_sql(
    where: str, tables: tuple[str, str] = ("rate_assignment", "rate_callback")
) -> str:
    """One SELECT over both row tables: (0|1, unit, date, DAILY_COUNTS…) of the rows
    matching `where` (its placeholders appear twice: once per table)."""
    return (
        "SELECT 0, unit, dispatched_at, "
        + ", ".join(ASSIGNMENT_COUNTS)
        + ", "
        + ", ".join("0" for _ in CALLBACK_COUNTS)
        + f" FROM {tables[0]} WHERE {where} UNION ALL SELECT 1, unit, called_at, "
        + ", ".join("0" for _ in ASSIGNMENT_COUNTS)
        + ", 1, "
        + ", ".join(c for c in CALLBACK_COUNTS if c != "callbacks")
        + f" FROM {tables[1]} WHERE {where}"
    )


def days_of_rows(rows: Iterable[Sequence[Any]]) -> Days:
    """The rollup of rows read with `stored_rows_sql`."""
    out: Days = {}
    for r in rows:
        add_days(out, {(local_day(when(r[2])), r[1]): [int(v) for v in list(r)[3:]]})
    return out


async def stored_days(conn: BaseDBAsyncClient, ticket_id: int) -> Days:
    """The rollup of a ticket's stored rows (one query over both tables)."""
    dialect = conn.capabilities.dialect
    sql = placeholders(dialect, stored_rows_sql("ticket_id = ?"))
    _, rows = await conn.execute_query(sql, [ticket_id] * 2)
    return days_of_rows(rows)


# ---- reading --------------------------------------------------------------------------


def _local_days(period: Period) -> tuple[date, date]:
    """The first and last local day of a period made of whole local days."""
    return local_day(period.start), local_day(period.end - timedelta(microseconds=1))


async def daily_figures(conn: BaseDBAsyncClient, period: Period) -> dict[tuple[date, str], Figures]:
    """The rollup rows of the period's days: (day, unit) → counts (overdue ones left at 0)."""
    dialect = conn.capabilities.dialect
    first, last = _local_days(period)
    sql = f"SELECT day, unit, {', '.join(DAILY_COUNTS)} FROM rate_daily WHERE day >= ? AND day <= ?"
    _, rows = await conn.execute_query(
        placeholders(dialect, sql), [stored_day(dialect, first), stored_day(dialect, last)]
    )
    out: dict[tuple[date, str], Figures] = {}
    for r in rows:
        out[(day_of(r[0]), r[1])] = Figures(
            **{name: int(v) for name, v in zip(DAILY_COUNTS, list(r)[2:], strict=True)}
        )
    return out


async def overdue_rows(
    conn: BaseDBAsyncClient, period: Period, cutoff: datetime
) -> list[tuple[str, str, datetime, datetime]]:
    """(which, unit, dispatched_at, due) of the period's assignments still unanswered whose
    deadline is before `cutoff`; which = overdue_unsigned / overdue_unreplied. Two index
    range scans over unanswered rows only."""
    dialect = conn.capabilities.dialect
    out: list[tuple[str, str, datetime, datetime]] = []
    params = [stored_time(dialect, t) for t in (cutoff, period.start, period.end)]
    for which, column in OVERDUE_COLUMNS:
        sql = _overdue_sql(dialect, column, f"unit, dispatched_at, {column}")
        _, rows = await conn.execute_query(placeholders(dialect, sql), params)
        out += [(which, r[0], when(r[1]), when(r[2])) for r in rows]
    return out


async def period_figures(
    conn: BaseDBAsyncClient, period: Period, now: datetime | None
) -> dict[str, Figures]:
    """Per-unit figures of a period of whole local days: the rollup's days summed by the
    database (one row per unit comes back), plus the overdue counts judged at the period's
    end (or `now` when earlier)."""
    dialect = conn.capabilities.dialect
    first, last = _local_days(period)
    sql = (
        f"SELECT unit, {', '.join(f'SUM({c})' for c in DAILY_COUNTS)} FROM rate_daily "
        "WHERE day >= ? AND day <= ? GROUP BY unit"
    )
    _, rows = await conn.execute_query(
        placeholders(dialect, sql), [stored_day(dialect, first), stored_day(dialect, last)]
    )
    per_unit: dict[str, Figures] = {
        r[0]: Figures(**{name: int(v) for name, v in zip(DAILY_COUNTS, list(r)[1:], strict=True)})
        for r in rows
    }
    for which, unit, count in await overdue_counts(conn, period, period.cutoff(now)):
        fig = per_unit.setdefault(unit, Figures())
        setattr(fig, which, count)
    return per_unit


def _overdue_sql(dialect: str, column: str, select: str, tail: str = "") -> str:
    # The partial index over the rows that carry this deadline, led by dispatched_at: the
    # period's range of it, however many deadlines passed before. SQLite is told which
    # index (its planner would take the wider covering dispatched_at index, which lacks
    # the due column); PostgreSQL proves the partial index from the repeated WHERE.
    index, where = OVERDUE_INDEXES[column]
    indexed = f" INDEXED BY {index}" if dialect != "postgres" else ""
    return (
        f"SELECT {select} FROM rate_assignment{indexed} WHERE {where} AND {column} < ? "
        f"AND dispatched_at >= ? AND dispatched_at < ?{tail}"
    )


OVERDUE_COLUMNS = (
    ("overdue_unsigned", "unsigned_due_at"),
    ("overdue_unreplied", "unreplied_due_at"),
)
# column → (its partial index, the index's WHERE as hotline.domain.models declares it).
OVERDUE_INDEXES = {
    "unsigned_due_at": ("rate_assignment_unsigned", UNSIGNED_DUE),
    "unreplied_due_at": ("rate_assignment_unreplied", UNREPLIED_DUE),
}


async def overdue_counts(
    conn: BaseDBAsyncClient, period: Period, cutoff: datetime
) -> list[tuple[str, str, int]]:
    """(which, unit, count) of the period's unanswered assignments whose deadline is before
    `cutoff`, counted by the database (two grouped index range scans)."""
    dialect = conn.capabilities.dialect
    params = [stored_time(dialect, t) for t in (cutoff, period.start, period.end)]
    out: list[tuple[str, str, int]] = []
    for which, column in OVERDUE_COLUMNS:
        sql = _overdue_sql(dialect, column, "unit, COUNT(*)", " GROUP BY unit")
        _, rows = await conn.execute_query(placeholders(dialect, sql), params)
        out += [(which, r[0], int(r[1])) for r in rows]
    return out
