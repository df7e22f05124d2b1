"""The scale bench's smoke: bench/generate.py fills a database a user could work in, and
bench/scale.py measures every row of its table against a real server on it."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)
OPEN_WITH_UNIT = (
    "dispatched",
    "handling",
    "extension_requested",
    "paused",
    "replied",
    "called_back",
)


def _generate_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "bench" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


async def _rows(url: str, sql: str) -> list[Any]:
    from tortoise import connections

    _, rows = await connections.get("default").execute_query(sql)
    return [tuple(r) for r in rows]


async def _check(url: str) -> dict[str, Any]:
    """What a user would notice, read through the project's own code."""
    from tortoise import connections

    from hotline.reporting.unit_rates import RATE_ACTIONS, all_rate_rows
    from hotline.runtime.db import close_database, open_database
    from hotline.services.rate_rows import (
        placeholders,
        rate_clock_of,
        rate_clock_sql,
        rate_event_of,
        rate_event_sql,
        when,
    )
    from hotline.services.sweeper import sweep

    ctx = await open_database(url)
    try:
        conn = connections.get("default")
        dialect = conn.capabilities.dialect
        out: dict[str, Any] = {}
        out["statuses"] = dict(
            await _rows(url, "SELECT status, COUNT(*) FROM ticket GROUP BY status")
        )
        out["numbers"] = [r[0] for r in await _rows(url, "SELECT number FROM ticket")]
        marks = ", ".join(f"'{s}'" for s in OPEN_WITH_UNIT)
        out["unlinked"] = await _rows(
            url,
            f"SELECT number FROM ticket t WHERE t.status IN ({marks}) AND NOT EXISTS "
            "(SELECT 1 FROM ticket_unit l WHERE l.ticket_id = t.id AND l.active "
            "AND l.role = 'lead' AND l.unit_id = t.lead_unit_id)",
        )
        out["merged"] = await _rows(
            url,
            "SELECT t.complainant_phone, m.complainant_phone FROM ticket t "
            "JOIN ticket m ON m.id = t.merged_into_id WHERE t.status = 'merged'",
        )
        out["repeat_phones"] = (
            await _rows(
                url,
                "SELECT COUNT(*) FROM (SELECT complainant_phone FROM ticket "
                "GROUP BY complainant_phone HAVING COUNT(*) > 1) x",
            )
        )[0][0]
        out["overdue"] = (
            await _rows(
                url,
                f"SELECT COUNT(*) FROM ticket WHERE next_due_at IS NOT NULL "
                f"AND status IN ({marks}, 'disputed')",
            )
        )[0][0]
        # The rate rows are the pure definition's, for every ticket of the sample.
        _, events = await conn.execute_query(
            placeholders(dialect, rate_event_sql(dialect, "ticket_id <= ?")),
            [120, *sorted(RATE_ACTIONS)],
        )
        _, clocks = await conn.execute_query(
            placeholders(dialect, rate_clock_sql("ticket_id <= ?")), [120]
        )
        assignments, callbacks = all_rate_rows(
            [rate_event_of(r) for r in events], [rate_clock_of(r) for r in clocks]
        )
        out["pure_assignments"] = sorted(
            (a.ticket_id, a.ordinal, a.unit, a.at, *a.counts().values(), a.unsigned_due_at,
             a.unreplied_due_at)
            for a in assignments
        )
        out["pure_callbacks"] = sorted(
            (c.ticket_id, c.ordinal, c.unit, c.at, c.satisfaction, *c.counts().values())
            for c in callbacks
        )
        stored_a = await _rows(
            url,
            "SELECT ticket_id, ordinal, unit, dispatched_at, dispatched, signed, signed_on_time, "
            "disputed, extended, replied, replied_on_time, unsigned_due_at, unreplied_due_at "
            "FROM rate_assignment "
            "WHERE ticket_id <= 120",
        )
        stored_c = await _rows(
            url,
            "SELECT ticket_id, ordinal, unit, called_at, satisfaction, 1, contacted, solved, "
            "satisfied, basically_satisfied, unsatisfied, reopened FROM rate_callback "
            "WHERE ticket_id <= 120",
        )
        out["stored_assignments"] = sorted(
            (r[0], r[1], r[2], when(r[3]), *(int(v) for v in r[4:11]),
             *(None if v is None else when(v) for v in r[11:13]))
            for r in stored_a
        )
        out["stored_callbacks"] = sorted(
            (r[0], r[1], r[2], when(r[3]), r[4], *(int(v) for v in r[5:])) for r in stored_c
        )
        # The month and year figures read the daily rollups: they hold every generated row.
        out["rollups"] = (
            await _rows(
                url,
                "SELECT (SELECT SUM(received) FROM volume_daily WHERE facet = 'channel'),"
                " (SELECT COUNT(*) FROM ticket WHERE status <> 'merged'),"
                " (SELECT SUM(dispatched) FROM rate_daily),"
                " (SELECT SUM(dispatched) FROM rate_assignment),"
                " (SELECT SUM(callbacks) FROM rate_daily),"
                " (SELECT COUNT(*) FROM rate_callback)",
            )
        )[0]
        # The sweeper, run at the moment the history was generated for, finds every warning
        # and breach already recorded: nothing to escalate.
        report = await sweep(now=NOW, link_base="http://127.0.0.1:8000")
        out["sweep"] = (len(report.breaches), len(report.warnings))
        return out
    finally:
        await close_database(ctx)


