"""Benchmark: GET /api/v1/stats/rates (JSON, xlsx, CSV) over a month of 100,000 tickets,
and (with --months) a year's rates and a month's trend over a longer history.

Fills a fresh database (a temporary SQLite file, or a new schema on a PostgreSQL server)
with N tickets dispatched in November 2026 and everything the rates read: 派单, 签收
(some late), 退单 + 改派, 延期, 回复 (some late), 回访 with every satisfaction, 重办, and
their receipt/feedback clocks — about 7 events and 2.1 clocks per ticket, written with bulk
inserts (a fixture, not the code under test). The rate rows the write path would have kept
are then made by `rebuild_rates` (the pure `unit_rates.ticket_rate_rows` of every ticket;
its time is printed). Then asks the endpoint through the ASGI app (as a supervisor, with a
bearer token) for the month as JSON, xlsx and CSV, a few times each, plus volumes and
overdue, and prints the times, a check that the overall counts match the fixture's own
tally, and the pure batch computation the endpoint used before the rows (read + compute),
whose figures must be identical.

`--months M` spreads the tickets over M months ending with November 2026 (the month's
figures and tally are November's share): the year's rates and the trend read the daily
rollup (`rate_daily`), so their time follows units × days, not the tickets; the figures
summed from every rate row (the way before the rollup) are timed beside them.

    python bench/rates.py --smoke
    python bench/rates.py                       # 100000 tickets, SQLite
    python bench/rates.py --tickets 1000000 --months 12
    python bench/rates.py --database-url postgres://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from create_tickets import _redacted, fresh_database  # noqa: E402

from hotline.domain.models import Ticket, TicketClock, TicketEvent, Unit  # noqa: E402
from hotline.reporting.unit_rates import unit_rates  # noqa: E402
from hotline.runtime.config import load_settings  # noqa: E402
from hotline.runtime.db import close_database, open_database  # noqa: E402
from hotline.services import rates as rate_service  # noqa: E402
from hotline.services.rate_rows import rebuild_rates  # noqa: E402
from hotline.services.units import sync_units  # noqa: E402
from hotline.services.users import create_user, issue_token  # noqa: E402

BATCH = 5000
MONTH_START = datetime(2026, 10, 31, 16, tzinfo=UTC)  # 1 November 00:00 in Shanghai
MONTH_DAYS = 30
MONTH_END = MONTH_START + timedelta(days=MONTH_DAYS)
CATEGORIES = ["城乡建设", "劳动和社会保障", "教育文体", "商贸旅游", "环境保护", "卫生计生"]
H = timedelta(hours=1)


def build(
    tid: int,
    rng: random.Random,
    units: list[Unit],
    tally: Counter[str],
    shift: timedelta = timedelta(0),
):  # type: ignore[no-untyped-def]
    """One ticket's row, events and clocks; `tally` counts what the rates should find.
    `shift` moves the whole ticket back by whole months' worth of days (history)."""
    at = MONTH_START - shift + timedelta(seconds=rng.uniform(0, (MONTH_DAYS - 3) * 86400))
    unit = rng.choice(units)
    events: list[tuple[str, datetime, dict, int | None]] = [("create", at, {}, None)]
    clocks: list[tuple[str, datetime, datetime, datetime | None, int]] = []

    def ev(action: str, t: datetime, payload: dict | None = None, actor: Unit | None = None):  # type: ignore[no-untyped-def]
        events.append((action, t, payload or {}, actor.id if actor else None))

    t = at + timedelta(minutes=5)
    ev("dispatch", t, {"lead_unit": unit.code})
    tally["dispatched"] += 1
    receipt_due = t + 2 * H
    clocks.append(("feedback", t, t + timedelta(days=7), None, 1))
    gen = 1
    if rng.random() < 0.06:  # 退单, 改派 to another unit
        ev("reject", t + H, {"reason": "不属于本单位职责"}, unit)
        clocks.append(("receipt", t, receipt_due, None, gen))
        tally["disputed"] += 1
        prev, unit = unit, rng.choice(units)
        t += 3 * H
        ev("redispatch", t, {"lead_unit": unit.code, "previous_unit": prev.code})
        tally["dispatched"] += 1
        receipt_due, gen = t + 2 * H, gen + 1
    if rng.random() < 0.03:  # never signed
        clocks.append(("receipt", t, receipt_due, None, gen))
        return unit, "dispatched", events, clocks
    signed = t + H * rng.uniform(0.1, 2.4)
    ev("sign", signed, {}, unit)
    clocks.append(("receipt", t, receipt_due, signed, gen))
    tally["signed"] += 1
    tally["signed_on_time"] += signed <= receipt_due
    fb_due = clocks[0][2]
    if rng.random() < 0.05:
        ev("request-extension", signed + H, {"reason": "需协调", "days": 3}, unit)
        ev("approve-extension", signed + 2 * H, {"days": 3})
        tally["extended"] += 1
        fb_due += timedelta(days=3)
        clocks[0] = ("feedback", clocks[0][1], fb_due, None, 1)
    if rng.random() < 0.04:  # still handling
        return unit, "handling", events, clocks
    replied = signed + timedelta(days=rng.uniform(0.5, 7.5))
    ev("reply", replied, {"result": "solved", "text": "已处理。"}, unit)
    clocks[0] = ("feedback", clocks[0][1], fb_due, replied, 1)
    tally["replied"] += 1
    tally["replied_on_time"] += replied <= fb_due
    called = replied + timedelta(hours=rng.uniform(2, 30))
    contacted = rng.random() < 0.9
    sat = rng.choice(["满意", "满意", "基本满意", "不满意"]) if contacted else None
    solved = contacted and rng.random() < 0.7
    ev("callback", called, {"contacted": contacted, "satisfaction": sat, "solved": solved})
    in_month = called < MONTH_END - shift  # a callback counts in the month of its own date
    tally["callbacks"] += in_month
    tally["contacted"] += contacted and in_month
    tally["solved"] += solved and in_month
    if sat == "不满意" and rng.random() < 0.5:
        ev("reopen", called + H, {"reason": "市民不满意"})
        tally["reopened"] += in_month
        clocks.append(("feedback", called + H, called + timedelta(days=7), None, 2))
        return unit, "handling", events, clocks
    ev("close", called + H)
    return unit, "closed", events, clocks


