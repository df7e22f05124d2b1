"""The sender against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise.context import TortoiseContext

from hotline.mail.outbox import enqueue_mail
from hotline.mail.transport import SmtpTransport
from hotline.outbox.delivery import MAX_RETRY, deliver_due
from hotline.outbox.models import OutboxMessage, OutboxStatus
from hotline.outbox.sender import run_sender
from hotline.runtime.mail_settings import SmtpSettings
from tests.mailsupport import (
    RecordingHandler,
    free_port,
    outbox_db,
    self_signed_cert,
    smtp_server,
)

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
SUBJECT = "【12345热线】新工单派发：GD202611220001 小区夜间施工噪音扰民"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[TortoiseContext]:
    """The outbox on in-memory SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)")
    async with outbox_db(request.param) as ctx:
        yield ctx


def _settings(port: int, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = dict(host="127.0.0.1", port=port, timeout=5.0)
    values.update(overrides)
    return SmtpSettings(**values)  # type: ignore[arg-type]


async def _enqueue(
    to: str = "zjj@city.example", subject: str = SUBJECT, number: str = "GD202611220001"
) -> OutboxMessage:
    return await enqueue_mail(
        to=[to],
        subject=subject,
        text="请及时签收。",
        html="<p>请及时签收。</p>",
        ticket_number=number,
        reason="dispatch",
        now=NOW,
    )


async def test_delivers_with_chinese_subject_and_same_message_id(db: TortoiseContext) -> None:
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        mail = await _enqueue()
        report = await deliver_due(SmtpTransport(_settings(server.port)), now=NOW)
    assert report.sent == [mail.id]
    [got] = handler.received
    msg = got.message
    assert msg["Subject"] == SUBJECT
    assert msg["Message-ID"] == mail.message_id
    assert msg["From"].addresses[0].display_name == "12345热线"
    assert got.mail_from == "noreply@12345.example" and got.rcpt_tos == ["zjj@city.example"]
    assert msg.get_body(preferencelist=("plain",)).get_content().rstrip() == "请及时签收。"
    assert "<p>请及时签收。</p>" in msg.get_body(preferencelist=("html",)).get_content()
    row = await OutboxMessage.get(transport="mail", id=mail.id)
    assert row.status == OutboxStatus.SENT and row.attempts == 1 and row.sent_at == NOW
    assert row.claimed_until is None and row.last_error is None
    # Sent rows are never picked up again.
    with smtp_server(handler) as server:
        again = await deliver_due(
            SmtpTransport(_settings(server.port)), now=NOW + timedelta(days=1)
        )
    assert again.attempted == 0 and len(handler.received) == 1


async def test_server_down_then_up_delivers_once_with_same_message_id(db: TortoiseContext) -> None:
    port = free_port()  # nothing listens here yet
    mail = await _enqueue()
    down = await deliver_due(SmtpTransport(_settings(port)), now=NOW)
    assert down.retrying == [mail.id] and down.aborted
    row = await OutboxMessage.get(transport="mail", id=mail.id)
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    assert row.last_error and "connect" in row.last_error.lower()

    handler = RecordingHandler()
    with smtp_server(handler, port=port):
        early = await deliver_due(SmtpTransport(_settings(port)), now=NOW + timedelta(seconds=30))
        assert early.attempted == 0  # backing off
        up = await deliver_due(SmtpTransport(_settings(port)), now=NOW + timedelta(minutes=1))
        assert up.sent == [mail.id]
        later = await deliver_due(SmtpTransport(_settings(port)), now=NOW + timedelta(hours=2))
        assert later.attempted == 0
    assert len(handler.received) == 1
    assert handler.received[0].message["Message-ID"] == mail.message_id
    row = await OutboxMessage.get(transport="mail", id=mail.id)
    assert row.status == OutboxStatus.SENT and row.attempts == 2


async def test_one_failed_connection_does_not_burn_every_row(db: TortoiseContext) -> None:
    first, second = await _enqueue(number="GD1"), await _enqueue(number="GD2")
    report = await deliver_due(SmtpTransport(_settings(free_port())), now=NOW)
    assert report.retrying == [first.id]  # the round stops at the first connection failure
    assert report.deferred == 1  # the others wait with it, untried
    waiting = await OutboxMessage.get(transport="mail", id=second.id)
    assert waiting.attempts == 0 and waiting.next_attempt_at == NOW + timedelta(minutes=1)


async def test_4xx_then_success_same_message_id(db: TortoiseContext) -> None:
    handler = RecordingHandler(data_replies=["451 4.3.0 try later"])
    with smtp_server(handler) as server:
        mail = await _enqueue()
        first = await deliver_due(SmtpTransport(_settings(server.port)), now=NOW)
        assert first.retrying == [mail.id]
        row = await OutboxMessage.get(transport="mail", id=mail.id)
        assert row.status == OutboxStatus.PENDING and row.attempts == 1
        assert row.last_error and "451" in row.last_error
        second = await deliver_due(
            SmtpTransport(_settings(server.port)), now=NOW + timedelta(minutes=1)
        )
        assert second.sent == [mail.id]
    assert handler.data_attempts == 2 and len(handler.received) == 1
    assert handler.received[0].message["Message-ID"] == mail.message_id


async def test_5xx_fails_without_retry_and_the_round_goes_on(db: TortoiseContext) -> None:
    handler = RecordingHandler(refuse_prefix="nouser")
    with smtp_server(handler) as server:
        bad = await _enqueue(to="nouser@city.example", number="GD1")
        good = await _enqueue(to="zjj@city.example", number="GD2")
        report = await deliver_due(SmtpTransport(_settings(server.port)), now=NOW)
        assert report.failed == [bad.id] and report.sent == [good.id]
        later = await deliver_due(
            SmtpTransport(_settings(server.port)), now=NOW + timedelta(days=1)
        )
        assert later.attempted == 0
    row = await OutboxMessage.get(transport="mail", id=bad.id)
    assert row.status == OutboxStatus.FAILED and row.attempts == 1
    assert row.last_error and "550" in row.last_error
    assert [r.rcpt_tos for r in handler.received] == [["zjj@city.example"]]


async def test_an_unreachable_server_never_fails_a_mail(db: TortoiseContext) -> None:
    mail = await _enqueue()
    settings = _settings(free_port())
    when, delays = NOW, []
    for attempt in range(1, 41):  # the old sender gave up after 12 tries (about 6.5 hours)
        report = await deliver_due(SmtpTransport(settings), now=when)
        assert report.retrying == [mail.id] and report.aborted
        row = await OutboxMessage.get(transport="mail", id=mail.id)
        assert row.status == OutboxStatus.PENDING and row.attempts == attempt
        delays.append(row.next_attempt_at - when)
        when = row.next_attempt_at
    assert delays[:6] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 30)]
    assert set(delays[5:]) == {MAX_RETRY} == {timedelta(minutes=30)}
    handler = RecordingHandler()
    with smtp_server(handler, port=settings.port):
        assert (await deliver_due(SmtpTransport(settings), now=when)).sent == [mail.id]
    assert [r.message["Message-ID"] for r in handler.received] == [mail.message_id]