async def _indexed(url: str) -> int:
    from hotline.runtime.db import close_database, open_database

    ctx = await open_database(url)
    try:
        return int((await _rows(url, "SELECT COUNT(*) FROM ticket_search"))[0][0])
    finally:
        await close_database(ctx)


@pytest.mark.backends
def test_generated_history_is_consistent_and_the_scale_bench_measures_it(
    database_url: str, tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    from tortoise.backends.base import executor

    # Tortoise caches each model's INSERT per connection name across contexts; this module
    # opens "default" on SQLite and then on PostgreSQL in one process (`?` vs `$1`).
    executor.EXECUTOR_CACHE.clear()
    # On SQLite a migrated copy: the migrations are tested elsewhere, not by the bench's smoke.
    sqlite = database_url.startswith("sqlite")
    url = f"sqlite://{migrated_sqlite('gen.db')}" if sqlite else database_url
    generate = _generate_module()
    made = asyncio.run(generate.generate(url, tickets=300, days=30, seed=7, now=NOW, quiet=True))
    assert made["tickets"] == 300 and made["events"] > 1500
    # Searchable as soon as it is generated: every ticket is in the full-text index.
    indexed = asyncio.run(_indexed(url))
    assert indexed == 300

    seen = asyncio.run(_check(url))
    numbers = seen["numbers"]
    assert len(numbers) == len(set(numbers)) == 300
    assert all(re.fullmatch(r"\d{8}-\d{5}", n) for n in numbers)
    statuses = seen["statuses"]
    open_count = sum(n for s, n in statuses.items() if s not in ("closed", "merged"))
    assert 30 <= open_count <= 100, statuses  # about 20% open
    assert statuses.get("merged") and statuses.get("handling") and statuses.get("closed")
    # Every open dispatched ticket is on its lead unit's list (an active lead link).
    assert seen["unlinked"] == []
    # A repeat is merged into the same caller's earlier ticket; 30% of callers ring again.
    assert seen["merged"] and all(a == b for a, b in seen["merged"])
    assert seen["repeat_phones"] >= 20
    assert seen["pure_assignments"] and seen["stored_assignments"] == seen["pure_assignments"]
    assert seen["pure_callbacks"] and seen["stored_callbacks"] == seen["pure_callbacks"]
    assert seen["sweep"] == (0, 0)
    # The dashboard's volumes and the rates are not read from empty rollups.
    volumes, tickets, dispatched, assigned, callbacks, called = (
        int(v or 0) for v in seen["rollups"]
    )
    assert volumes == tickets > 0
    assert dispatched == assigned > 0 and callbacks == called > 0

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "scale.py"), "--database-url", url, "--smoke",
         "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {r["row"]: r for r in json.loads(done.stdout)["rows"]}
    assert len(rows) == 12
    for name, row in rows.items():
        assert row["status"] in ("pass", "FAIL", "measured"), (
            name,
            row,
        )  # measured: not n/a, no error
        assert not row["note"].startswith("error"), (name, row["note"])
    # The busiest unit signed in and saw its open work on page 1.
    assert rows["unit worklist API, busiest unit, page 1"]["totals"]["api"] > 0
    # The mass escalation escalated the clocks it moved and put them back.
    assert re.match(r"(\d+) escalations of \1 clocks moved", rows[next(
        n for n in rows if n.startswith("mass escalation"))]["note"])  # fmt: skip
    again = asyncio.run(_check(url))
    assert again["sweep"] == (0, 0)
