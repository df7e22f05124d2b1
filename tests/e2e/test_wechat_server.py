"""A real `python main.py` (uvicorn) with the WeChat endpoint on, 50 citizens at once.

wechatpy plays WeChat: it signs and encrypts, and reads our replies. Every reply must
come well inside WeChat's 5-second limit, and WeChat's retries must not add tickets. The
account has an EncodingAESKey: plain messages and a second use of a nonce are refused, and
the server's log keeps none of the signatures, nonces, echostr or openids it was sent.
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
        # Safe mode, or compatible mode (a plain copy beside Encrypt) for the other half.
        params, body = peer.safe(fields, compat=not safe)
        async with httpx.AsyncClient(base_url=wechat_server.base_url, timeout=30.0) as client:
            await start.wait()
            began = time.perf_counter()
            r = await client.post("/wechat", params=params, content=body)
            elapsed = time.perf_counter() - began
        assert r.status_code == 200, r.text
        reply = peer.read(r.text, encrypted=True)
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


async def test_no_plain_mode_no_second_nonce_and_no_secrets_in_the_log(
    wechat_server: Server,
) -> None:
    peer = Peer()
    alice = "oE2EAlice_9a8b7c6d5e4f3g2h1i0j"
    secrets: set[str] = {alice}
    async with httpx.AsyncClient(base_url=wechat_server.base_url, timeout=30.0) as client:
        check = {**peer.params(), "echostr": "6104418377265532"}
        r = await client.get("/wechat", params=check)
        assert r.status_code == 200 and r.text == check["echostr"]
        secrets |= {check["signature"], check["nonce"], check["echostr"]}

        params, body = peer.safe(peer.text(alice, TEXT.format(n=7)))
        r = await client.post("/wechat", params=params, content=body)
        assert r.status_code == 200, r.text
        number = peer.read(r.text, encrypted=True).content
        secrets |= {params["signature"], params["nonce"], params["msg_signature"]}

        # A plain message, correctly signed: refused, whoever it claims to be from.
        plain, query = peer.plain(peer.text(alice, "查询"))
        r = await client.post("/wechat", params=plain, content=query)
        assert r.status_code == 403 and "工单" not in r.text
        secrets |= {plain["signature"], plain["nonce"]}

        # The safe message's query again with another validly encrypted message: refused.
        again, other = peer.safe(
            peer.text(alice, "查询"), nonce=params["nonce"], timestamp=params["timestamp"]
        )
        r = await client.post("/wechat", params=again, content=other)
        assert r.status_code == 403
        secrets.add(again["msg_signature"])
        # And the URL check's signature cannot carry a message either.
        url_check = {k: v for k, v in check.items() if k != "echostr"}
        _, own = peer.safe(peer.text(alice, "查询"))
        r = await client.post("/wechat", params={**url_check, "encrypt_type": "aes"}, content=own)
        assert r.status_code == 403

    time.sleep(0.5)  # the access log is written after each answer
    log = wechat_server.log.read_text(encoding="utf-8")
    assert log.count("POST /wechat?signature=***") >= 4, log[-2000:]
    assert "GET /wechat?signature=***" in log and "echostr=***" in log
    assert "openid=***" in log and "msg_signature=***" in log
    assert "plain message refused" in log and "nonce already used" in log
    leaked = sorted(s for s in secrets if s in log)
    assert leaked == [], f"secret values in the server log: {leaked}"
    assert "工单号" in number
