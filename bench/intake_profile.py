"""Benchmark: POST /api/v1/tickets in one process — CPU and wall per create.

The same bodies as `../shared/perf/bodies.lua` (five places × five matters, a random mobile per
request, no `auto_dispatch`, so the default applies and the repeat screen runs), sent through
the ASGI app with httpx (no sockets, no server): what is left is the request's own Python and
its database trips. One create at a time by default; `--concurrency C` keeps C in flight, as
wrk's connections do. `--profile` runs cProfile over the measured creates and prints the
functions with the most own and cumulative time.

    python bench/intake_profile.py                                  # temporary SQLite file
    python bench/intake_profile.py --database-url postgres://postgres@127.0.0.1:5432/test
    python bench/intake_profile.py --n 300 --profile /tmp/intake.prof

For `postgres://…/NAME` a database `NAME_intake_<pid>` is created next to it and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

PLACES = ["A3区含浦街道", "A1区橘子洲街道", "A5区洞井街道", "A2区望月湖街道", "A4区四方坪街道"]
TOPICS = [
    "夜间施工噪音扰民",
    "小区物业不作为",
    "道路积水无人处理",
    "楼下烧烤油烟扰民",
    "公交站台破损",
]


def body(n: int, rng: random.Random) -> dict:
    """The n-th body, as bodies.lua builds it."""
    p = PLACES[n % 5]
    t = TOPICS[(n // 5) % 5]
    return {
        "channel": "phone",
        "kind": "投诉",
        "urgency": "一般",
        "title": t,
        "content": f"{p}某小区{t}，已经持续多日，多次反映无果，请相关部门尽快处理。第{n}次",
        "location": {"address": p},
        "complainant": {"name": "张先生", "phone": f"139{rng.randrange(10**8):08d}"},
    }


def _admin_url(url: str) -> tuple[str, str]:
    """(server URL without the database, the database's name)."""
    base, _, name = url.rpartition("/")
    return base, name.split("?")[0]


def fresh(url: str, tmp: str) -> tuple[str, object]:
    """A fresh database URL and how to drop it."""
    if not url:
        return f"sqlite://{tmp}/intake.db", lambda: None
    base, name = _admin_url(url)
    new = f"{name}_intake_{os.getpid()}"
    host = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(["dropdb", *host, "--if-exists", new], check=True)
    subprocess.run(["createdb", *host, new], check=True)
    return f"{base}/{new}", lambda: subprocess.run(["dropdb", *host, "--if-exists", new])


def prepare(url: str) -> str:
    """Migrate, add an operator, return a token (the CLI, as the wrk script does)."""
    env = {**os.environ, "DATABASE_URL": url, "RUN_SWEEPER": "false"}
    py, main = sys.executable, str(REPO_ROOT / "main.py")
    subprocess.run([py, main, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [py, main, "users", "add", "--username", "perfop", "--role", "operator"],
        env=env,
        input=b"Perf-pass-word-1\n",
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [py, main, "users", "token", "perfop"], env=env, check=True, capture_output=True
    )
    return out.stdout.decode().strip().splitlines()[-1]


async def run(url: str, token: str, n: int, warm: int, prof: str, concurrency: int) -> None:
    import httpx

    from hotline.runtime.config import load_settings
    from hotline.web.app import create_app

    os.environ["DATABASE_URL"] = url
    os.environ["RUN_SWEEPER"] = "false"
    app = create_app(load_settings())
    rng = random.Random(17)
    headers = {"Authorization": f"Bearer {token}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for i in range(warm):
                r = await client.post("/api/v1/tickets", json=body(i, rng), headers=headers)
                assert r.status_code == 201, r.text
            bodies = [body(warm + i, rng) for i in range(n)]
            walls: list[float] = []
            profiler = cProfile.Profile() if prof else None
            cpu0, t0 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            queue = iter(bodies)

            async def sender() -> None:
                for b in queue:
                    s = time.perf_counter()
                    r = await client.post("/api/v1/tickets", json=b, headers=headers)
                    walls.append(time.perf_counter() - s)
                    assert r.status_code == 201, r.text

            await asyncio.gather(*(sender() for _ in range(concurrency)))
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    print(
        f"{n} creates after {warm} warm-up, {concurrency} at a time: "
        f"wall {1000 * wall / n:.1f} ms, CPU {1000 * cpu / n:.2f} ms per create"
        f" (median latency {1000 * statistics.median(walls):.1f} ms)"
    )
    if profiler:
        profiler.dump_stats(prof)
        st = pstats.Stats(profiler)
        st.sort_stats("tottime").print_stats(30)
        st.sort_stats("cumulative").print_stats(60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default="", help="postgres://…/NAME (default: SQLite)")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--warm-up", type=int, default=20)
    ap.add_argument(
        "--concurrency", type=int, default=1, help="creates in flight at once (default one)"
    )
    ap.add_argument("--profile", default="", help="write cProfile stats here and print the top")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = fresh(a.database_url, tmp)
        try:
            token = prepare(url)
            asyncio.run(run(url, token, a.n, a.warm_up, a.profile, a.concurrency))
        finally:
            drop()  # type: ignore[operator]


if __name__ == "__main__":
    main()
