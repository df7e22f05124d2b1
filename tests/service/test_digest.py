"""The daily digest at a big city's size: bounded lists, no giant statements, no retry storm.

Overdue tickets are cloned from one dispatched ticket with a single INSERT … SELECT over a
recursive counter, so tens of thousands of rows cost a fraction of a second.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from hotline.domain.models import JobRun, Ticket, TicketClock
from hotline.outbox.models import OutboxMessage
from hotline.runtime.deployment import Deployment
from hotline.services import digest as digest_module
from hotline.services.daily_jobs import MAX_ATTEMPTS, RETRY_AFTER
from hotline.services.rate_rows import placeholders
from hotline.services.sweeper import send_daily_digest
from tests.service.conftest import make_people
from tests.service.test_sweeper import ACCOUNTS, LINK, SUPERVISORS, T0, D, Env

MONDAY_0900 = T0 - timedelta(hours=1)  # 09:00 in Shanghai on the day tickets fall due
LATER = MONDAY_0900 + 8 * D  # every receipt and feedback clock of T0's tickets is overdue


@pytest.fixture
async def env(db: Any, deployment: Deployment) -> Env:
    return Env(deployment=deployment, people=await make_people(deployment, ACCOUNTS, now=T0))


async def clone(ticket: Ticket, copies: int, *, prefix: str = "C") -> None:
    """`copies` more tickets like `ticket` (numbers prefix+i), each with copies of its clocks."""
    conn = Ticket._meta.db
    dialect = conn.capabilities.dialect
    counter = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
    columns = [c for c in Ticket._meta.fields_db_projection.values() if c != "id"]
    chosen = ["? || n.i" if c == "number" else f't."{c}"' for c in columns]
    await conn.execute_query(
        placeholders(
            dialect,
            counter
            + f"INSERT INTO ticket ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "
            + f"SELECT {', '.join(chosen)} FROM ticket t, n WHERE t.id = ?",
        ),
        [copies, prefix, ticket.id],
    )
    clock_columns = [
        c for c in TicketClock._meta.fields_db_projection.values() if c not in ("id", "ticket_id")
    ]
    quoted = ", ".join(f'"{c}"' for c in clock_columns)
    await conn.execute_query(
        placeholders(
            dialect,
            f'INSERT INTO ticket_clock ("ticket_id", {quoted}) '
            f"SELECT t.id, {', '.join(f'c.{chr(34)}{c}{chr(34)}' for c in clock_columns)} "
            "FROM ticket t, ticket_clock c WHERE t.number LIKE ? AND c.ticket_id = ?",
        ),
        [f"{prefix}%", ticket.id],
    )


async def digests() -> list[OutboxMessage]:
    return list(await OutboxMessage.filter(transport="mail", reason="digest").order_by("id"))


async def test_the_digest_counts_every_overdue_clock_and_lists_the_longest_overdue(
    env: Env,
) -> None:
    oldest = await env.dispatched(T0 - 2 * D, title="拖得最久的物业问题")
    many = await env.dispatched(T0, title="同一类物业问题")
    await clone(many, 79)  # 80 tickets × (签收 + 反馈) + the oldest's two = 162 overdue clocks
    assert await send_daily_digest(now=LATER, link_base=LINK)
    [mail] = await digests()
    assert "：162件" in mail.subject
    body = mail.body_text
    assert (
        "【A市住房和城乡建设局】162件（以下列出超时最久的50件，其余112件请在工单查询中查看："
        in body
    )
    assert f"{LINK}/tickets?overdue=1" in body
    # A bounded list: 50 lines, the longest overdue first.
    listed = [line for line in body.splitlines() if line.startswith("  - ")]
    assert len(listed) == 50
    assert listed[0].startswith(f"  - {oldest.number} 拖得最久的物业问题｜签收时限")
    assert "其余112件" in (mail.body_html or "")
    assert set(mail.to_addrs) == SUPERVISORS


@pytest.mark.backends
async def test_a_digest_with_more_overdue_clocks_than_a_statement_may_carry(env: Env) -> None:
    """PostgreSQL refuses a statement with more than 32,767 parameters: the digest used to
    load every overdue clock and then ask for their tickets with one `id IN (…)`."""
    ticket = await env.dispatched(T0, title="大面积停水")
    await clone(ticket, 17_000)  # 17,001 tickets × 2 clocks = 34,002 overdue clocks
    assert await send_daily_digest(now=LATER, link_base=LINK)
    [mail] = await digests()
    assert "：34002件" in mail.subject
    assert len([line for line in mail.body_text.splitlines() if line.startswith("  - ")]) == 50
    assert (await JobRun.get(name="digest")).finished_at is not None


async def test_a_failed_digest_is_retried_a_few_times_not_every_minute(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    await env.dispatched(T0 - 3 * D, title="逾期未签收的工单")
    builds: list[datetime] = []
    failing = True

    real = digest_module.overdue_groups

    async def flaky(*, now: datetime, **kw: Any) -> Any:
        builds.append(now)
        if failing:
            raise RuntimeError("数据库连接中断")
        return await real(now=now, **kw)

    monkeypatch.setattr(digest_module, "overdue_groups", flaky)
    minute = timedelta(minutes=1)
    # The sweeper calls the digest every minute: a failure is not retried at once.
    for i in range(5):
        assert await send_daily_digest(now=MONDAY_0900 + i * minute, link_base=LINK) is False
    assert len(builds) == 1
    run = await JobRun.get(name="digest")
    assert run.finished_at is None and run.attempts == 1 and "数据库连接中断" in run.error
    # After the pause it is tried again, and a success is sent once.
    failing = False
    again = MONDAY_0900 + RETRY_AFTER + minute
    assert await send_daily_digest(now=again, link_base=LINK) is True
    assert await send_daily_digest(now=again + RETRY_AFTER * 2, link_base=LINK) is False
    assert len(builds) == 2 and len(await digests()) == 1
    # Next day it keeps failing: tried MAX_ATTEMPTS times, then left alone until tomorrow.
    failing = True
    builds.clear()
    tuesday = MONDAY_0900 + D
    for i in range(60):
        await send_daily_digest(now=tuesday + i * RETRY_AFTER / 2, link_base=LINK)
    assert len(builds) == MAX_ATTEMPTS
    assert (await JobRun.get(name="digest", day="20261124")).attempts == MAX_ATTEMPTS
