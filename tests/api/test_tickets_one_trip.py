"""A ticket written in one trip has exactly the rows the ORM writes statement by statement.

Each case creates the same ticket twice at the same instant: once as intake does it
(`create_ticket`: rows recorded, then sent in one hop on SQLite / one WITH on PostgreSQL)
and once with the same row-building code writing each statement through the ORM in a plain
transaction. Every row of every table the create touches is compared, column by column,
with the ticket's own number, query code and ids set aside.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from hotline.domain.models import Ticket, TicketEvent
from hotline.domain.schemas import TicketCreate
from hotline.domain.timefmt import utcnow
from hotline.outbox.models import OutboxMessage
from hotline.runtime.deployment import Deployment
from hotline.services import tickets
from hotline.services.idempotency import retry_key
from hotline.services.numbering import next_number
from tests.api.conftest import World

pytestmark = pytest.mark.backends

DISPATCHED = {
    "kind": "投诉",
    "title": "公司拖欠工资三个月",
    "content": "本人在一家装修公司做水电工，公司拖欠我和工友三个月工资，老板一直不发，请帮忙讨薪。",
    "location": {"address": "A3区含浦街道"},
    "complainant": {"name": "张先生", "phone": "13812345678", "email": "zhang@example.com"},
}
# The router is unsure: the ticket waits for an operator (no dispatch, no clocks).
UNSURE = {
    "kind": "咨询",
    "title": "问一下",
    "content": "想问一下这个事情怎么办理。",
    "complainant": {"name": "李女士", "phone": "13900001111"},
}
# A 举报 waits for a person to confirm what units read; its reporter is kept from units.
REPORT = {
    "kind": "举报",
    "title": "举报某单位工作人员吃拿卡要",
    "content": "我叫李建国，电话13912345678，举报某局工作人员办事收取好处费。",
    "complainant": {"name": "李建国", "phone": "13912345678", "confidential": True},
}

TABLES = ("ticket_event", "ticket_unit", "ticket_clock", "rate_assignment")


async def _orm_way(
    data: TicketCreate, *, now: Any, deployment: Deployment, retry: Any
) -> tickets.TicketRecord:
    """The same rows written statement by statement through the ORM (no recorder)."""
    proposal = deployment.propose(
        text=f"{data.title}\n{data.content}",
        address=data.location.address,
        kind=data.kind,
        category=data.category,
    )
    async with in_transaction() as conn:
        number = await next_number(conn, now)
        last = (await conn.execute_query_dict("SELECT max(id) AS last FROM ticket"))[0]["last"]
        ticket = tickets._new_ticket(
            data,
            proposal,
            id=(last or 0) + 1,
            number=number,
            actor=_actor(),
            now=now,
            photos=None,
        )
        return await tickets._create_rows(
            conn,
            ticket=ticket,
            data=data,
            actor=_actor(),
            now=now,
            deployment=deployment,
            auto_dispatch=True,
            retry=retry,
        )


def _actor() -> tickets.Actor:
    return tickets.Actor(1, "op", "operator", None)


def _postgres() -> bool:
    return Ticket._meta.db.capabilities.dialect == "postgres"


async def _rows(sql: str, *values: Any) -> list[dict[str, Any]]:
    if _postgres():
        count = iter(range(1, 100))
        sql = re.sub(r"\?", lambda _: f"${next(count)}", sql)
    return await Ticket._meta.db.execute_query_dict(sql, list(values))


async def _everything(ticket: Ticket) -> dict[str, Any]:
    """Every row the create wrote for this ticket, comparable with another ticket's."""
    found: dict[str, Any] = {
        "ticket": await _rows("SELECT * FROM ticket WHERE id = ?", ticket.id),
        "outbox_message": await _rows(
            "SELECT * FROM outbox_message WHERE ticket_number = ? ORDER BY id", ticket.number
        ),
        "idempotency_key": await _rows(
            "SELECT ticket_number, action, created_at FROM idempotency_key WHERE ticket_number = ?",
            ticket.number,
        ),
    }
    for table in TABLES:
        found[table] = await _rows(
            f"SELECT * FROM {table} WHERE ticket_id = ? ORDER BY 1", ticket.id
        )
    if _postgres():
        search = "SELECT shared::text AS shared, centre::text AS centre FROM ticket_search"
        found["ticket_search"] = await _rows(f"{search} WHERE id = ?", ticket.id)
    else:
        search = "SELECT shared, centre FROM ticket_search"
        found["ticket_search"] = await _rows(f"{search} WHERE rowid = ?", ticket.id)
    return _normalised(found, ticket)


