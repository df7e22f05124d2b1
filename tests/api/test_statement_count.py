"""The write path stays lean: SQL statements for one create with auto-dispatch and one action.

Counted from tortoise's own query log (logger `tortoise.db_client`), which records every
statement the driver executes, BEGIN/COMMIT aside.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from hotline.domain.models import Ticket
from tests.api.conftest import World

# The budget counts each backend's own statements (RETURNING, sequences).
pytestmark = pytest.mark.backends

# The token's look-up counts here (a fresh token); within a few seconds it is remembered.
# One of them writes the ticket's full-text search row (hotline/services/ticket_search.py).
# A dispatch also adds its row to the daily rollup (rate_daily): one statement.
# Every new ticket is screened for a likely repeat (hotline.services.similar): one read for
# the same caller or street, the window's first id, one per key word in the full-text index
# (at most 3) and one for the candidates found — six statements more.
SCREEN_READS = 6
CREATE_BUDGET = 12 + SCREEN_READS
# On PostgreSQL one full-text match is three statements (the index's newest id, SET LOCAL,
# the match: hotline.services.fulltext), two more per key word than on SQLite.
PG_SCREEN_EXTRA = 2 * 3


def create_budget() -> int:
    """CREATE_BUDGET on this test's database."""
    postgres = Ticket._meta.db.capabilities.dialect == "postgres"
    return CREATE_BUDGET + (PG_SCREEN_EXTRA if postgres else 0)


ACTION_BUDGET = 10
# An action that changes the audited rates also reads the ticket's rate events and stored
# rows back, upserts its rate rows and adds their change to the daily rollup
# (hotline.services.rate_rows): four statements more.
RATE_ACTION_BUDGET = ACTION_BUDGET + 4


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(record.getMessage())


@contextmanager
def counting() -> Iterator[list[str]]:
    logger = logging.getLogger("tortoise.db_client")
    handler = _Counter()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


BODY = {
    "kind": "投诉",
    "title": "公司拖欠工资三个月",
    "content": "本人在一家装修公司做水电工，公司拖欠我和工友三个月工资，老板一直不发，请帮忙讨薪。",
    "complainant": {"name": "张先生", "phone": "13812345678"},
    "auto_dispatch": True,
}


async def test_one_create_with_auto_dispatch_takes_at_most_eleven_statements(world: World) -> None:
    with counting() as statements:
        r = await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
    assert r.status_code == 201, r.text
    ticket = r.json()
    # Really dispatched: unit, both clocks and the timeline written in those statements.
    assert ticket["status"] == "dispatched" and ticket["lead_unit"]["code"] == "RSJ"
    assert {c["kind"] for c in ticket["deadlines"]} == {"receipt", "feedback"}
    print(f"create with auto-dispatch: {len(statements)} statements")
    assert len(statements) <= create_budget(), "\n".join(statements)
    # The dispatch's rate row is one INSERT, computed from the events in hand (none read
    # back), and one more adds it to its day in the rollup.
    rate_rows = [s for s in statements if "rate_" in s.split("(")[0]]
    assert len(rate_rows) == 2 and rate_rows[0].startswith("INSERT INTO rate_assignment")
    assert rate_rows[1].startswith("INSERT INTO rate_daily")
    assert not [s for s in statements if s.startswith("SELECT") and "FROM ticket_event" in s]
    # The complainant's text and the units' mail go in one INSERT.
    outbox = [s for s in statements if s.startswith('INSERT INTO "outbox_message"')]
    assert len(outbox) == 1, "\n".join(statements)
    # What was answered is what was stored.
    stored = (
        await world.client.get(f"/api/v1/tickets/{ticket['number']}", headers=world.headers["op"])
    ).json()
    for key in ("status", "lead_unit", "deadlines", "version", "category", "allowed_actions"):
        assert stored.get(key) == ticket.get(key), key


async def test_a_second_create_within_seconds_does_not_read_the_token_again(
    world: World,
) -> None:
    first = await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
    assert first.status_code == 201, first.text
    with counting() as statements:
        r = await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
    assert r.status_code == 201, r.text
    assert not [s for s in statements if "api_token" in s], "\n".join(statements)
    assert len(statements) <= create_budget() - 1, "\n".join(statements)


@pytest.mark.parametrize(
    "action,who,body,status,budget,rate_writes",
    [
        ("sign", "rsj", {}, "handling", RATE_ACTION_BUDGET, 2),
        ("urge", "op", {"reason": "请尽快签收"}, "dispatched", ACTION_BUDGET, 0),
    ],
)
async def test_one_action_takes_a_bounded_number_of_statements(
    world: World, action: str, who: str, body: dict, status: str, budget: int, rate_writes: int
) -> None:
    r = await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
    number = r.json()["number"]
    with counting() as statements:
        out = await world.act(number, action, who, body)
    assert out["status"] == status
    print(f"{action}: {len(statements)} statements")
    assert len(statements) <= budget, "\n".join(statements)
    # Only actions that can change the rates touch the rate rows.
    writes = [s for s in statements if s.startswith("INSERT INTO rate_")]
    assert len(writes) == rate_writes, "\n".join(statements)