async def test_4xx_never_fails_a_mail_and_5xx_fails_it_at_once(db: TortoiseContext) -> None:
    handler = RecordingHandler(data_replies=["451 4.3.0 try later"] * 20 + ["554 5.7.1 rejected"])
    with smtp_server(handler) as server:
        settings = _settings(server.port)
        mail = await _enqueue()
        when = NOW
        for _ in range(20):  # a day of temporary refusals
            assert (await deliver_due(SmtpTransport(settings), now=when)).retrying == [mail.id]
            row = await OutboxMessage.get(transport="mail", id=mail.id)
            assert row.status == OutboxStatus.PENDING and "451" in (row.last_error or "")
            when = row.next_attempt_at
        report = await deliver_due(SmtpTransport(settings), now=when)
        assert report.failed == [mail.id]
        row = await OutboxMessage.get(transport="mail", id=mail.id)
        assert row.status == OutboxStatus.FAILED and "554" in (row.last_error or "")
        later = await deliver_due(SmtpTransport(settings), now=when + timedelta(days=3))
        assert later.attempted == 0  # failed for good: only an admin requeues it
    assert handler.data_attempts == 21 and handler.received == []


async def test_tls_against_plain_server_is_temporary(db: TortoiseContext) -> None:
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        mail = await _enqueue()
        report = await deliver_due(SmtpTransport(_settings(server.port, tls="tls")), now=NOW)
        assert report.retrying == [mail.id]
        row = await OutboxMessage.get(transport="mail", id=mail.id)
        assert row.status == OutboxStatus.PENDING and row.attempts == 1
        assert row.last_error and ("TLS" in row.last_error or "SSL" in row.last_error)
        # Fixed configuration: the same mail goes out on its next turn.
        fixed = await deliver_due(
            SmtpTransport(_settings(server.port)), now=NOW + timedelta(minutes=1)
        )
        assert fixed.sent == [mail.id]
    assert handler.received[0].message["Message-ID"] == mail.message_id


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1."""
    made = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("needs the openssl command to make a test certificate")
    return made


async def test_starttls_untrusted_certificate_retries_then_trusted_delivers(
    db: TortoiseContext, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    handler = RecordingHandler()
    with smtp_server(handler, tls_context=server_tls) as server:
        mail = await _enqueue()
        untrusted = _settings(server.port, tls="starttls")
        report = await deliver_due(SmtpTransport(untrusted), now=NOW)
        assert report.retrying == [mail.id] and not handler.received
        row = await OutboxMessage.get(transport="mail", id=mail.id)
        assert row.status == OutboxStatus.PENDING and row.attempts == 1
        assert row.last_error and "TLS/SSL" in row.last_error
        assert "certificate" in row.last_error.lower()
        trusted = _settings(server.port, tls="starttls", ca_file=str(cert))
        report = await deliver_due(SmtpTransport(trusted), now=NOW + timedelta(minutes=1))
        assert report.sent == [mail.id]
    assert len(handler.received) == 1
    assert handler.received[0].message["Subject"] == SUBJECT


async def test_two_concurrent_senders_deliver_each_mail_once(db: TortoiseContext) -> None:
    handler = RecordingHandler()
    mails = [await _enqueue(number=f"GD{i}", subject=f"{SUBJECT} {i}") for i in range(20)]
    with smtp_server(handler) as server:
        settings = _settings(server.port)
        one, two = await asyncio.gather(
            deliver_due(SmtpTransport(settings), now=NOW),
            deliver_due(SmtpTransport(settings), now=NOW),
        )
    assert sorted(one.sent + two.sent) == sorted(m.id for m in mails)
    assert not set(one.sent) & set(two.sent)
    ids = [r.message["Message-ID"] for r in handler.received]
    assert sorted(ids) == sorted(m.message_id for m in mails)  # each exactly once
    assert await OutboxMessage.filter(transport="mail", status=OutboxStatus.SENT).count() == 20


async def test_a_crashed_senders_lease_expires(db: TortoiseContext) -> None:
    mail = await _enqueue()
    # A sender claimed the row and died before recording anything.
    await OutboxMessage.filter(transport="mail", id=mail.id).update(
        claimed_until=NOW + timedelta(minutes=10), claim_token="dead-sender"
    )
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        during = await deliver_due(
            SmtpTransport(_settings(server.port)), now=NOW + timedelta(minutes=5)
        )
        assert during.attempted == 0
        after = await deliver_due(
            SmtpTransport(_settings(server.port)), now=NOW + timedelta(minutes=11)
        )
        assert after.sent == [mail.id]
    assert len(handler.received) == 1


async def test_no_smtp_host_leaves_mail_in_outbox(db: TortoiseContext) -> None:
    handler = RecordingHandler()
    with smtp_server(handler):
        await _enqueue()
        report = await deliver_due(SmtpTransport(SmtpSettings.from_env({})), now=NOW)
    assert not report.enabled and not handler.received
    row = await OutboxMessage.get(transport="mail")
    assert row.status == OutboxStatus.PENDING and row.attempts == 0


async def test_run_sender_loop_delivers_and_stops(db: TortoiseContext) -> None:
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        mail = await _enqueue()
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_sender(
                SmtpTransport(_settings(server.port)),
                interval=0.05,
                stop=stop,
                clock=lambda: NOW,
            )
        )
        for _ in range(100):
            if handler.received:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    assert [r.message["Message-ID"] for r in handler.received] == [mail.message_id]
    assert (await OutboxMessage.get(transport="mail", id=mail.id)).status == OutboxStatus.SENT


async def test_partly_refused_recipients_count_as_sent(db: TortoiseContext) -> None:
    handler = RecordingHandler(refuse_prefix="nouser")
    with smtp_server(handler) as server:
        mail = await enqueue_mail(
            to=["zjj@city.example", "nouser@city.example"],
            subject=SUBJECT,
            text="正文",
            html=None,
            ticket_number=None,
            reason="digest",
            now=NOW,
        )
        report = await deliver_due(SmtpTransport(_settings(server.port)), now=NOW)
    # Retrying would send the good recipient a second copy; the refusal is kept for admins.
    assert report.sent == [mail.id]
    assert [r.rcpt_tos for r in handler.received] == [["zjj@city.example"]]
    row = await OutboxMessage.get(transport="mail", id=mail.id)
    assert row.status == OutboxStatus.SENT
    assert row.last_error and "nouser@city.example" in row.last_error and "550" in row.last_error


async def test_due_times_compare_to_the_microsecond(db: TortoiseContext) -> None:
    mail = await enqueue_mail(
        to=["zjj@city.example"],
        subject="s",
        text="t",
        html=None,
        ticket_number=None,
        reason="warning",
        now=NOW + timedelta(microseconds=500_000),
    )
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        settings = _settings(server.port)
        assert (await deliver_due(SmtpTransport(settings), now=NOW)).attempted == 0
        assert (
            await deliver_due(SmtpTransport(settings), now=NOW + timedelta(microseconds=499_999))
        ).attempted == 0
        report = await deliver_due(SmtpTransport(settings), now=NOW + timedelta(seconds=1))
    assert report.sent == [mail.id]


async def test_72_hours_without_smtp_then_every_mail_arrives_exactly_once(
    db: TortoiseContext,
) -> None:
    """The sender's own loop runs on a simulated clock, one minute a round, for 72 hours."""
    outage = timedelta(hours=72)
    port = free_port()  # nothing listens here until the outage ends
    mails = [
        await enqueue_mail(
            to=[f"unit{k % 7}@city.example"],
            subject=f"{SUBJECT} #{k}",
            text="请及时签收。",
            html=None,
            ticket_number=f"GD{k}",
            reason="dispatch",
            # A dozen waiting when the server goes down, then more all through the outage.
            now=NOW + (timedelta(0) if k < 12 else timedelta(hours=k * 2, minutes=k)),
        )
        for k in range(36)
    ]
    handler = RecordingHandler()
    servers: list[Any] = []
    stop = asyncio.Event()
    state = {"now": NOW, "rounds": 0}

    def clock() -> datetime:
        now = state["now"]
        state["now"] = now + timedelta(minutes=1)
        state["rounds"] += 1
        if not servers and now >= NOW + outage:
            controller = smtp_server(handler, port=port)
            controller.__enter__()
            servers.append(controller)
        if now >= NOW + outage + MAX_RETRY + timedelta(minutes=5):
            stop.set()
        return now

    try:
        await asyncio.wait_for(
            run_sender(SmtpTransport(_settings(port)), interval=0, stop=stop, clock=clock),
            timeout=240,
        )
    finally:
        for controller in servers:
            controller.__exit__(None, None, None)
    rows = await OutboxMessage.filter(transport="mail").order_by("id")
    received_ids = [r.message["Message-ID"] for r in handler.received]
    assert state["rounds"] >= 72 * 60  # the loop really ran through three simulated days
    assert [row.status for row in rows] == [OutboxStatus.SENT] * len(mails)
    assert len(received_ids) == len(set(received_ids)) == len(mails)  # none doubled, none lost
    assert sorted(received_ids) == sorted(m.message_id for m in mails)
    assert all(NOW + outage <= row.sent_at <= NOW + outage + MAX_RETRY for row in rows)
    # Waiting mail was deferred with the mail that was tried: a few hundred connection
    # attempts in three days, not one per mail per round.
    tries = sum(row.attempts for row in rows) - len(mails)  # the successful tries excluded
    assert tries < 72 * 2 + 36 * 6
    print(
        f"outage figures: queued {len(mails)}, delivered {len(set(received_ids))}, "
        f"doubled {len(received_ids) - len(set(received_ids))}, "
        f"lost {len(mails) - len(set(received_ids))}, failed tries during the outage {tries}, "
        f"sender rounds {state['rounds']}"
    )


