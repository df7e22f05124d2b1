"""Benchmark: background work and overdue aggregates over a big history.

Builds a database of N tickets (default 200,000): a few thousand realistic templates from
`bench/sweep.py`'s filler (real SLA engine clocks, 65 units), cloned with INSERT … SELECT
until N. About a fifth are open; half of the open ones have a clock past due, of which all
but about one in seven were already escalated (the steady state of a city that is behind),
the rest fall due together (a mass escalation). Then it times, warm:

- `mass escalation`: the first sweep (escalates every due clock: events and mail);
- `sweep steady`: a sweep with nothing left to escalate (the breach and warning look-ups);
- `digest`: the daily digest over every overdue clock, and the longest single statement it
  ran (what a web request on SQLite's one connection could have to wait for);
- `dashboard overdue` / `stats/overdue p1` / `stats/overdue p1000`: the overdue card (100
  rows) and pages of the API (50 rows).

    python bench/background.py --smoke
    python bench/background.py --tickets 200000 --database-url sqlite:///tmp/background_200k.db
    python bench/background.py --tickets 200000 \
        --database-url postgres://postgres@127.0.0.1:5432/test      # a fresh schema, dropped

A `sqlite://FILE` must be empty (it is kept afterwards, to look at).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sweep as sweep_bench  # noqa: E402
from create_tickets import _redacted, fresh_database  # noqa: E402

from hotline.domain.models import JobRun, Ticket, TicketClock  # noqa: E402
from hotline.domain.timefmt import utcnow  # noqa: E402
from hotline.runtime.db import close_database, open_database  # noqa: E402
from hotline.services.sweeper import send_daily_digest, sweep  # noqa: E402

try:  # this branch: SQL aggregates and pages
    from hotline.services.overdue import OverduePage, overdue_summary

    async def dashboard_overdue(now: Any) -> Any:
        return await overdue_summary(now=now, page=OverduePage(1, 100))

    async def api_overdue(now: Any, page: int) -> Any:
        return await overdue_summary(now=now, page=OverduePage(page, 50))

except ImportError:  # before: every overdue ticket materialised (no pages)
    from hotline.services.rates import overdue_by_unit

    async def dashboard_overdue(now: Any) -> Any:
        return await overdue_by_unit(now=now)

    async def api_overdue(now: Any, page: int) -> Any:
        return await overdue_by_unit(now=now)


TEMPLATES = 4000  # realistic tickets built one by one, then cloned
OPEN_SHARE = 0.2
LINK = "http://127.0.0.1:8000"
COLUMNS_SKIPPED = {"id", "number"}


async def fill(url: str, tickets: int, now: Any, seed: int) -> float:
    """Templates from bench/sweep.py, their next due time, then clones up to `tickets`."""
    started = time.perf_counter()
    templates = min(TEMPLATES, tickets)
    open_templates = max(1, int(templates * OPEN_SHARE))
    sweep_bench.PAST_DUE = 0.5  # half the open tickets have a clock past due
    sweep_bench.PAST_WARN = 0.1
    await sweep_bench.fill(url, open_templates, now, seed, history=templates - open_templates)
    conn = Ticket._meta.db
    postgres = conn.capabilities.dialect == "postgres"
    running = (
        "c.is_open AND c.state <> 'paused'" if postgres else "c.is_open = 1 AND c.state <> 'paused'"
    )
    await conn.execute_script(
        "UPDATE ticket SET next_due_at = (SELECT MIN(c.due_at) FROM ticket_clock c"
        f" WHERE c.ticket_id = ticket.id AND {running})"
    )
    # Already escalated: every overdue clock but about one in seven.
    flag = "true" if postgres else "1"
    cutoff = f"'{now.isoformat()}'" if postgres else f"'{now}'"
    await conn.execute_script(
        f"UPDATE ticket_clock SET breached = {flag}, warned = {flag}, state = 'breached'"
        f" WHERE is_open = {flag} AND due_at <= {cutoff} AND id % 7 <> 0"
    )
    ticket_cols = [
        c for c in Ticket._meta.fields_db_projection.values() if c not in COLUMNS_SKIPPED
    ]
    clock_cols = [
        c for c in TicketClock._meta.fields_db_projection.values() if c not in ("id", "ticket_id")
    ]
    tq = ", ".join(f'"{c}"' for c in ticket_cols)
    cq = ", ".join(f'"{c}"' for c in clock_cols)
    copies = -(-tickets // templates)
    for k in range(1, copies):
        size = min(templates, tickets - k * templates)
        if size <= 0:
            break
        shift = k * templates
        await conn.execute_script(
            f'INSERT INTO ticket ("id", "number", {tq}) SELECT id + {shift},'
            f" number || '-{k}', {tq} FROM ticket WHERE id <= {size}"
        )
        await conn.execute_script(
            f'INSERT INTO ticket_clock ("ticket_id", {cq}) SELECT ticket_id + {shift}, {cq}'
            f" FROM ticket_clock WHERE ticket_id <= {size}"
        )
        if k % 20 == 0:
            print(f"  … {min(tickets, (k + 1) * templates)} tickets", flush=True)
    if postgres:
        await conn.execute_script(
            "SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT MAX(id) FROM ticket))"
        )
        await conn.execute_script("ANALYZE")
    else:
        await conn.execute_script("ANALYZE")
    return time.perf_counter() - started


async def timed(fn: Callable[[], Awaitable[Any]], runs: int = 5) -> tuple[float, Any]:
    """Median seconds of `runs` calls after one warm-up, and the last answer."""
    answer = await fn()
    took = []
    for _ in range(runs):
        t0 = time.perf_counter()
        answer = await fn()
        took.append(time.perf_counter() - t0)
    return statistics.median(took), answer


class Longest:
    """The longest single statement while active (patched onto the client class)."""

    def __init__(self, conn: Any) -> None:
        self.cls = type(conn)
        self.longest = 0.0
        self.count = 0
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> Longest:
        for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_many"):
            real = getattr(self.cls, name)
            self.saved[name] = real

            def wrap(real: Any = real) -> Any:
                async def timed_call(this: Any, *a: Any, **kw: Any) -> Any:
                    t0 = time.perf_counter()
                    try:
                        return await real(this, *a, **kw)
                    finally:
                        self.longest = max(self.longest, time.perf_counter() - t0)
                        self.count += 1

                return timed_call

            setattr(self.cls, name, wrap())
        return self

    def __exit__(self, *exc: Any) -> None:
        for name, real in self.saved.items():
            setattr(self.cls, name, real)


async def run(url: str, tickets: int, seed: int) -> int:
    ctx = await open_database(url)
    try:
        now = utcnow()
        if await Ticket.all().exists():
            print("the database already holds tickets: give an empty one", file=sys.stderr)
            return 2
        took = await fill(url, tickets, now, seed)
        print(f"fixture      filled in {took:.1f} s")
        clocks = await TicketClock.all().count()
        open_clocks = await TicketClock.filter(is_open=True).count()
        overdue = await TicketClock.filter(is_open=True, due_at__lt=now).count()
        due = await TicketClock.filter(is_open=True, breached=False, due_at__lte=now).count()
        print(
            f"backend      {'postgres' if url.startswith('postgres') else 'sqlite'} "
            f"({_redacted(url)})"
        )
        count = await Ticket.all().count()
        print(
            f"fixture      {count} tickets, {clocks} clocks, {open_clocks} open, "
            f"{overdue} overdue, {due} due for escalation now"
        )
        t0 = time.perf_counter()
        report = await sweep(now=now, link_base=LINK)
        mass = time.perf_counter() - t0
        print(
            f"mass escalation  {mass:8.2f} s  {len(report.breaches)} breaches + "
            f"{len(report.warnings)} warnings (target ≤ 10 s for 14,000)"
        )
        steady, _ = await timed(lambda: sweep(now=now, link_base=LINK))
        print(f"sweep steady     {steady:8.3f} s  nothing left to escalate (target ≤ 1 s)")
        await JobRun.filter(name="digest").delete()
        digest_at = now if now.hour >= 1 else now + timedelta(hours=1)  # after 08:00 Shanghai
        conn = Ticket._meta.db
        with Longest(conn) as longest:
            t0 = time.perf_counter()
            try:
                sent = await send_daily_digest(now=digest_at, link_base=LINK, hour=0)
                outcome = "sent" if sent else "NOT SENT"
            except Exception as exc:  # noqa: BLE001 - the figure is the failure
                outcome = f"FAILED: {type(exc).__name__}: {str(exc)[:80]}"
            digest = time.perf_counter() - t0
        print(
            f"digest           {digest:8.2f} s  {outcome}; longest statement "
            f"{longest.longest * 1000:.0f} ms of {longest.count} (target ≤ 5 s, ≤ ~100 ms)"
        )
        card, answer = await timed(lambda: dashboard_overdue(now))
        print(f"dashboard overdue {card * 1000:7.0f} ms  total {answer['total']} (target ≤ 500 ms)")
        p1, _ = await timed(lambda: api_overdue(now, 1))
        print(f"stats/overdue p1 {p1 * 1000:8.0f} ms  (target ≤ 200 ms)")
        p1000, _ = await timed(lambda: api_overdue(now, 1000))
        print(f"stats/overdue p1000 {p1000 * 1000:5.0f} ms  (target ≤ 200 ms)")
        return 0
    finally:
        await close_database(ctx)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument(
        "--database-url",
        default=None,
        help="sqlite://FILE (empty; kept) or postgres://… (a fresh schema, "
        "dropped); default: a temporary SQLite file",
    )
    parser.add_argument("--smoke", action="store_true", help="quick run: 3,000 tickets")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args(argv)
    tickets = 3000 if args.smoke else args.tickets
    with fresh_database(args.database_url, prefix="background") as url:
        return asyncio.run(run(url, tickets, args.seed))


if __name__ == "__main__":
    sys.exit(main())