def _normalised(value: Any, ticket: Ticket) -> Any:
    """Set aside what differs between two tickets by nature: ids, number, query code, and
    the random Message-ID of a mail."""
    if isinstance(value, dict):
        return {
            k: _normalised(v, ticket)
            for k, v in value.items()
            if k not in ("id", "ticket_id", "claim_token")
        }
    if isinstance(value, list):
        return [_normalised(v, ticket) for v in value]
    if isinstance(value, str):
        value = value.replace(ticket.number, "<number>").replace(ticket.query_code, "<code>")
        return re.sub(r"<[\d.]+@[^>]+>", "<message-id>", value)
    return value


async def _rollup() -> dict[tuple[str, str], dict[str, Any]]:
    rows = await _rows("SELECT * FROM rate_daily")
    return {(r["day"], r["unit"]): r for r in rows}


def _added(before: dict, after: dict) -> dict:
    """What one create added to the daily rollup, per day and unit."""
    out = {}
    for key, row in after.items():
        old = before.get(key, {})
        out[key] = {
            k: v - old.get(k, 0) for k, v in row.items() if isinstance(v, int) and k != "id"
        }
    return out


@pytest.mark.parametrize("body", [DISPATCHED, UNSURE, REPORT], ids=["dispatched", "unsure", "举报"])
@pytest.mark.parametrize("with_key", [False, True], ids=["plain", "idempotency-key"])
async def test_one_trip_writes_what_the_orm_writes(
    world: World, deployment: Deployment, body: dict, with_key: bool
) -> None:
    data = TicketCreate.model_validate(body)
    now = utcnow() - timedelta(minutes=5)

    def key(name: str) -> Any:
        return retry_key("user:1", name, ["create", body]) if with_key else None

    start = await _rollup()
    batched = await tickets.create_ticket(
        data=data,
        actor=_actor(),
        now=now,
        deployment=deployment,
        auto_dispatch=True,
        retry=key("first"),
    )
    middle = await _rollup()
    direct = await _orm_way(data, now=now, deployment=deployment, retry=key("second"))
    end = await _rollup()

    one, other = await _everything(batched.ticket), await _everything(direct.ticket)
    assert one["ticket"] and one["ticket_event"] and one["ticket_search"]
    if body is DISPATCHED:
        # The whole create: links, both clocks, the rate row, the texts and the units' mail.
        assert one["ticket"][0]["status"] == "dispatched"
        assert len(one["ticket_unit"]) >= 1 and len(one["ticket_clock"]) == 2
        assert len(one["rate_assignment"]) == 1
        assert {m["transport"] for m in one["outbox_message"]} == {"sms", "mail"}
        assert _added(start, middle), "the dispatch adds its day to the rollup"
    assert bool(one["idempotency_key"]) is with_key
    for table in one:
        assert one[table] == other[table], table
    assert _added(start, middle) == _added(middle, end)
    # The answer is what was stored (nothing read back): same number, id and status.
    stored = await Ticket.get(id=batched.ticket.id)
    assert (stored.number, stored.status) == (batched.ticket.number, batched.ticket.status)


async def test_a_failed_write_leaves_no_row(world: World, deployment: Deployment) -> None:
    """A write the database refuses (the same Idempotency-Key again) writes nothing at all:
    no ticket, no event, no text. On SQLite the day's counter is not moved either; on
    PostgreSQL the number was taken in a statement of its own and stays unused."""
    data = TicketCreate.model_validate(UNSURE)
    now = utcnow()
    retry = retry_key("user:1", "same", ["create", UNSURE])
    first = await tickets.create_ticket(
        data=data, actor=_actor(), now=now, deployment=deployment, auto_dispatch=True, retry=retry
    )
    counts = [await m.all().count() for m in (Ticket, TicketEvent, OutboxMessage)]
    with pytest.raises(IntegrityError):
        await tickets._create(
            data=data,
            actor=_actor(),
            now=now,
            deployment=deployment,
            auto_dispatch=True,
            retry=retry,
        )
    assert [await m.all().count() for m in (Ticket, TicketEvent, OutboxMessage)] == counts
    following = await tickets.create_ticket(
        data=data, actor=_actor(), now=now, deployment=deployment, auto_dispatch=True
    )
    day, seq = first.ticket.number.split("-")
    skipped = 1 if _postgres() else 0
    assert following.ticket.number == f"{day}-{int(seq) + 1 + skipped:05d}"
