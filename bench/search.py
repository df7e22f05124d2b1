"""Benchmark: full-text search (`q=`) latency on a big database, SQLite and PostgreSQL.

Fills a database with N tickets (texts: sentences of the shared real messages, mixed, so a
word's frequency is realistic; else built-in sentences), each held by one of 40 units, with
the search index written by the real indexer; then times the service behind `GET
/api/v1/tickets?q=` (`find_tickets`: index match, view rules, ranking, the first page with its
rows) for an operator, the busiest unit (25%) and a small one (2%), for a rare term
(枫林小区, in 5 tickets), a common two-character word (噪音) and a word no ticket has.
Warm, median of 5.

    python bench/search.py --smoke
    python bench/search.py --tickets 1000000 --database-url sqlite:///tmp/search_1m.sqlite3
    python bench/search.py --tickets 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/search_bench
    (add --reuse to time an already filled database again)

The fixture rows are bulk inserts (a fixture, not the code under test); the index rows go
through `hotline.services.fulltext.put_many` with `ticket_search.document`, as on every write.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tortoise.transactions import in_transaction  # noqa: E402

from hotline.domain.auth import Principal  # noqa: E402
from hotline.domain.models import Ticket, TicketUnit, Unit  # noqa: E402
from hotline.runtime.db import close_database, open_database  # noqa: E402
from hotline.services import fulltext  # noqa: E402
from hotline.services.ticket_search import TICKETS, _Words, document  # noqa: E402
from hotline.services.tickets import TicketFilter, find_tickets  # noqa: E402

RAW = REPO_ROOT.parent / "shared" / "data" / "raw" / "tipdm2020_messages_with_replies.csv"
FALLBACK = [
    "小区楼下烧烤店每天营业到凌晨，油烟和噪音严重影响居民休息",
    "我们小区已经停水两天，物业没有任何通知",
    "道路施工围挡占用人行道，行人只能走机动车道",
    "社保卡补办需要哪些材料，在哪里办理",
    "学校周边早晚高峰交通拥堵，希望增派交警疏导",
    "医保异地报销流程复杂，希望简化手续",
]
RARE = "枫林小区"
COMMON = "噪音"
MISSING = "量子纠缠"
BATCH = 5000
UNITS = 40


def sentences() -> list[str]:
    """Sentences of the shared real messages (subjects and details), or built-in ones."""
    if not RAW.exists():
        return FALLBACK
    out: list[str] = []
    with RAW.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = f"{row['留言主题']}。{row['留言详情']}"
            for s in re.split(r"[。！？!?\n]+", text):
                s = s.strip()
                if 8 <= len(s) <= 120 and RARE not in s and MISSING not in s:
                    out.append(s)
    return out


async def fill(n: int, pool: list[str], rng: random.Random) -> None:
    """N tickets, their unit links and their index rows (bulk)."""
    conn = Ticket._meta.db
    units = [
        await Unit.create(code=f"U{i:02d}", name=f"测试单位{i:02d}", kind="department")
        for i in range(UNITS)
    ]
    rare_at = set(rng.sample(range(n), min(5, n)))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    made = 0
    began = time.monotonic()
    while made < n:
        size = min(BATCH, n - made)
        tickets = []
        for i in range(made, made + size):
            body = "。".join(rng.choice(pool) for _ in range(rng.randint(2, 5))) + "。"
            title = rng.choice(pool)[:30]
            if i in rare_at:
                body = f"{RARE}{body}"
            at = start + timedelta(seconds=30 * i)
            tickets.append(
                Ticket(
                    id=i + 1, number=f"B{i + 1:012d}", query_code="ABCDEF", channel="phone",
                    kind="投诉", urgency="一般", category="城乡建设", title=title, content=body,
                    dispatch_text=body, dispatch_title=title, address="", status="dispatched",
                    routing={}, attachments=[], created_at=at, updated_at=at, version=1,
                )
            )  # fmt: skip
        async with in_transaction() as tx:
            await Ticket.bulk_create(tickets, using_db=tx)
            # The busiest unit (U00) holds about a quarter of the tickets, as a big bureau.
            links = [
                TicketUnit(
                    ticket_id=t.id,
                    unit_id=units[0 if rng.random() < 0.25 else rng.randrange(UNITS)].id,
                    role="lead", active=True, created_at=t.created_at,
                )
                for t in tickets
            ]  # fmt: skip
            await TicketUnit.bulk_create(links, using_db=tx)
            await fulltext.put_many(
                tx, TICKETS, ((t.id, document(_Words.of(t), [])) for t in tickets)
            )
        made += size
        rate = made / (time.monotonic() - began)
        print(f"\r  {made}/{n} tickets ({rate:.0f}/s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script("ANALYZE")


async def grow(target: int) -> None:
    """Copy the filled tickets (links and index rows too) until there are `target`.

    Pure SQL, minutes instead of an hour of Python for 1,000,000: the copies repeat the
    texts (so a common word's hits grow with the table, as they would), but not the rare
    word's tickets, which stay 5.
    """
    conn = Ticket._meta.db
    postgres = conn.capabilities.dialect == "postgres"
    base = await Ticket.all().count()
    if postgres:
        _, info = await conn.execute_query(
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_name = 'ticket' AND table_schema = current_schema()"
        )
    else:
        _, info = await conn.execute_query("PRAGMA table_info(ticket)")
    cols = [r["name"] for r in info if r["name"] not in ("id", "number")]
    rare = ", ".join(str(i) for i in await _rare_ids()) or "0"
    key = "id" if postgres else "rowid"
    made = base
    while made < target:
        _, top = await conn.execute_query("SELECT MAX(id) AS top FROM ticket")
        off = int(top[0]["top"])
        size = min(base, target - made)
        keep = f"BETWEEN 1 AND {size} AND {{col}} NOT IN ({rare})"
        async with in_transaction() as tx:
            await tx.execute_script(
                f"INSERT INTO ticket (id, number, {', '.join(cols)}) SELECT id + {off},"
                f" 'C' || (id + {off}), {', '.join(cols)} FROM ticket"
                f" WHERE id {keep.format(col='id')}"
            )
            await tx.execute_script(
                "INSERT INTO ticket_unit (ticket_id, unit_id, role, active, created_at)"
                f" SELECT ticket_id + {off}, unit_id, role, active, created_at FROM ticket_unit"
                f" WHERE ticket_id {keep.format(col='ticket_id')}"
            )
            await tx.execute_script(
                f"INSERT INTO ticket_search ({key}, shared, centre)"
                f" SELECT {key} + {off}, shared, centre FROM ticket_search"
                f" WHERE {key} {keep.format(col=key)}"
            )
        made = await Ticket.all().count()
        print(f"  grown to {made} tickets", file=sys.stderr, flush=True)
        if size < base:
            break
    if postgres:
        await conn.execute_script("ANALYZE")


async def _rare_ids() -> list[int]:
    from hotline.services.ticket_search import search

    operator = Principal(1, "op", "op", "operator", None, None)
    return (await search(principal=operator, text=RARE)).hits.ids


async def measure(repeats: int) -> list[tuple[str, str, float, int]]:
    """Median latency of find_tickets per (who, term)."""
    busiest, small = await Unit.get(code="U00"), await Unit.get(code="U07")
    who = {
        "operator": Principal(1, "op", "op", "operator", None, None),
        "unit U00": Principal(2, "u00", "u00", "unit", busiest.id, "U00"),
        # A unit holding 2% of the tickets: its matches are checked one by one, all of them.
        "unit U07": Principal(3, "u07", "u07", "unit", small.id, "U07"),
    }
    rows = []
    for name, principal in who.items():
        for term in (RARE, COMMON, MISSING):
            times, total = [], 0
            for attempt in range(repeats + 1):
                began = time.perf_counter()
                found = await find_tickets(
                    principal=principal, filters=TicketFilter(q=term), page=1, per_page=30,
                    now=datetime.now(UTC),
                )  # fmt: skip
                if attempt:  # the first run warms the caches
                    times.append(time.perf_counter() - began)
                total = found.total
            rows.append((name, term, statistics.median(times) * 1000, total))
    return rows


async def main() -> None:
    """Fill (unless --reuse), then time and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--database-url", default="sqlite:///tmp/search_bench.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="time an already filled database")
    parser.add_argument(
        "--grow-to", type=int, default=0, help="then copy the tickets by SQL up to this many"
    )
    parser.add_argument("--smoke", action="store_true", help="2,000 tickets in a temporary file")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--no-link-index", action="store_true", help="do not add ticket_unit(ticket_id)"
    )
    args = parser.parse_args()
    url = args.database_url
    if args.smoke:
        args.tickets, args.repeats = 2000, 1
        url = f"sqlite:///tmp/search_smoke_{time.time_ns()}.sqlite3"
    ctx = await open_database(url, global_fallback=True)
    try:
        if not args.reuse:
            print(f"filling {args.tickets} tickets into {url.split('?')[0]}", file=sys.stderr)
            began = time.monotonic()
            await fill(args.tickets, sentences(), random.Random(12345))
            print(f"  filled in {time.monotonic() - began:.0f} s", file=sys.stderr)
        if args.grow_to:
            began = time.monotonic()
            await grow(args.grow_to)
            print(f"  grown in {time.monotonic() - began:.0f} s", file=sys.stderr)
        if not args.no_link_index:
            # Branch `lists` indexes ticket_unit(ticket_id) (its 0014): without it, loading
            # the page's unit links scans the whole table, which is no part of search.
            await Ticket._meta.db.execute_script(
                "CREATE INDEX IF NOT EXISTS bench_ticket_unit_ticket ON ticket_unit (ticket_id)"
            )
        count = await Ticket.all().count()
        dialect = Ticket._meta.db.capabilities.dialect
        print(f"{dialect}, {count} tickets, find_tickets(q=…) page 1 of 30, warm, median")
        print(f"{'who':10} {'term':10} {'ms':>8} {'total':>7}  target ≤ 200 ms")
        for name, term, ms, total in await measure(args.repeats):
            verdict = "ok" if ms <= 200 else "OVER"
            print(f"{name:10} {term:10} {ms:8.1f} {total:>7}  {verdict}")
    finally:
        await close_database(ctx)
        if args.smoke:
            Path(url.removeprefix("sqlite://")).unlink(missing_ok=True)


if __name__ == "__main__":
    asyncio.run(main())
