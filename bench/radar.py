"""Benchmark: the hot-issue radar — clusters on replayed history, and its speed at scale.

replay: slides the radar's window over a database of imported history (`python main.py
import-history …`), as the sweeper would have seen it day by day, and prints the hottest
clusters of the whole span (each cluster at its hottest moment; one seen again in a later
window, with most members in common, counted once). `--dump FILE` writes every member's
title and text for checking by hand.

    python bench/radar.py replay --database-url sqlite:///tmp/radar/history.sqlite3

scale: times `run_radar` (read the window's tickets by the created_at index, place and
segment them, cluster, baseline counts) cold (nothing cached, `radar_terms` emptied), warm (a
second run, as the sweeper's next pass: this process remembers the tickets and the day's
baseline) and in another process (the memory emptied: the terms come from `radar_terms`, the
baseline is counted again) for windows ending at the newest ticket of a big database
(`--hours 2 6 24`), and shows the plan of the window read. It empties and refills
`radar_terms`: copy the database first when it is shared.

    python bench/radar.py scale --database-url sqlite:///tmp/radar/1m.sqlite3

snapshot: the background worker's stored default window (`radar_snapshot`), at the newest
ticket of a big database: three passes 5 minutes apart as one sweeper makes them (the first
reads the whole window, the next ones only what was created or changed since, and re-link
only the place blocks that changed), checked equal to a fresh computation of the same
window; then `python main.py` is started and `GET /radar` and `GET /api/v1/radar` (both
from the stored result) are timed as `bench_supervisor` (median of 5, after one warm-up).
It writes `radar_terms` and `radar_snapshot`: copy the database first when it is shared.

    python bench/radar.py snapshot --database-url sqlite:///tmp/radar/1m.sqlite3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from hotline.domain.models import RadarTerms, Ticket  # noqa: E402
from hotline.domain.radar import Cluster, load_radar_config, same_cluster  # noqa: E402
from hotline.domain.timefmt import local_text  # noqa: E402
from hotline.runtime.config import load_settings  # noqa: E402
from hotline.runtime.db import close_database, open_database  # noqa: E402
from hotline.services import radar as radar_service  # noqa: E402
from hotline.services.radar import run_radar  # noqa: E402
from hotline.services.rate_sql import when  # noqa: E402
from hotline.startup.bootstrap import load_deployment  # noqa: E402


async def _span() -> tuple[object, object]:
    first = await Ticket.all().order_by("created_at").first().values("created_at")
    last = await Ticket.all().order_by("-created_at").first().values("created_at")
    return when(first["created_at"]), when(last["created_at"])


async def replay(args: argparse.Namespace, gazetteer: object, config: object) -> None:
    first, last = await _span()
    window = timedelta(days=args.window_days)
    step = timedelta(days=args.step_days)
    best: list[Cluster] = []
    end = first + step  # type: ignore[operator]
    windows = 0
    started = time.perf_counter()
    while end <= last + step:  # type: ignore[operator]
        run = await run_radar(start=end - window, end=end, config=config, gazetteer=gazetteer)  # type: ignore[arg-type]
        windows += 1
        for c in run.clusters:
            seen = next(
                (
                    i
                    for i, b in enumerate(best)
                    if b.id == c.id or same_cluster(c.tickets, b.tickets, config.settings)
                ),  # type: ignore[attr-defined]
                None,
            )
            if seen is None:
                best.append(c)
            elif c.heat > best[seen].heat:
                best[seen] = c
        end += step
    took = time.perf_counter() - started
    best.sort(key=lambda c: (-c.heat, -c.count, c.id))
    print(
        f"replay {local_text(first)} – {local_text(last)}: {windows} windows of "  # type: ignore[arg-type]
        f"{args.window_days} days every {args.step_days} days, {took:.1f} s; "
        f"{len(best)} distinct clusters"
    )
    print("| # | cluster | tickets | heat | growth | first – last |")
    print("|---|---|---|---|---|---|")
    for rank, c in enumerate(best[: args.top], 1):
        print(
            f"| {rank} | {c.title} | {c.count} | {c.heat:.1f} | {c.growth:g} | "
            f"{local_text(c.first_at)[:10]} – {local_text(c.last_at)[:10]} |"
        )
    if args.dump:
        out = []
        for c in best[: args.top]:
            rows = (
                await Ticket.filter(number__in=list(c.tickets))
                .order_by("number")
                .values("number", "title", "content")
            )
            out.append(
                {
                    "title": c.title,
                    "count": c.count,
                    "terms": list(c.terms),
                    "members": [
                        {"number": r["number"], "title": r["title"], "text": r["content"][:300]}
                        for r in rows
                    ],
                }
            )
        Path(args.dump).write_text(json.dumps(out, ensure_ascii=False, indent=1), "utf-8")
        print(f"members written to {args.dump}")


async def scale(args: argparse.Namespace, gazetteer: object, config: object) -> None:
    _, last = await _span()
    total = await Ticket.all().count()
    conn = Ticket._meta.db
    if conn.capabilities.dialect == "sqlite":
        _, plan = await conn.execute_query(
            "EXPLAIN QUERY PLAN SELECT number FROM ticket WHERE created_at >= ? AND"
            " created_at < ? AND merged_into_id IS NULL",
            ["2026-01-01", "2026-01-02"],
        )
        print("plan of the window read:", " / ".join(str(r["detail"]) for r in plan))
    print(f"{total:,} tickets; windows end at the newest ticket ({local_text(last)})")  # type: ignore[arg-type]
    print(
        "| window | tickets in it | clusters | cold: nothing stored, s"
        " | warm: the next run (a sweep 5 min later), s"
        " | another process: terms stored, memory empty, s | segmented cold |"
    )
    print("|---|---|---|---|---|---|---|")
    for hours in args.hours:
        end = last + timedelta(seconds=1)  # type: ignore[operator]
        # Cold: no process has seen any ticket (the stored terms are dropped too).
        await RadarTerms.all().delete()
        radar_service._features.clear()
        radar_service._baseline_cache.clear()
        times = []
        run = None
        for i in range(3):
            if i == 2:  # another worker, or a restart: only the database remembers
                radar_service._features.clear()
                radar_service._baseline_cache.clear()
            t0 = time.perf_counter()
            run = await run_radar(
                start=end - timedelta(hours=hours),
                end=end,
                config=config,
                gazetteer=gazetteer,  # type: ignore[arg-type]
            )
            times.append(time.perf_counter() - t0)
            if i == 0:
                stored = await RadarTerms.all().count()
        label = f"{hours} h"
        print(
            f"| {label} | {run.tickets:,} | {len(run.clusters):,}"  # type: ignore[union-attr]
            f" | {times[0]:.2f} | {times[1]:.2f} | {times[2]:.2f} | {stored:,} |"
        )


async def snapshot(args: argparse.Namespace, gazetteer: object, config: object) -> None:
    from hotline.domain.radar import cluster_json
    from hotline.services import radar_snapshot as snap

    _, last = await _span()
    end = last + timedelta(seconds=1)  # type: ignore[operator]
    hours = config.window_hours  # type: ignore[attr-defined]
    stored_terms = await RadarTerms.all().count()
    print(
        f"window: {hours:g} h ending at the newest ticket ({local_text(last)}); "  # type: ignore[arg-type]
        f"radar_terms rows before: {stored_terms:,}"
    )
    print("| pass | window ends | tickets | clusters | rows read | blocks re-linked / reused | s |")
    print("|---|---|---|---|---|---|---|")
    tickets_seen = []
    for i, minutes in enumerate((-10, -5, 0)):
        now = end + timedelta(minutes=minutes)
        await snap.RadarSnapshot.filter(name=snap.DEFAULT).update(window_to=None)  # not fresh
        t0 = time.perf_counter()
        tickets = await snap.refresh_snapshot(
            now=now,
            config=config,  # type: ignore[arg-type]
            gazetteer=gazetteer,  # type: ignore[arg-type]
            owner="bench",
        )
        took = time.perf_counter() - t0
        assert tickets is not None, "the snapshot row is claimed by another worker"
        tickets_seen.append(len(tickets))
        live = snap.live_window(hours)
        kind = "full read" if i == 0 else "incremental"
        stored = await snap.stored()
        print(
            f"| {i + 1} ({kind}) | {local_text(now)} | {len(tickets):,}"
            f" | {len(stored.clusters):,} | {live.reread:,}"  # type: ignore[union-attr]
            f" | {live.memo.linked_blocks:,} / {live.memo.reused_blocks:,} | {took:.2f} |"
        )
    t0 = time.perf_counter()
    fresh = await run_radar(
        start=end - timedelta(hours=hours),
        end=end,
        config=config,  # type: ignore[arg-type]
        gazetteer=gazetteer,  # type: ignore[arg-type]
    )
    took = time.perf_counter() - t0
    same = [cluster_json(c) for c in fresh.clusters] == stored.clusters  # type: ignore[union-attr]
    print(
        f"a fresh run_radar of the same window (this process's memory warm): {took:.2f} s,"
        f" {len(fresh.clusters):,} clusters — {'the same' if same else 'DIFFERENT'} clusters"
    )
    t0 = time.perf_counter()
    for _ in range(5):
        await snap.stored()
    print(f"reading the stored row: {(time.perf_counter() - t0) / 5 * 1000:.0f} ms")
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"this process's peak memory (the live window, its memo, the deployment): {peak:.0f} MB")


def serve_and_time(url: str) -> None:
    """GET /radar and /api/v1/radar from the stored result, through a real server."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import scale as scale_bench  # bench/scale.py: the server and sign-in helpers

    with tempfile.TemporaryDirectory() as tmp, scale_bench.server(url, Path(tmp)) as base:
        page = scale_bench.session(base, "bench_supervisor", scale_bench.PASSWORD)
        api = scale_bench.bearer(base, url, "bench_supervisor")
        for label, client, path in (
            ("GET /radar", page, "/radar"),
            ("GET /api/v1/radar", api, "/api/v1/radar"),
        ):

            def get(client: object = client, path: str = path) -> object:
                r = client.get(path)  # type: ignore[attr-defined]
                assert r.status_code == 200, r.text[:300]
                assert "数据更新于" in r.text or '"stored":true' in r.text.replace(" ", "")
                return r

            median, r = scale_bench.timed(get, 5)
            print(f"{label}: {median * 1000:.0f} ms (median of 5), {len(r.content):,} bytes")  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["replay", "scale", "snapshot"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--window-days", type=int, default=30)
    parser.add_argument("--step-days", type=int, default=7)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument(
        "--hours", type=int, nargs="+", default=[2, 6, 24], help="scale: window lengths in hours"
    )
    parser.add_argument("--dump", help="replay: write the top clusters' members (JSON)")
    args = parser.parse_args()

    settings = load_settings()
    deployment = load_deployment(settings, with_model=False)
    from classifier.tokenize import configure

    configure(deployment.data_dir)
    config = load_radar_config(deployment.data_dir)
    gazetteer = deployment.router.routing.gazetteer if deployment.router else None

    async def go() -> None:
        ctx = await open_database(args.database_url, create_schema=False)
        try:
            modes = {"replay": replay, "scale": scale, "snapshot": snapshot}
            await modes[args.mode](args, gazetteer, config)
        finally:
            await close_database(ctx)

    asyncio.run(go())
    if args.mode == "snapshot":
        serve_and_time(args.database_url)


if __name__ == "__main__":
    main()
