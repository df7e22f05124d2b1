"""The write path stays lean: trips to the database for one create with auto-dispatch, SQL
statements for one action.

Counted from tortoise's own query log (logger `tortoise.db_client`), which records every
statement the driver executes, BEGIN/COMMIT aside, and from `hotline.db_trips`: a new ticket's
rows go to the database in one trip (hotline/services/one_trip.py): on SQLite one hop to the
connection's thread runs all its statements (each still logged), on PostgreSQL one statement
holds them all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.api.conftest import World

# The budget counts each backend's own statements (RETURNING, sequences).
pytestmark = pytest.mark.backends

# A create: the token's look-up and its last-used stamp (a fresh token; within a few seconds
# it is remembered), the number and id taken, the units' mail recipients read, and every row
# written (ticket, events, search row, links carrying the worklist's copy, clocks, rate row and
# its daily rollup, texts and mail) with the commit: five trips.
WRITE_TRIPS = 5
# Every new ticket is screened for a likely repeat first (hotline.services.similar): one read
# gathers the candidates (their ids — same caller or street, each key word's full-text matches
# within the window, as one UNION — are the IN of the read of their rows), and it goes to the
# database with the trip that takes the number: no trip of its own, on either database.
SCREEN_READS = 0


def create_trips() -> int:
    """The trips of a create with auto-dispatch (the same on both databases)."""
    return WRITE_TRIPS + SCREEN_READS


# One of an action's statements rewrites the unit worklist's copy of the ticket on its
# links (hotline.services.worklist).
ACTION_BUDGET = 11
# An action that changes the audited rates also reads the ticket's rate events and stored
# rows back, upserts its rate rows and adds their change to the daily rollup
# (hotline.services.rate_rows): four statements more.
RATE_ACTION_BUDGET = ACTION_BUDGET + 4


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []
        self.trips = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "hotline.db_trips":
            self.trips += 1
            return
        self.statements.append(record.getMessage())
        # A statement sent in a one-trip hop travelled with the hop, counted above.
        if record.module != "one_trip":
            self.trips += 1


@contextmanager
def counting() -> Iterator[list[str]]:
    """The SQL statements run meanwhile."""
    with counting_trips() as count:
        yield count.statements


@contextmanager
def counting_trips() -> Iterator[_Counter]:
    """The statements run meanwhile and the trips to the database they took."""
    handler = _Counter()
    loggers = [logging.getLogger("tortoise.db_client"), logging.getLogger("hotline.db_trips")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


BODY = {
    "kind": "投诉",
    "title": "公司拖欠工资三个月",
    "content": "本人在一家装修公司做水电工，公司拖欠我和工友三个月工资，老板一直不发，请帮忙讨薪。",
    "complainant": {"name": "张先生", "phone": "13812345678"},
    "auto_dispatch": True,
}
# Another caller about another matter: not a likely repeat of BODY (which would be held in
# 疑似重复 instead of dispatched), so the second create takes the ordinary path.
OTHER_BODY = {
    "kind": "投诉",
    "title": "有人拉我参加传销",
    "content": "最近朋友拉我去外地参加一个投资项目，要先交会费再发展下线，我怀疑是传销，请有关部门查处。",
    "complainant": {"name": "王女士", "phone": "13900001111"},
    "auto_dispatch": True,
}


async def test_one_create_with_auto_dispatch_takes_five_trips(world: World) -> None:
    with counting_trips() as count:
        r = await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
    assert r.status_code == 201, r.text
    ticket = r.json()
    statements = count.statements
    # Really dispatched: unit, both clocks and the timeline written in those trips.
    assert ticket["status"] == "dispatched" and ticket["lead_unit"]["code"] == "RSJ"
    assert {c["kind"] for c in ticket["deadlines"]} == {"receipt", "feedback"}
    print(f"create with auto-dispatch: {count.trips} trips, {len(statements)} statements")
    assert count.trips <= create_trips(), "\n".join(statements)
    sent = "\n".join(statements)
    # The dispatch's rate row is one INSERT, computed from the events in hand (none read
    # back), and one more adds it to its day in the rollup; the search row is written too.
    assert sent.count("INSERT INTO rate_assignment") == 1, sent
    assert sent.count("INSERT INTO rate_daily") == 1, sent
    assert "ticket_search" in sent
    assert not [s for s in statements if s.startswith("SELECT") and "FROM ticket_event" in s]
    # The complainant's text and the units' mail go in one INSERT.
    assert sent.count('INSERT INTO "outbox_message"') == 1, sent
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
    with counting_trips() as count:
        r = await world.client.post("/api/v1/tickets", json=OTHER_BODY, headers=world.headers["op"])
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "dispatched", r.text
    assert not [s for s in count.statements if "api_token" in s], "\n".join(count.statements)
    # The token is not read nor stamped again: two trips fewer (this matter goes to other
    # units, whose staff addresses are read once).
    assert count.trips <= create_trips() - 2, "\n".join(count.statements)


async def test_a_held_repeat_is_written_with_its_hold_in_the_same_trip(world: World) -> None:
    """A likely repeat's hold in 疑似重复 is committed with the ticket, not in a trip of its
    own: the screen's read, the number and id, and the rows (the token remembered, no unit's
    mail recipients to read for a ticket that is not dispatched)."""
    from hotline.domain.models import SimilarHold, Ticket

    first = await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
    assert first.status_code == 201, first.text
    with counting_trips() as count:
        r = await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "received", r.text
    held = await Ticket.get(number=r.json()["number"])
    hold = await SimilarHold.get(ticket_id=held.id)
    assert [c["number"] for c in hold.candidates] == [first.json()["number"]]
    assert count.trips <= SCREEN_READS + 2, "\n".join(count.statements)


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
    with counting_trips() as count:
        out = await world.act(number, action, who, body)
    statements = count.statements
    assert out["status"] == status
    print(f"{action}: {len(statements)} statements")
    assert len(statements) <= budget, "\n".join(statements)
    copies = [s for s in statements if "ticket_unit" in s.split("SET")[0] and "UPDATE" in s]
    assert len(copies) == 1, "\n".join(statements)
    # Only actions that can change the rates touch the rate rows.
    writes = [s for s in statements if s.startswith("INSERT INTO rate_")]
    assert len(writes) == rate_writes, "\n".join(statements)
