"""`python main.py sms …` as an administrator types it, on a real SQLite file and a real
HTTP gateway on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.outbox.models import OutboxMessage, OutboxStatus
from hotline.runtime.db import close_database, open_database
from hotline.sms.outbox import enqueue_sms
from tests.clirunner import run_cli
from tests.smssupport import http_peer

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


# Texts that really leave need a link citizens can open (start-up refuses a local one).
CITY = "https://12345.city.example"


def sms(db: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        {**os.environ, "DATABASE_URL": f"sqlite://{db}", "PUBLIC_BASE_URL": CITY, **env},
        "sms",
        *args,
        cwd=REPO,
    )


async def seed(db: Path) -> list[int]:
    """Two texts waiting and one the gateway refused, written as the service writes them."""
    ctx = await open_database(f"sqlite://{db}", global_fallback=False)
    try:
        ids = []
        for k in range(3):
            row = await enqueue_sms(
                dedupe_key=f"GD{k}:close:v5",
                phone=f"1390000000{k}",
                template="close",
                params={"number": f"GD{k}", "link": f"http://x/track?number=GD{k}"},
                body=f"【12345热线】您的工单GD{k}已办结。本短信回复无效。",
                ticket_number=f"GD{k}",
                reason="close",
                now=NOW - timedelta(hours=1),
            )
            ids.append(row.id)
        await OutboxMessage.filter(transport="sms", id=ids[2]).update(
            status=OutboxStatus.FAILED, attempts=1, last_error="短信平台 HTTP 400"
        )
        return ids
    finally:
        await close_database(ctx)


async def statuses(db: Path) -> list[str]:
    ctx = await open_database(f"sqlite://{db}", global_fallback=False)
    try:
        return [
            str(s)
            for s in await OutboxMessage.filter(transport="sms")
            .order_by("id")
            .values_list("status", flat=True)
        ]
    finally:
        await close_database(ctx)


async def test_list_send_and_requeue_texts(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    db = migrated_sqlite("hotline.runtime.db")
    ids = await seed(db)
    listed = sms(db, "list")
    assert listed.returncode == 0, listed.stderr
    assert "待发送 2 条，最早一条已等待" in listed.stdout and "发送失败 1 条" in listed.stdout
    assert "139****0000" in listed.stdout and "13900000000" not in listed.stdout
    assert "短信平台 HTTP 400" in listed.stdout
    with http_peer((200, {"msgid": "CITY-9"})) as peer:
        sent = sms(db, "send", SMS_GATEWAY="http", SMS_HTTP_URL=peer.url + "/send")
    assert sent.returncode == 0, sent.stderr
    assert "短信网关 http：发送 2 条，稍后重试 0 条，失败 0 条" in sent.stdout
    assert sorted(s.json()["phone"] for s in peer.seen) == ["13900000000", "13900000001"]
    assert await statuses(db) == ["sent", "sent", "failed"]
    failed_only = sms(db, "list", "--status", "failed")
    assert f"#{ids[2]} failed" in failed_only.stdout and f"#{ids[0]} " not in failed_only.stdout
    requeued = sms(db, "requeue", "--failed")
    assert requeued.stdout.strip() == "已将 1 条发送失败的短信重新排队"
    single = sms(db, "requeue", str(ids[2]))
    assert single.returncode == 1 and f"没有编号为 {ids[2]} 的发送失败短信" in single.stderr
    bare = sms(db, "requeue")
    assert bare.returncode == 2 and "用法" in bare.stderr


async def test_a_gateway_that_is_down_is_reported_and_the_texts_wait(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    db = migrated_sqlite("hotline.runtime.db")
    await seed(db)
    with http_peer((503, {"error": "maintenance"})) as peer:
        down = sms(db, "send", SMS_GATEWAY="http", SMS_HTTP_URL=peer.url)
    assert down.returncode == 1
    assert "稍后重试 1 条" in down.stdout and "本轮中止" in down.stderr
    assert len(peer.seen) == 1  # the other waiting text was deferred, not tried
    assert await statuses(db) == ["pending", "pending", "failed"]


async def test_the_background_sender_in_the_sweeper_delivers_waiting_texts(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    db = migrated_sqlite("hotline.runtime.db")
    await seed(db)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{db}",
        "SMS_GATEWAY": "http",
        "PUBLIC_BASE_URL": CITY,
        "SWEEP_INTERVAL": "3600",
    }
    with http_peer((200, {"id": "BG-1"})) as peer:
        env["SMS_HTTP_URL"] = peer.url + "/send"
        worker = subprocess.Popen(
            [sys.executable, "main.py", "sweeper"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and worker.poll() is None:
                if await statuses(db) == ["sent", "sent", "failed"]:
                    break
                await asyncio.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGINT)
            _, stderr = worker.communicate(timeout=30)
    assert len(peer.seen) == 2, stderr
    assert await statuses(db) == ["sent", "sent", "failed"]
