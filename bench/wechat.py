"""Benchmark: the WeChat official account endpoint under a burst of citizens.

Starts `python main.py` (uvicorn) on 127.0.0.1 with WECHAT_TOKEN / WECHAT_APPID /
WECHAT_AES_KEY set, on a fresh database (temporary SQLite file, or a new schema on a
PostgreSQL server), then lets S citizens (default 50) send at once, each R rounds of: a
complaint text (opens a ticket: classifier, routing, auto-dispatch), a location, a photo
and 「查询」, as WeChat pushes them (signed and encrypted: safe mode for every other citizen,
compatible mode — a plain copy beside the encrypted one — for the rest; with an
EncodingAESKey set the server refuses plain mode). Every reply is checked (XML, decrypted,
names a ticket). Then every text is sent
again with the same MsgId, as WeChat retries, and the number of tickets must not change.
Prints p50/p95/p99/max latency per message type and overall; WeChat gives up after 5 s.

    python bench/wechat.py                       # 50 senders × 3 rounds, SQLite
    python bench/wechat.py --smoke               # 10 senders × 1 round
    python bench/wechat.py --senders 50 --database-url postgres://postgres@127.0.0.1:5432/test

Loopback only; bounded in count; stops the server and removes what it made.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
from create_tickets import (  # bench/ is on sys.path when this script runs
    TEMPLATES,
    _places,
    cli,
    fresh_database,
    operator_token,
    percentile,
    running_server,
    server_env,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from hotline.channels import wechat as proto  # noqa: E402

TOKEN = "bench-wechat-token"
APPID = "wxbench000000001"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
ACCOUNT = "gh_bench12345"


def _xml(fields: dict[str, str]) -> str:
    return "<xml>" + "".join(f"<{k}>{proto.cdata(v)}</{k}>" for k, v in fields.items()) + "</xml>"


class Citizen:
    """One WeChat user: builds signed, encrypted pushes (safe or compatible mode)."""

    def __init__(self, n: int, safe: bool, crypto: proto.Crypto, rng: random.Random) -> None:
        self.openid = f"oBench{n:04d}_{rng.randrange(16**8):08x}"
        self.safe = safe
        self.crypto = crypto
        self.rng = rng
        self.msg_ids = iter(range(n * 1_000_000 + 1, (n + 1) * 1_000_000))
        self.sent_texts: list[tuple[dict[str, str], bytes]] = []

    def fields(self, msg_type: str, **extra: str) -> dict[str, str]:
        return {
            "ToUserName": ACCOUNT,
            "FromUserName": self.openid,
            "CreateTime": str(int(time.time())),
            "MsgType": msg_type,
            **extra,
            "MsgId": str(next(self.msg_ids)),
        }

    def request(self, fields: dict[str, str]) -> tuple[dict[str, str], bytes]:
        ts, nonce = str(int(time.time())), str(self.rng.randrange(10**9))
        params = {"signature": proto.signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
        encrypted = self.crypto.encrypt(_xml(fields))
        params.update(
            encrypt_type="aes", msg_signature=self.crypto.msg_signature(ts, nonce, encrypted)
        )
        outer = {"ToUserName": ACCOUNT} if self.safe else {**fields}
        body = _xml({**outer, "Encrypt": encrypted}).encode()
        return params, body

    def read(self, body: bytes) -> str:
        fields = proto.parse_xml(self.crypto.decrypt(proto.parse_xml(body)["Encrypt"]))
        if fields.get("ToUserName") != self.openid:
            raise AssertionError(f"reply to {fields.get('ToUserName')}, not {self.openid}")
        return fields.get("Content", "")


async def _post(
    client: httpx.AsyncClient, citizen: Citizen, params: dict[str, str], body: bytes
) -> tuple[float, str]:
    started = time.perf_counter()
    r = await client.post("/wechat", params=params, content=body)
    elapsed = time.perf_counter() - started
    if r.status_code != 200:
        raise AssertionError(f"{r.status_code} {r.text[:200]}")
    return elapsed, citizen.read(r.content)


async def run_citizen(
    base: str,
    citizen: Citizen,
    rounds: int,
    bodies: list[str],
    start: asyncio.Event,
    timings: dict[str, list[float]],
    errors: list[str],
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        await start.wait()
        for _ in range(rounds):
            text = citizen.rng.choice(bodies)
            steps = [
                ("text", citizen.fields("text", Content=text), "工单号"),
                (
                    "location",
                    citizen.fields(
                        "location",
                        Location_X=f"{28 + citizen.rng.random():.6f}",
                        Location_Y=f"{112 + citizen.rng.random():.6f}",
                        Scale="15",
                        Label="含浦街道",
                    ),
                    "工单",
                ),
                (
                    "image",
                    citizen.fields("image", PicUrl="http://mmbiz.qpic.cn/x/0", MediaId="m1"),
                    "图片",
                ),
                ("query", citizen.fields("text", Content="查询"), "工单"),
            ]
            for kind, fields, expect in steps:
                params, body = citizen.request(fields)
                if kind == "text":
                    citizen.sent_texts.append((params, body))
                try:
                    elapsed, content = await _post(client, citizen, params, body)
                except Exception as exc:  # noqa: BLE001 - counted and shown, not fatal
                    errors.append(f"{kind}: {exc!r}")
                    continue
                timings[kind].append(elapsed)
                if expect not in content:
                    errors.append(f"{kind}: unexpected reply {content[:80]!r}")


async def retry_all(base: str, citizens: list[Citizen], timings: dict[str, list[float]]) -> None:
    """WeChat's retry: the same signed request again (a fresh signature, same MsgId)."""

    async def one(citizen: Citizen) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
            for _, body in citizen.sent_texts:
                inner = citizen.crypto.decrypt(proto.parse_xml(body)["Encrypt"]).encode()
                params, again = citizen.request(proto.parse_xml(inner))
                elapsed, content = await _post(client, citizen, params, again)
                timings["retry"].append(elapsed)
                assert "工单号" in content, content

    await asyncio.gather(*(one(c) for c in citizens))


