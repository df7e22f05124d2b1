"""Benchmark: place lookup and rule routing per 500-character ticket (prints figures)."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from routing.loader import load_routing

DATA = Path(__file__).resolve().parent.parent / "data"
TEXT = (
    "A7县泉塘街道星沙大道附近的小区物业管理混乱，业主多次反映噪音扰民和占道经营没有结果，" * 20
)[:500]


def _time(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def main() -> None:
    """Print median and p99 milliseconds for Gazetteer.find and a whole route()."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--smoke", action="store_true", help="a few hundred runs only")
    args = parser.parse_args()
    runs = 300 if args.smoke else args.runs
    t0 = time.perf_counter()
    routing = load_routing(DATA)
    print(
        f"load units/places/rules: {time.perf_counter() - t0:.3f} s "
        f"({len(routing.units)} units, {len(routing.gazetteer)} places)"
    )
    for name, fn in [
        ("gazetteer.find (500 chars)", lambda: routing.gazetteer.find(TEXT)),
        (
            "route() (500 chars)",
            lambda: routing.route(
                text=TEXT, address="", kind="投诉", category="城乡建设", confidence=0.9
            ),
        ),
    ]:
        samples = sorted(_time(fn, runs))
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(f"{name:<28} median {statistics.median(samples):.3f} ms  p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