async def fill(count: int, seed: int, months: int = 1) -> tuple[float, Counter[str], int]:
    from hotline.startup.bootstrap import load_deployment

    deployment = load_deployment(load_settings(), with_model=False)
    await sync_units(deployment.extras["units"])
    units = list(await Unit.filter(active=True).order_by("id"))
    rng = random.Random(seed)
    tally: Counter[str] = Counter()
    started = time.perf_counter()
    n_events = 0
    for first in range(1, count + 1, BATCH):
        tickets, ev_rows, clock_rows = [], [], []
        for tid in range(first, min(first + BATCH, count + 1)):
            back = rng.randrange(months)
            unit, status, events, clocks = build(
                tid, rng, units, tally if back == 0 else Counter(), timedelta(days=30 * back)
            )
            created = events[0][1]
            tickets.append(
                Ticket(
                    id=tid,
                    number=f"B{tid:07d}",
                    query_code="ABCDEF",
                    channel=rng.choice(["phone", "phone", "web", "wechat"]),
                    kind="投诉",
                    urgency="一般",
                    category=rng.choice(CATEGORIES),
                    title="bench",
                    content="bench",
                    status=status,
                    lead_unit_id=unit.id,
                    created_at=created,
                    updated_at=events[-1][1],
                    # Open tickets carry their earliest running deadline, as the service
                    # keeps it: /stats/overdue reads it.
                    next_due_at=min((c[2] for c in clocks if c[3] is None), default=None)
                    if status != "closed"
                    else None,
                )
            )
            ev_rows += [
                TicketEvent(
                    ticket_id=tid,
                    action=a,
                    actor_role="unit" if actor else "operator",
                    actor_unit_id=actor,
                    to_status="x",
                    payload=p,
                    created_at=t,
                )
                for a, t, p, actor in events
            ]
            clock_rows += [
                TicketClock(
                    ticket_id=tid,
                    kind=k,
                    generation=g,
                    current=True,
                    is_open=met is None,
                    state="met" if met else "running",
                    limit="7d",
                    started_at=s,
                    due_at=d,
                    met_at=met,
                )
                for k, s, d, met, g in clocks
            ]
        n_events += len(ev_rows)
        await Ticket.bulk_create(tickets)
        await TicketEvent.bulk_create(ev_rows)
        await TicketClock.bulk_create(clock_rows)
    conn = Ticket._meta.db
    if "postgres" in type(conn).__module__.lower() or "asyncpg" in type(conn).__module__:
        await conn.execute_script(
            "SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT MAX(id) FROM ticket))"
        )
    fill_s = time.perf_counter() - started
    t0 = time.perf_counter()
    rows = await rebuild_rates()
    print(
        f"rebuild      {rows[0]} assignment + {rows[1]} callback rows "
        f"(rebuild_rates) in {time.perf_counter() - t0:.1f} s"
    )
    await conn.execute_script("ANALYZE")
    return fill_s, tally, n_events


