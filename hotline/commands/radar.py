"""`python main.py radar --from --to [--json]`: the hot-issue radar's clusters of a window."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from typing import Any

from hotline.domain.radar import cluster_json, load_radar_config, parse_moment
from hotline.domain.timefmt import local_text, utcnow


def add_parser(sub: Any) -> None:
    """The `radar` sub-command's arguments."""
    radar = sub.add_parser("radar", help="热点雷达：某段时间内集中反映的同一地点、同一事项的工单")
    radar.add_argument(
        "--from", dest="since", help="起始（2026-12-01 或 2026-12-01T08:00，北京时间）"
    )
    radar.add_argument("--to", dest="until", help="截止（日期含当天；默认现在）")
    radar.add_argument("--limit", type=int, default=20, help="最多列出几组（默认 20；0 = 全部）")
    radar.add_argument("--json", action="store_true", help="输出 JSON（与 GET /api/v1/radar 相同）")


async def run(deployment: Any, args: argparse.Namespace) -> int:
    """Print the window's clusters, hottest first."""
    from classifier.tokenize import configure as configure_tokenizer
    from hotline.services.radar import run_radar

    configure_tokenizer(deployment.data_dir)  # this deployment's stop words and dictionary
    config = load_radar_config(deployment.data_dir)
    try:
        end = parse_moment(args.until, end=True) if args.until else utcnow()
        start = (
            parse_moment(args.since, end=False)
            if args.since
            else end - timedelta(hours=config.window_hours)
        )
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    if start >= end:
        print("错误：起始时间须早于截止时间", file=sys.stderr)
        return 1
    router = deployment.router
    gazetteer = router.routing.gazetteer if router is not None else None
    result = await run_radar(start=start, end=end, config=config, gazetteer=gazetteer)
    clusters = result.clusters[: args.limit] if args.limit > 0 else result.clusters
    if args.json:
        out = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "tickets": result.tickets,
            "clusters": [cluster_json(c) for c in clusters],
        }
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print(
        f"{local_text(start)} 至 {local_text(end)}：{result.tickets} 张工单，"
        f"{len(result.clusters)} 组热点"
    )
    for rank, c in enumerate(clusters, 1):
        print(
            f"{rank:>3}. 热度 {c.heat:>8.1f}  增速 {c.growth:>7g} 倍  {c.count:>3} 件  {c.title}"
            f"  [{local_text(c.first_at)} – {local_text(c.last_at)}]"
        )
        print(f"     {'、'.join(c.tickets[:12])}{' …' if c.count > 12 else ''}")
    return 0
