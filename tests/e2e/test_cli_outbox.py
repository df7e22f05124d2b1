"""`python main.py outbox …` as an administrator types it, on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.mail.outbox import enqueue_mail
from hotline.outbox.models import OutboxMessage, OutboxStatus
from hotline.runtime.db import close_database, open_database
from tests.clirunner import run_cli

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def outbox(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite://{db}"}
    return run_cli(env, "outbox", *args, cwd=REPO)


async def seed(db: Path) -> list[int]:
    """Three failed mails and one sent, written the way the service writes them."""
    ctx = await open_database(f"sqlite://{db}", global_fallback=False)
    try:
        ids = []
        for k in range(4):
            mail = await enqueue_mail(
                to=[f"unit{k}@city.example"],
                subject=f"【12345热线】新工单派发：GD{k}",
                text="正文",
                html=None,
                ticket_number=f"GD{k}",
                reason="dispatch",
                now=NOW - timedelta(days=3),
            )
            ids.append(mail.id)
        await OutboxMessage.filter(transport="mail", id__in=ids[:3]).update(
            status=OutboxStatus.FAILED, attempts=12, last_error="Connection refused"
        )
        await OutboxMessage.filter(transport="mail", id=ids[3]).update(
            status=OutboxStatus.SENT, sent_at=NOW
        )
        return ids
    finally:
        await close_database(ctx)


async def statuses(db: Path) -> list[str]:
    ctx = await open_database(f"sqlite://{db}", global_fallback=False)
    try:
        return [
            str(s)
            for s in await OutboxMessage.filter(transport="mail")
            .order_by("id")
            .values_list("status", flat=True)
        ]
    finally:
        await close_database(ctx)


async def test_requeue_every_failed_mail_then_one(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    db = migrated_sqlite("hotline.runtime.db")
    ids = await seed(db)
    before = outbox(db, "status")
    assert before.returncode == 0 and "发送失败 3 封" in before.stdout, before.stderr
    done = outbox(db, "requeue", "--failed")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "已将 3 封发送失败的邮件重新排队"
    assert await statuses(db) == ["pending", "pending", "pending", "sent"]
    again = outbox(db, "requeue", "--failed")
    assert again.returncode == 0 and again.stdout.strip() == "没有发送失败的邮件"
    after = outbox(db, "status")
    assert "待发送 3 封，最早一封已等待" in after.stdout and "发送失败 0 封" in after.stdout
    single = outbox(db, "requeue", str(ids[0]))  # pending now: nothing to requeue
    assert single.returncode == 1 and f"没有编号为 {ids[0]} 的发送失败邮件" in single.stderr
    bare = outbox(db, "requeue")
    assert bare.returncode == 2 and "requeue --failed" in bare.stderr
