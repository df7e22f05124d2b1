"""A real `python main.py` (uvicorn) with the WeChat endpoint on, 50 citizens at once.

wechatpy plays WeChat: it signs and encrypts, and reads our replies. Every reply must
come well inside WeChat's 5-second limit, and WeChat's retries must not add tickets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server import Server, _start, server_url  # noqa: F401 - fixture
from tests.wechatpeer import AES_KEY, APPID, TOKEN, Peer

SENDERS = 50
TEXT = "{n}号楼旁边的建筑工地每天晚上十一点以后还在施工，噪音非常大，老人小孩无法休息。请尽快查处。"


@pytest.fixture
def wechat_server(
    server_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Server]:
    monkeypatch.setenv("WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("WECHAT_APPID", APPID)
    monkeypatch.setenv("WECHAT_AES_KEY", AES_KEY)
    yield from _start(tmp_path, server_url)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.99 * len(ordered) + 0.5) - 1)]


async def test_fifty_concurrent_citizens_within_wechats_limit(wechat_server: Server) -> None:
    peer = Peer()
    messages = [
        (n % 2 == 1, peer.text(f"oE2E{n:03d}xxxxxxxxxxxxxxxxxxx", TEXT.format(n=n)))
        for n in range(SENDERS)
    ]

    async def send(safe: bool, fields: dict[str, str], start: asyncio.Event) -> tuple[float, str]:
        params, body = peer.safe(fields) if safe else peer.plain(fields)
        async with httpx.AsyncClient(base_url=wechat_server.base_url, timeout=30.0) as client:
            await start.wait()
            began = time.perf_counter()
            r = await client.post("/wechat", params=params, content=body)
            elapsed = time.perf_counter() - began
        assert r.status_code == 200, r.text
        reply = peer.read(r.text, encrypted=safe)
        assert reply.target == fields["FromUserName"]
        assert "工单号" in reply.content and "查询码" in reply.content
        return elapsed, reply.content

    async def burst() -> list[tuple[float, str]]:
        start = asyncio.Event()
        tasks = [asyncio.create_task(send(safe, fields, start)) for safe, fields in messages]
        await asyncio.sleep(0.2)  # every request signed and connected, then all at once
        start.set()
        return await asyncio.gather(*tasks)

    results = await burst()
    latencies = [elapsed for elapsed, _ in results]
    p99 = _p99(latencies)
    print(f"\n{SENDERS} concurrent WeChat senders: p99 {p99 * 1000:.0f} ms")
    assert p99 < 4.0, f"p99 {p99:.2f} s: WeChat gives up after 5 s"

    # WeChat retries all of them at once: same MsgId, same answers, no new tickets.
    again = await burst()
    assert [c for _, c in again] == [c for _, c in results]

    headers = {"Authorization": f"Bearer {wechat_server.token}"}
    async with httpx.AsyncClient(base_url=wechat_server.base_url, timeout=30.0) as client:
        r = await client.get("/api/v1/tickets", params={"per_page": 1}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["total"] == SENDERS
