"""The outbox table: enqueueing inside transactions, claims, requeue, the switched-off sender."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.context import TortoiseContext
from tortoise.transactions import in_transaction

from hotline.mail.outbox import enqueue_mail
from hotline.mail.transport import SmtpTransport
from hotline.outbox.backlog import Backlog, backlog
from hotline.outbox.delivery import deliver_due, requeue
from hotline.outbox.models import OutboxMessage, OutboxStatus
from hotline.runtime.mail_settings import SmtpSettings
from tests.mailsupport import outbox_db

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[TortoiseContext]:
    """The outbox on in-memory SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)")
    async with outbox_db(request.param) as ctx:
        yield ctx


async def _enqueue(**overrides: object) -> OutboxMessage:
    fields: dict[str, object] = dict(
        to=["zjj@city.example"],
        subject="【12345热线】新工单派发：GD1 路灯不亮",
        text="正文",
        html="<p>正文</p>",
        ticket_number="GD1",
        reason="dispatch",
        now=NOW,
    )
    fields.update(overrides)
    return await enqueue_mail(**fields)  # type: ignore[arg-type]


async def test_enqueue_writes_a_pending_row(db: TortoiseContext) -> None:
    mail = await _enqueue(msgid_domain="hotline.city.example")
    row = await OutboxMessage.get(transport="mail", id=mail.id)
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert row.to_addrs == ["zjj@city.example"]
    assert row.subject == "【12345热线】新工单派发：GD1 路灯不亮"
    assert row.next_attempt_at == NOW and row.created_at == NOW
    assert row.created_at.utcoffset() == timedelta(0)
    assert row.ticket_number == "GD1" and row.reason == "dispatch"
    assert row.message_id.startswith("<") and row.message_id.endswith("@hotline.city.example>")
    other = await _enqueue()
    assert other.message_id != mail.message_id


async def test_enqueue_converts_to_utc_and_refuses_naive_times(db: TortoiseContext) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    row = await _enqueue(now=local)
    assert (await OutboxMessage.get(transport="mail", id=row.id)).next_attempt_at == NOW
    with pytest.raises(ValueError, match="naive"):
        await _enqueue(now=datetime(2026, 11, 22, 1, 0))


@pytest.mark.parametrize("to", [[], ["not-an-address"], ["a@b.example\r\nBcc: x@y"]])
async def test_enqueue_refuses_bad_recipients(db: TortoiseContext, to: list[str]) -> None:
    with pytest.raises(ValueError):
        await _enqueue(to=to)
    assert await OutboxMessage.filter(transport="mail").count() == 0


async def test_enqueue_commits_and_rolls_back_with_the_transaction(db: TortoiseContext) -> None:
    async with in_transaction() as conn:
        await _enqueue(using_db=conn, ticket_number="GD-kept")
    with pytest.raises(RuntimeError):
        async with in_transaction() as conn:
            await _enqueue(using_db=conn, ticket_number="GD-rolled-back")
            raise RuntimeError("the ticket event failed")
    assert await OutboxMessage.filter(transport="mail").values_list("ticket_number", flat=True) == [
        "GD-kept"
    ]


async def test_no_smtp_host_sends_nothing_and_keeps_rows_pending(db: TortoiseContext) -> None:
    await _enqueue()
    report = await deliver_due(
        SmtpTransport(SmtpSettings.from_env({})), now=NOW + timedelta(hours=1)
    )
    assert not report.enabled and report.attempted == 0
    row = await OutboxMessage.get(transport="mail")
    assert row.status == OutboxStatus.PENDING and row.attempts == 0 and row.claimed_until is None


async def test_requeue_only_failed_rows(db: TortoiseContext) -> None:
    row = await _enqueue()
    assert await requeue("mail", now=NOW, row_id=row.id) == 0  # pending: nothing to do
    await OutboxMessage.filter(transport="mail", id=row.id).update(
        status=OutboxStatus.FAILED, attempts=12
    )
    later = NOW + timedelta(days=1)
    assert await requeue("mail", now=later, row_id=row.id) == 1
    again = await OutboxMessage.get(transport="mail", id=row.id)
    assert again.status == OutboxStatus.PENDING and again.attempts == 0
    assert again.next_attempt_at == later


async def test_backlog_counts_waiting_and_failed_mail_and_the_oldest_age(
    db: TortoiseContext,
) -> None:
    empty = await backlog("mail", now=NOW)
    assert empty == Backlog(pending=0, failed=0, oldest_pending_age_seconds=None)
    assert not empty.waiting
    oldest = await _enqueue(now=NOW - timedelta(hours=5, minutes=3))
    await _enqueue(now=NOW - timedelta(minutes=1))
    sent = await _enqueue(now=NOW - timedelta(days=3))
    broken = await _enqueue(now=NOW - timedelta(days=2))
    await OutboxMessage.filter(transport="mail", id=sent.id).update(
        status=OutboxStatus.SENT, sent_at=NOW
    )
    await OutboxMessage.filter(transport="mail", id=broken.id).update(status=OutboxStatus.FAILED)
    waiting = await backlog("mail", now=NOW)
    assert waiting == Backlog(pending=2, failed=1, oldest_pending_age_seconds=5 * 3600 + 180)
    assert waiting.waiting and waiting.oldest_text == "5小时3分"
    await OutboxMessage.filter(transport="mail", id=oldest.id).update(
        status=OutboxStatus.SENT, sent_at=NOW
    )
    assert (await backlog("mail", now=NOW)).oldest_pending_age_seconds == 60


async def test_requeue_failed_puts_every_failed_mail_back_and_nothing_else(
    db: TortoiseContext,
) -> None:
    rows = [await _enqueue(ticket_number=f"GD{k}") for k in range(4)]
    await OutboxMessage.filter(transport="mail", id__in=[rows[0].id, rows[1].id]).update(
        status=OutboxStatus.FAILED, attempts=3, last_error="554 rejected"
    )
    await OutboxMessage.filter(transport="mail", id=rows[2].id).update(
        status=OutboxStatus.SENT, sent_at=NOW
    )
    later = NOW + timedelta(hours=2)
    assert await requeue("mail", now=later) == 2
    again = {r.id: r for r in await OutboxMessage.filter(transport="mail")}
    for row in rows[:2]:
        assert again[row.id].status == OutboxStatus.PENDING and again[row.id].attempts == 0
        assert again[row.id].next_attempt_at == later
    assert again[rows[2].id].status == OutboxStatus.SENT
    assert (
        again[rows[3].id].status == OutboxStatus.PENDING
        and again[rows[3].id].next_attempt_at == NOW
    )
    assert await requeue("mail", now=later) == 0
