"""Benchmark: POST /api/v1/tickets against a real `python main.py` server on 127.0.0.1.

Starts the server as a subprocess (`python main.py --port P --workers W`) on a fresh
database (a temporary SQLite file, or a new schema on a PostgreSQL server), creates an
operator and a token with the CLI, fires N ticket creations with auto-dispatch from C
concurrent httpx clients, and prints tickets/s, latency percentiles and errors.

    python bench/create_tickets.py --smoke
    python bench/create_tickets.py --n 2000 --concurrency 16 --workers 2 \
        --database-url postgres://postgres@127.0.0.1:5432/test

Loopback only; bounded in count (--n) and time (--time-limit); stops the server itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
MAIN = REPO_ROOT / "main.py"
BARE = REPO_ROOT / "bench" / "bare_insert.py"
HOST = "127.0.0.1"

# Bodies written for this benchmark: kind, title, content; {place} from data/places.toml.
TEMPLATES: list[tuple[str, str, str]] = [
    (
        "投诉",
        "{place}工地夜间施工噪音扰民",
        "{place}旁边的建筑工地每天晚上十一点以后还在打桩和运输渣土，噪音非常大，"
        "小区里老人和小孩根本无法休息，之前打过电话也没有改善，希望有关部门尽快查处。",
    ),
    (
        "求助",
        "公司拖欠工资三个月未发放",
        "本人在{place}附近一家装修公司做水电工，公司已经拖欠我和十几名工友三个月工资，"
        "老板一直推脱说工程款没到，请劳动保障监察部门帮忙讨薪。",
    ),
    (
        "投诉",
        "{place}物业不作为电梯经常故障",
        "{place}小区物业公司每年按时收取物业费，但电梯一个月坏了三次，楼道垃圾堆放多日无人清理，"
        "业主多次反映没有结果，请住建部门督促物业履行职责。",
    ),
    (
        "咨询",
        "孩子小学入学报名需要哪些材料",
        "孩子今年九月满六岁，户口和房产都在{place}，想咨询小学新生入学报名需要准备哪些材料，"
        "网上报名什么时候开始，随迁子女有没有其他要求。",
    ),
    (
        "投诉",
        "{place}路段占道经营油烟扰民",
        "{place}路段每天傍晚开始有大量流动摊贩占道经营烧烤，堵塞人行道和非机动车道，"
        "油烟直接飘进居民家里，垃圾也随地乱扔，希望城管部门加强整治。",
    ),
    (
        "举报",
        "{place}附近餐馆使用过期食材",
        "我在{place}附近一家餐馆打工时发现后厨卫生条件很差，老板让我们使用过期的冻肉和调料，"
        "担心顾客吃坏肚子，请市场监管部门突击检查，请对我的身份保密。",
    ),
    (
        "投诉",
        "{place}附近工厂夜间排放刺鼻废气",
        "{place}附近有一家化工厂经常在半夜排放刺鼻气体，周边居民晚上不敢开窗，"
        "不少人出现咽喉不适，请生态环境部门调查并依法处理。",
    ),
    (
        "求助",
        "{place}小区停水两天没有任何通知",
        "{place}小区从前天上午开始停水，到现在还没有恢复，物业和自来水公司都没有发任何通知，"
        "家里有老人和婴儿，生活非常不便，请尽快协调恢复供水。",
    ),
    (
        "建议",
        "建议在{place}增设公交站点",
        "{place}周边新建了好几个小区，居民上下班很不方便，最近的公交站要步行二十多分钟，"
        "建议公交集团在这里增设站点或者调整附近线路。",
    ),
    (
        "投诉",
        "医院挂号排队时间过长",
        "在{place}附近的医院看病，早上七点去排队挂号，等了两个多小时，自助挂号机经常故障，"
        "窗口只开两个，希望卫生健康部门督促医院改进服务。",
    ),
    (
        "咨询",
        "社保关系转移接续怎么办理",
        "我以前在外省交了五年社保，现在到A市{place}附近的公司上班，"
        "想咨询养老保险和医疗保险转移接续到哪里办理，需要带哪些材料，能不能网上办。",
    ),
    (
        "投诉",
        "{place}一楼住户违章搭建",
        "{place}一楼住户在公共绿地上违章搭建彩钢板房，占用消防通道，影响楼上住户采光，"
        "社区劝说无效，请相关执法部门依法拆除。",
    ),
    (
        "表扬",
        "感谢{place}社区网格员热心帮助",
        "{place}社区网格员多次上门帮助我家行动不便的老人办理高龄补贴，服务热情周到，"
        "特此打电话表扬，希望转达我们的感谢。",
    ),
    (
        "投诉",
        "校外培训机构停课拒不退费",
        "给孩子在{place}一家培训机构报了一年的英语课，交了一万二千元，机构上个月突然停课，"
        "申请退费一直拖着不办，请教育部门和市场监管部门处理。",
    ),
    (
        "求助",
        "{place}路灯损坏一个多星期",
        "{place}一段路的路灯坏了一个多星期，晚上一片漆黑，最近有行人摔倒，"
        "电动车也容易出事故，请尽快安排维修。",
    ),
    (
        "投诉",
        "出租车司机拒载并绕路多收费",
        "昨天晚上在{place}打出租车，司机先是嫌距离近拒载，上车后又故意绕路多收了三十多元，"
        "我保留了发票，请交通运输部门查处。",
    ),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"


def _places() -> list[str]:
    sys.path.insert(0, str(REPO_ROOT))
    from hotline.runtime.config import load_settings

    data_dir = load_settings().data_dir
    try:
        with open(data_dir / "places.toml", "rb") as fh:
            doc = tomllib.load(fh)
    except OSError:
        return ["A市"]
    kinds = ("compound", "road", "market", "street", "town")
    return [p["name"] for p in doc.get("place", []) if p.get("kind") in kinds] or ["A市"]


def make_body(rng: random.Random, places: list[str]) -> dict[str, Any]:
    """One realistic ticket body, auto-dispatched."""
    kind, title, content = rng.choice(TEMPLATES)
    place = rng.choice(places)
    anonymous = rng.random() < 0.1
    return {
        "channel": rng.choice(["phone", "phone", "phone", "web", "wechat"]),
        "kind": kind,
        "urgency": "紧急" if rng.random() < 0.03 else "一般",
        "title": title.format(place=place),
        "content": content.format(place=place),
        "location": {"address": f"A市{place}"},
        "complainant": {
            "name": "" if anonymous else rng.choice(SURNAMES) + rng.choice(["先生", "女士"]),
            "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            "anonymous": anonymous,
        },
        "auto_dispatch": True,
    }


# ---- database and server ------------------------------------------------------------


async def _pg_schema(url: str, schema: str, *, drop: bool) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        url.replace("postgres://", "postgresql://", 1).split("?")[0], timeout=10
    )
    try:
        sql = f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' if drop else f'CREATE SCHEMA "{schema}"'
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_database(url: str | None, prefix: str = "bench") -> Iterator[str]:
    """A temporary SQLite file, or a new schema on the PostgreSQL at `url` (dropped after)."""
    if not url:
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
            yield f"sqlite://{Path(tmp) / 'bench.db'}"
        return
    if url.startswith("sqlite"):
        yield url
        return
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"unsupported database URL: {url}")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_schema(url, schema, drop=False))
    try:
        yield f"{url}{'&' if '?' in url else '?'}schema={schema}"
    finally:
        asyncio.run(_pg_schema(url, schema, drop=True))


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def server_env(database_url: str) -> dict[str, str]:
    """The server's environment: our database, auto-dispatch on, no background sweeper."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url, AUTO_DISPATCH="true", RUN_SWEEPER="false", PYTHONUNBUFFERED="1"
    )
    # Several workers need one signing key (start-up refuses --workers N without it).
    env.setdefault("SECRET_KEY", "bench-" + os.urandom(16).hex())
    return env


def cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """Run `python main.py ARGS`; its stdout, or exit with its stderr."""
    done = subprocess.run(
        [sys.executable, str(MAIN), *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=180,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"python main.py {' '.join(args)} failed ({done.returncode}):\n{done.stderr.strip()}"
        )
    return done.stdout


def operator_token(env: dict[str, str]) -> str:
    """Create the benchmark operator with the CLI and issue a token for it."""
    cli(
        env,
        "users",
        "add",
        "--username",
        "bench-op",
        "--role",
        "operator",
        "--name",
        "压测话务员",
        stdin="bench-password-1\n",
    )
    return cli(env, "users", "token", "bench-op").strip().splitlines()[-1]


@contextmanager
def running_server(
    env: dict[str, str],
    *,
    workers: int,
    log_path: Path,
    startup_timeout: float = 120.0,
    bare: bool = False,
) -> Iterator[str]:
    """`python main.py --workers W` (or the bare floor app) on a free port; stopped on exit."""
    port = free_port()
    command = (
        [sys.executable, str(BARE), "--port", str(port)]
        if bare
        else [
            sys.executable,
            str(MAIN),
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
    )
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        base = f"http://{HOST}:{port}"
        _wait_ready(proc, base, workers, log_path, startup_timeout)
        yield base
    finally:
        _stop(proc)


def _wait_ready(
    proc: subprocess.Popen[bytes], base: str, workers: int, log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"server exited with {proc.returncode}:\n"
                f"{log_path.read_text(errors='replace')[-3000:]}"
            )
        # Every worker must have finished its lifespan (model loaded), not just the first.
        started = log_path.read_text(errors="replace").count("Application startup complete")
        if started >= workers:
            try:
                if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.25)
    _stop(proc)
    raise SystemExit(
        f"server not ready within {timeout:.0f} s:\n{log_path.read_text(errors='replace')[-3000:]}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# ---- load ------------------------------------------------------------------------------


@dataclass
class Results:
    """What the clients saw."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    numbers: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    stopped_early: bool = False


async def fire(
    base: str, token: str, *, n: int, concurrency: int, time_limit: float, seed: int = 12345
) -> Results:
    """N POSTs from `concurrency` clients (one keep-alive connection each), bounded in time."""
    rng = random.Random(seed)
    places = _places()
    bodies = [make_body(rng, places) for _ in range(n)]
    results = Results()
    next_index = 0
    headers = {"Authorization": f"Bearer {token}"}
    start = time.perf_counter()
    deadline = start + time_limit

    async def client_loop() -> None:
        nonlocal next_index
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            base_url=base, headers=headers, timeout=60.0, limits=limits
        ) as client:
            while next_index < n:
                if time.perf_counter() > deadline:
                    results.stopped_early = True
                    return
                body = bodies[next_index]
                next_index += 1
                t0 = time.perf_counter()
                try:
                    r = await client.post("/api/v1/tickets", json=body)
                except httpx.HTTPError as exc:
                    results.errors[type(exc).__name__] += 1
                    continue
                took = time.perf_counter() - t0
                if r.status_code == 201:
                    results.latencies.append(took)
                    data = r.json()
                    results.statuses[data["status"]] += 1
                    results.numbers.append(data["number"])
                else:
                    results.errors[f"HTTP {r.status_code}"] += 1

    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    results.elapsed = time.perf_counter() - start
    return results


async def warm_up(base: str, token: str, count: int) -> int:
    """A few requests first, so every worker has loaded lazily-built state (not counted)."""
    rng = random.Random(1)
    places = _places()
    async with httpx.AsyncClient(
        base_url=base, timeout=60.0, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        answers = await asyncio.gather(
            *(client.post("/api/v1/tickets", json=make_body(rng, places)) for _ in range(count))
        )
    return sum(r.status_code == 201 for r in answers)


async def stored_total(base: str, token: str) -> int:
    """How many tickets the server says it holds (the operator sees every ticket)."""
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        r = await client.get(
            "/api/v1/tickets", params={"per_page": 1}, headers={"Authorization": f"Bearer {token}"}
        )
        r.raise_for_status()
        return int(r.json()["total"])


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`, in the same unit."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _redacted(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]+@", r"://\1:***@", url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="tickets to create (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--database-url",
        default=None,
        help="sqlite://FILE or postgres://… (a fresh schema is created and "
        "dropped); default: a temporary SQLite file",
    )
    parser.add_argument("--smoke", action="store_true", help="quick run: n=100")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the bare one-insert endpoint run"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=600.0,
        help="stop sending after this many seconds (default 600)",
    )
    parser.add_argument("--warm-up", type=int, default=8, help="uncounted requests first")
    args = parser.parse_args(argv)
    n = 100 if args.smoke else args.n
    if n < 1 or args.concurrency < 1 or args.workers < 1:
        parser.error("--n, --concurrency and --workers must be positive")

    with (
        fresh_database(args.database_url) as url,
        tempfile.TemporaryDirectory(prefix="bench-log-") as logs,
    ):
        env = server_env(url)
        token = operator_token(env)  # also creates the tables before the workers start
        backend = "postgres" if url.startswith("postgres") else "sqlite"
        log_path = Path(logs) / "server.log"
        with running_server(env, workers=args.workers, log_path=log_path) as base:
            warmed = asyncio.run(warm_up(base, token, args.warm_up))
            res = asyncio.run(
                fire(base, token, n=n, concurrency=args.concurrency, time_limit=args.time_limit)
            )
            total = asyncio.run(stored_total(base, token))
        server_errors = log_path.read_text(errors="replace").count("Traceback")
        floor = None
        if not args.no_floor:
            # The same load on a bare one-insert endpoint, same database server, same run.
            with (
                fresh_database(args.database_url, prefix="floor") as floor_url,
                running_server(
                    server_env(floor_url), workers=1, log_path=Path(logs) / "bare.log", bare=True
                ) as bare_base,
            ):
                asyncio.run(warm_up(bare_base, token, args.warm_up))
                floor = asyncio.run(
                    fire(
                        bare_base,
                        token,
                        n=n,
                        concurrency=args.concurrency,
                        time_limit=args.time_limit,
                    )
                )

    ok = len(res.latencies)
    ms = [x * 1000 for x in res.latencies]
    print(f"backend      {backend}  ({_redacted(url)})")
    print(
        f"requests     {n} POST /api/v1/tickets, concurrency {args.concurrency}, "
        f"workers {args.workers}, auto_dispatch true"
    )
    print(
        f"created      {ok} in {res.elapsed:.2f} s  →  {ok / res.elapsed:.1f} tickets/s"
        + ("  (stopped at time limit)" if res.stopped_early else "")
    )
    if ms:
        print(
            f"latency ms   p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
            f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}  mean {statistics.fmean(ms):.1f}"
        )
    print(f"statuses     {dict(res.statuses)}")
    if floor is not None and floor.latencies:
        fms = [x * 1000 for x in floor.latencies]
        rate, floor_rate = ok / res.elapsed, len(fms) / floor.elapsed
        print(
            f"floor        bare one-insert endpoint: {floor_rate:.1f} requests/s, "
            f"p50 {percentile(fms, 50):.1f} p99 {percentile(fms, 99):.1f} ms  "
            f"→ project at {rate / floor_rate:.0%} of the floor"
        )
    errors = sum(res.errors.values())
    print(
        f"errors       {errors}"
        + (f"  {dict(res.errors)}" if errors else "")
        + f"; server tracebacks {server_errors}"
    )
    duplicates = len(res.numbers) - len(set(res.numbers))
    expected = ok + warmed
    print(
        f"check        {total} tickets stored (expected {expected}), {duplicates} duplicate numbers"
    )
    print(f"machine      {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    return 0 if errors == 0 and duplicates == 0 and total == expected else 1


if __name__ == "__main__":
    sys.exit(main())