async def ticket_total(base: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        r = await client.get(
            "/api/v1/tickets",
            params={"per_page": 1},
            headers={"Authorization": f"Bearer {token}"},
        )
        r.raise_for_status()
        return int(r.json()["total"])


def report(timings: dict[str, list[float]]) -> None:
    every = [t for kind, ts in timings.items() if kind != "retry" for t in ts]
    print(f"{'message':<10}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for kind in ["text", "location", "image", "query", "retry", "all"]:
        values = every if kind == "all" else timings.get(kind, [])
        if not values:
            continue
        print(
            f"{kind:<10}{len(values):>6}"
            + "".join(f"{percentile(values, p) * 1000:>10.0f}" for p in (50, 95, 99))
            + f"{max(values) * 1000:>10.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--smoke", action="store_true", help="10 senders, 1 round")
    args = parser.parse_args(argv)
    if args.smoke:
        args.senders, args.rounds = 10, 1
    rng = random.Random(args.seed)
    places = _places()
    bodies = [content.format(place=rng.choice(places)) for _, _, content in TEMPLATES]
    crypto = proto.Crypto(TOKEN, AES_KEY, APPID)
    citizens = [
        Citizen(n, n % 2 == 1, crypto, random.Random(rng.random())) for n in range(args.senders)
    ]
    with fresh_database(args.database_url, prefix="benchwx") as url:
        env = server_env(url)
        env.update(WECHAT_TOKEN=TOKEN, WECHAT_APPID=APPID, WECHAT_AES_KEY=AES_KEY)
        cli(env, "migrate")
        token = operator_token(env)
        with tempfile.TemporaryDirectory(prefix="benchwx-") as tmp:
            with running_server(env, workers=1, log_path=Path(tmp) / "server.log") as base:
                timings: dict[str, list[float]] = defaultdict(list)
                errors: list[str] = []

                async def burst() -> float:
                    start = asyncio.Event()
                    tasks = [
                        asyncio.create_task(
                            run_citizen(base, c, args.rounds, bodies, start, timings, errors)
                        )
                        for c in citizens
                    ]
                    await asyncio.sleep(0.2)
                    began = time.perf_counter()
                    start.set()
                    await asyncio.gather(*tasks)
                    return time.perf_counter() - began

                wall = asyncio.run(burst())
                before = asyncio.run(ticket_total(base, token))
                asyncio.run(retry_all(base, citizens, timings))
                after = asyncio.run(ticket_total(base, token))
    sent = sum(len(c.sent_texts) for c in citizens)
    print(
        f"{args.senders} concurrent senders × {args.rounds} rounds "
        f"(text, location, image, 查询), half in safe mode, half compatible; {wall:.1f} s wall"
    )
    report(timings)
    print(f"tickets: {before} from {sent} texts; after retrying every text: {after}")
    for line in errors[:10]:
        print("error:", line)
    ok = not errors and before == sent and after == before
    print("OK" if ok else f"FAILED ({len(errors)} errors)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