async def timed(repeat: int, call):  # type: ignore[no-untyped-def]
    """Best and median seconds of `repeat` awaits of call(), and its last answer."""
    times, answer = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        answer = await call()
        times.append(time.perf_counter() - t0)
    return min(times), sorted(times)[len(times) // 2], answer


async def history_figures(client, headers, repeat: int) -> None:  # type: ignore[no-untyped-def]
    """A year's rates over HTTP, a month's trend (service), and the year summed from every
    rate row as before the rollup."""
    from hotline.services.rate_sql import placeholders, stored_time
    from hotline.web.pages.supervisor import buckets

    year = {"from": "2025-12-01", "to": "2026-11-30"}

    async def year_rates():  # type: ignore[no-untyped-def]
        r = await client.get("/api/v1/stats/rates", params=year, headers=headers)
        assert r.status_code == 200, r.text
        return r

    best, median, _ = await timed(repeat, year_rates)
    print(f"GET rates    one year     best {best:.3f} s, median {median:.3f} s (rollup)")
    group = rate_service.UnitGroup()
    days = buckets(date(2026, 11, 1), date(2026, 11, 30))
    best, median, _ = await timed(
        repeat, lambda: rate_service.trend_figures(buckets=days, group=group)
    )
    print(
        f"trend        one month    best {best:.3f} s, median {median:.3f} s "
        "(30 buckets, 3 queries)"
    )
    conn = Ticket._meta.db
    dialect = conn.capabilities.dialect
    period = rate_service.DateRange.of(date(2025, 12, 1), date(2026, 11, 30)).period()
    bounds = [stored_time(dialect, period.start), stored_time(dialect, period.end)]

    from hotline.reporting.unit_rates import ASSIGNMENT_COUNTS, CALLBACK_COUNTS
    from hotline.services.rate_rows import sum_rate_rows

    best, median, _ = await timed(repeat, lambda: sum_rate_rows(period))
    print(f"sum          one year     best {best:.3f} s, median {median:.3f} s (service, rollup)")

    async def summed_rows():  # type: ignore[no-untyped-def]
        # What the service ran before the rollup: two GROUP BY sums over the year's rows.
        for table, at, sums in (
            ("rate_assignment", "dispatched_at", ASSIGNMENT_COUNTS),
            ("rate_callback", "called_at", CALLBACK_COUNTS),
        ):
            columns = ", ".join("COUNT(*)" if c == "callbacks" else f"SUM({c})" for c in sums)
            sql = f"SELECT unit, {columns} FROM {table} WHERE {at} >= ? AND {at} < ? GROUP BY unit"
            await conn.execute_query(placeholders(dialect, sql), bounds)

    best, median, _ = await timed(repeat, summed_rows)
    _, rows = await conn.execute_query(
        "SELECT (SELECT COUNT(*) FROM rate_assignment), (SELECT COUNT(*) FROM rate_daily)"
    )
    print(
        f"before       one year from {rows[0][0]} rate rows: best {best:.3f} s, median "
        f"{median:.3f} s (the rollup holds {rows[0][1]} unit-days)"
    )


async def run(url: str, count: int, seed: int, repeat: int, months: int = 1) -> int:
    import httpx

    from hotline.web.app import create_app

    ctx = await open_database(url)
    try:
        fill_s, tally, n_events = await fill(count, seed, months)
        now = datetime.now(UTC)
        await create_user(username="bench-sup", role="supervisor", password="bench-pass", now=now)
        token = await issue_token(username="bench-sup", now=now)
        backend = "postgres" if url.startswith("postgres") else "sqlite"
        print(f"backend      {backend}  ({_redacted(url)})")
        print(f"fixture      {count} tickets, {n_events} events, filled in {fill_s:.1f} s")
        settings = load_settings()
        from hotline.startup.bootstrap import load_deployment

        deployment = load_deployment(settings, with_model=False)
        app = create_app(settings, deployment=deployment, manage_db=False, background=False)
        params = {"from": "2026-11-01", "to": "2026-11-30"}
        headers = {"Authorization": f"Bearer {token}"}
        ok = True
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
        ) as client:
            for fmt in ("json", "xlsx", "csv"):
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    r = await client.get(
                        "/api/v1/stats/rates", params={**params, "format": fmt}, headers=headers
                    )
                    times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text
                print(
                    f"GET rates    format={fmt:<4}  best {min(times):.3f} s, "
                    f"median {sorted(times)[len(times) // 2]:.3f} s ({repeat} runs, "
                    f"{len(r.content)} bytes)"
                )
                if fmt == "json":
                    best_json = min(times)
                    overall = answer_overall = r.json()["overall"]
                    # The tally is the month's own tickets': with history, earlier tickets'
                    # callbacks land in it too (the pure batch below checks those runs).
                    mismatch = {
                        k: (overall[k], v)
                        for k, v in tally.items()
                        if overall[k] != v and months == 1
                    }
                    if mismatch:
                        ok = False
                        print(f"MISMATCH (answer, fixture): {mismatch}", file=sys.stderr)
            await history_figures(client, headers, repeat)
            for path, extra in (("volumes", params), ("overdue", {})):
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    r = await client.get(f"/api/v1/stats/{path}", params=extra, headers=headers)
                    times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text
                print(
                    f"GET {path:<8} best {min(times):.3f} s, median "
                    f"{sorted(times)[len(times) // 2]:.3f} s ({r.json()['total']} tickets)"
                )
        # Before the rate rows: the endpoint read every event and clock of the month's
        # tickets and ran the pure batch computation. Same figures, and its time.
        days = rate_service.DateRange.of(date(2026, 11, 1), date(2026, 11, 30))
        t0 = time.perf_counter()
        events, clocks = await rate_service.load_rate_records(days.period())
        t1 = time.perf_counter()
        overall_before, _ = unit_rates(events, clocks, days.period())
        t2 = time.perf_counter()
        print(
            f"before       read {len(events)} events + {len(clocks)} clocks: {t1 - t0:.3f} s; "
            f"compute: {t2 - t1:.3f} s; total {t2 - t0:.3f} s "
            f"(JSON now {best_json:.3f} s: {(t2 - t0) / best_json:.0f}x)"
        )
        if overall_before.as_dict() != answer_overall:
            ok = False
            print("MISMATCH between the summed rows and the pure batch", file=sys.stderr)
        print(f"machine      {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        return 0 if ok else 1
    finally:
        await close_database(ctx)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--smoke", action="store_true", help="quick run: 2000 tickets")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--months", type=int, default=1, help="history: months of tickets")
    args = parser.parse_args(argv)
    count = 2000 if args.smoke else args.tickets
    with fresh_database(args.database_url, prefix="rates") as url:
        return asyncio.run(run(url, count, args.seed, args.repeat, args.months))


if __name__ == "__main__":
    sys.exit(main())