class BusyOnce(RecordingHandler):
    """Answers 450 (mailbox busy) to `busy@…` the first time, 550 to `nouser@…` always."""

    def __init__(self) -> None:
        super().__init__(refuse_prefix="nouser")
        self.busy_left = 1

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("busy") and self.busy_left:
            self.busy_left -= 1
            return "450 4.2.1 mailbox busy"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


async def test_some_recipients_4xx_get_it_later_without_doubling_the_others(
    db: TortoiseContext,
) -> None:
    handler = BusyOnce()
    with smtp_server(handler) as server:
        mail = await enqueue_mail(
            to=["zjj@city.example", "busy@city.example", "nouser@city.example"],
            subject=SUBJECT,
            text="正文",
            html=None,
            ticket_number=None,
            reason="dispatch",
            now=NOW,
        )
        first = await deliver_due(SmtpTransport(_settings(server.port)), now=NOW)
        assert first.retrying == [mail.id]
        row = await OutboxMessage.get(transport="mail", id=mail.id)
        assert row.status == OutboxStatus.PENDING and row.to_addrs == ["busy@city.example"]
        assert "delivered to zjj@city.example" in (row.last_error or "")
        assert "nouser@city.example: 550" in (row.last_error or "")
        second = await deliver_due(SmtpTransport(_settings(server.port)), now=row.next_attempt_at)
        assert second.sent == [mail.id]
    assert [r.rcpt_tos for r in handler.received] == [["zjj@city.example"], ["busy@city.example"]]
    assert {r.message["Message-ID"] for r in handler.received} == {mail.message_id}
    assert (await OutboxMessage.get(transport="mail", id=mail.id)).status == OutboxStatus.SENT
