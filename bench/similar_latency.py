"""Similar tickets (重复件) at scale: how long finding a ticket's likely repeats takes.

Times `hotline.services.similar.find_similar` — what `GET /api/v1/tickets/{number}/similar`,
`POST /api/v1/similar`, the console's panel and the screen of every new ticket run, minus
HTTP parsing — on a database you name (a copy of bench/generate.py's history; migrate it and
build its search index first, see below). "Now" is the newest ticket's time, so the window
(data/similar.toml `window_days`) holds the history's last days. Probes are open tickets of
the window: each as the operator's console asks (words, place, phone; every index) and as the
busiest unit asks (its own tickets, no phone). One untimed run each first; `--cold` then
forgets the candidates' cached profiles, so every candidate is tokenised again.

    cp /work/wt/db/1m.sqlite3 /tmp/similar_1m.sqlite3
    DATABASE_URL=sqlite:////tmp/similar_1m.sqlite3 .venv/bin/python main.py migrate
    DATABASE_URL=sqlite:////tmp/similar_1m.sqlite3 .venv/bin/python main.py search-index rebuild
    .venv/bin/python bench/similar_latency.py --database-url sqlite:////tmp/similar_1m.sqlite3

`--index-window` instead of the rebuild (hours at a million tickets on a shared machine):
indexes only the window's tickets that the index lacks, from their title, content and address
(`ticket_search.document` without their events' words) — all that the candidate search reads,
since it asks only for ids of the window. The index is then smaller than a full one, so a
word's match lists are shorter than they would be in production.

Prints per viewer: median, p95 and slowest time, and how many candidates were scored.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tortoise.functions import Count, Max  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

from hotline.domain.auth import Principal  # noqa: E402
from hotline.domain.lifecycle import OPEN_STATUSES  # noqa: E402
from hotline.domain.models import Ticket, TicketUnit, Unit  # noqa: E402
from hotline.runtime.config import load_settings  # noqa: E402
from hotline.runtime.db import close_database, open_database  # noqa: E402
from hotline.services import fulltext, similar  # noqa: E402
from hotline.services.ticket_search import TICKETS, _Words, document  # noqa: E402
from hotline.startup.bootstrap import load_deployment  # noqa: E402


async def _busiest_unit() -> Principal:
    row = (
        await TicketUnit.filter(active=True)
        .annotate(n=Count("id"))
        .group_by("unit_id")
        .order_by("-n")
        .limit(1)
        .values("unit_id", "n")
    )
    unit = await Unit.get(id=row[0]["unit_id"])
    print(f"busiest unit: {unit.code} ({row[0]['n']:,} active links)")
    return Principal(2, "bench-unit", "bench-unit", "unit", unit.id, unit.code)


async def index_window(since: datetime) -> int:
    """Index the tickets created since `since` that the full-text index lacks (bulk)."""
    conn = Ticket._meta.db
    await fulltext.ensure(conn, TICKETS)
    ids = await Ticket.filter(created_at__gte=since).order_by("id").values_list("id", flat=True)
    # Resumable: chunks commit in id order, so the index's highest id says how far a run got.
    key = "id" if conn.capabilities.dialect == "postgres" else "rowid"
    _, top = await conn.execute_query(f"SELECT MAX({key}) FROM {TICKETS.table}")
    reached = (
        int(list(top[0].values())[0] or 0) if isinstance(top[0], dict) else int(top[0][0] or 0)
    )
    ids = [i for i in ids if i > reached]
    done = 0
    for start in range(0, len(ids), 5000):
        rows = await Ticket.filter(id__in=ids[start : start + 5000])
        async with in_transaction() as tx:
            await fulltext.put_many(tx, TICKETS, ((t.id, document(_Words.of(t), [])) for t in rows))
        done += len(rows)
        print(f"\r  indexed {done:,}/{len(ids):,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return done


async def run(url: str, probes: int, seed: int, index: bool, cold: bool) -> None:
    # No schema check: a copied history may lack the rate rows `migrate` would rebuild.
    ctx = await open_database(url, global_fallback=True, create_schema=False)
    try:
        deployment = load_deployment(load_settings())
        rules = similar.scorer(deployment).rules
        total = await Ticket.all().count()
        newest = (await Ticket.all().annotate(m=Max("created_at")).values("m"))[0]["m"]
        now = newest
        since = now - timedelta(days=rules.window_days)
        if index:
            await index_window(since - timedelta(days=1))
        open_values = [s.value for s in OPEN_STATUSES]
        window = await Ticket.filter(created_at__gte=since).count()
        open_ids = await Ticket.filter(created_at__gte=since, status__in=open_values).values_list(
            "id", flat=True
        )
        print(
            f"{total:,} tickets; window {rules.window_days} days: {window:,} tickets, "
            f"{len(open_ids):,} open"
        )
        rng = random.Random(seed)
        sample = await Ticket.filter(id__in=rng.sample(list(open_ids), min(probes, len(open_ids))))
        operator = Principal(1, "bench-op", "bench-op", "operator", None, None)
        unit = await _busiest_unit()
        held_ids = set(
            await TicketUnit.filter(
                unit_id=unit.unit_id, active=True, ticket_id__in=[t.id for t in sample]
            ).values_list("ticket_id", flat=True)
        )
        for label, principal, tickets in (
            ("operator (console, every index)", operator, sample),
            (
                f"unit {unit.unit_code} (its tickets only)",
                unit,
                [t for t in sample if t.id in held_ids] or sample[:5],
            ),
        ):
            times: list[float] = []
            found: list[int] = []
            scored: list[int] = []
            for ticket in tickets:
                probe = similar.probe_of(ticket, unit=principal.role == "unit")
                await similar.find_similar(
                    probe=probe, deployment=deployment, now=now, principal=principal
                )
                if cold:
                    similar.scorer(deployment)._profiles.clear()  # every candidate tokenised
                started = time.perf_counter()
                items = await similar.find_similar(
                    probe=probe, deployment=deployment, now=now, principal=principal
                )
                times.append((time.perf_counter() - started) * 1000)
                found.append(len(items))
                p = similar.scorer(deployment).profile(
                    text=probe.text,
                    title=probe.title,
                    address=probe.address,
                    district=probe.district,
                    street=probe.street,
                    phone=probe.phone,
                )
                ids = await similar._candidate_ids(
                    probe, p, since=since, rules=rules, principal=principal
                )
                scored.append(len(ids))
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(
                f"{label}: {len(times)} probes, median {statistics.median(times):.1f} ms, "
                f"p95 {p95:.1f} ms, slowest {times[-1]:.1f} ms; candidates scored "
                f"median {statistics.median(scored):.0f}, "
                f"listed median {statistics.median(found):.0f}"
            )
    finally:
        await close_database(ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--index-window", action="store_true")
    # Cold: no candidate profile cached (a new ticket's screen); warm: as the console asks
    # again while a call is typed.
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.probes, args.seed, args.index_window, args.cold))


if __name__ == "__main__":
    main()
