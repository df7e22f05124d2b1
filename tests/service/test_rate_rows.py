"""The stored rate rows against the definition, on a random history made by the real services.

A seeded generator drives the ticket service through hundreds of actions (every action
of the table, by the roles allowed, refused ones included), with time jumping across
local month boundaries so assignments and callbacks straddle periods, clocks fall due
and signs and replies come late. Then:

* every row the write path stored equals the pure rows of the whole event log
  (`unit_rates.all_rate_rows`, the function the batch computation counts);
* `rate_figures` (sums of the rows) equals the pure batch figures (`unit_rates` over
  `load_rate_records`) for several periods and unit groups;
* `rebuild_rates` writes the same rows again.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.errors import HotlineError
from hotline.domain.hierarchy import Party
from hotline.domain.lifecycle import (
    ACTION_BODIES,
    ACTIONS,
    OPEN_STATUSES,
    TRANSITIONS,
    Action,
    Role,
    Status,
)
from hotline.domain.models import RateAssignment, RateCallback, RateDaily, Ticket
from hotline.domain.schemas import RatingIn, TicketCreate
from hotline.domain.timefmt import SHANGHAI
from hotline.reporting.unit_rates import COUNT_FIELDS, Figures, all_rate_rows, unit_rates
from hotline.runtime.deployment import Deployment
from hotline.services import rating
from hotline.services.rate_daily import DAILY_COUNTS, day_sums
from hotline.services.rate_rows import rates_need_rebuild, rebuild_rates
from hotline.services.rates import (
    DateRange,
    UnitGroup,
    load_rate_records,
    rate_figures,
    trend_figures,
    volume_figures,
)
from hotline.services.tickets import TICKET_RELATIONS, Actor, create_ticket, perform_action
from hotline.services.units import unit_directory
from hotline.web.pages.supervisor import buckets
from tests.service.conftest import make_people

UNITS = ["ZJJ", "RSJ", "JYJ", "A7", "XINGSHA", "LANGLI"]
ACCOUNTS = [
    ("op", "operator", None),
    ("sup", "supervisor", None),
    *((f"u_{code.lower()}", "unit", code) for code in UNITS),
]
# 25 October (Shanghai); 500 steps run into early December.
START = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
TEXTS = [
    ("投诉", "小区物业不作为", "小区物业公司收费后不履行职责，电梯经常坏，垃圾堆放多日无人清理。"),
    ("求助", "路灯不亮", "我家门口的路灯已经坏了一个多星期，晚上出行很不安全，请尽快维修。"),
    ("投诉", "公司拖欠工资三个月", "公司拖欠我和工友三个月工资，老板一直不发，请帮忙讨薪。"),
]


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


class History:
    """A moving clock, people, and one random step at a time."""

    def __init__(self, deployment: Deployment, people: dict[str, Any], rng: random.Random):
        self.deployment = deployment
        self.people = people
        self.rng = rng
        self.now = START
        self.tickets: list[str] = []
        self.done: dict[str, int] = {}
        self.refused = 0

    def tick(self) -> datetime:
        r = self.rng.random()
        if r < 0.05:
            # Exactly a local midnight: the first instant of a day belongs to that day.
            day = (self.now.astimezone(SHANGHAI) + timedelta(days=1)).date()
            self.now = _local_midnight(day)
        elif r < 0.13:
            self.now += timedelta(hours=self.rng.uniform(6, 30))
        else:
            self.now += timedelta(minutes=self.rng.uniform(1, 120))
        return self.now

    async def create(self) -> None:
        kind, title, content = self.rng.choice(TEXTS)
        data = TicketCreate.model_validate(
            {
                "kind": kind,
                "title": title,
                "content": content,
                "complainant": {"name": "张先生", "phone": "13812345678"},
            }
        )
        record = await create_ticket(
            data=data,
            actor=Actor.of(self.people["op"]),
            now=self.tick(),
            deployment=self.deployment,
            auto_dispatch=self.rng.random() < 0.5,
        )
        self.tickets.append(record.ticket.number)

    def body(self, action: Action, ticket: Ticket, lead: str | None) -> dict[str, Any]:
        rng = self.rng
        others = [u for u in UNITS if u != lead]
        match action:
            case Action.DISPATCH:
                return {"lead_unit": rng.choice(UNITS)}
            case Action.REDISPATCH:
                return {"lead_unit": rng.choice(others)}
            case Action.REQUEST_EXTENSION:
                return {"reason": "需要协调", "days": rng.randint(1, 3)}
            case Action.MEDIATE:
                return {"outcome": rng.choice(["agreed", "failed"]), "text": "调解情况"}
            case Action.CALLBACK:
                contacted = rng.random() < 0.85
                return {
                    "contacted": contacted,
                    "satisfaction": rng.choice(["满意", "基本满意", "不满意", None])
                    if contacted
                    else None,
                    "solved": rng.choice([True, False, None]) if contacted else None,
                }
            case Action.MERGE:
                into = [n for n in self.tickets if n != ticket.number]
                return {"into": rng.choice(into) if into else ticket.number}
            case Action.ANSWER:
                return {"text": "已在电话中答复"}
        from tests.bodies import VALID_BODIES

        return dict(VALID_BODIES[action.value])

    async def act(self) -> None:
        # Mostly open tickets; now and then a closed one (a supervisor may reopen it).
        wanted = [s.value for s in OPEN_STATUSES]
        if self.rng.random() < 0.05:
            wanted = [Status.CLOSED.value]
        numbers = await Ticket.filter(status__in=wanted).values_list("number", flat=True)
        if not numbers:
            return
        number = self.rng.choice(sorted(numbers))
        ticket = await Ticket.get(number=number)
        status = Status(ticket.status)
        moves = [(a, m) for (s, a), m in TRANSITIONS.items() if s is status]
        # Keep tickets moving forward: side-steps and merges are rarer.
        rare = (Action.URGE, Action.SUPERVISE, Action.ANSWER, Action.MERGE)
        # 协办意见, 下派 and a citizen's 补充说明 leave the responsible unit's rate rows alone:
        # not drawn here.
        apart = {a for a in Action if ACTIONS[a].party is not Party.LEAD or ACTIONS[a].sub_from}
        apart.add(Action.SUPPLEMENT)
        weights = [0.0 if a in apart else 0.2 if a in rare else 1.0 for a, _ in moves]
        if not moves or not any(weights):
            return
        action, move = self.rng.choices(moves, weights)[0]
        # A citizen's own steps other than the rating (催一催, 补充说明) count for no rate.
        roles = [
            r
            for r in move.roles
            if r not in (Role.SYSTEM, Role.ADMIN)
            and (r is not Role.CITIZEN or action is Action.CALLBACK)
        ]
        if not roles:
            return
        role = self.rng.choice(roles)
        if role is Role.CITIZEN:
            await self.rate(number)
            return
        directory = await unit_directory()
        lead = next((u.code for u in directory.values() if u.id == ticket.lead_unit_id), None)
        who = {Role.OPERATOR: "op", Role.SUPERVISOR: "sup"}.get(role)
        if role is Role.UNIT:
            if lead not in UNITS:
                return
            who = f"u_{lead.lower()}"
        assert who is not None
        body = self.body(action, ticket, lead)
        try:
            await perform_action(
                number=number,
                action=action.value,
                body=ACTION_BODIES[action.value].model_validate(body),
                principal=self.people[who],
                now=self.tick(),
                deployment=self.deployment,
            )
        except HotlineError:
            self.refused += 1  # refused (e.g. no mediation clock): nothing written
            return
        self.done[action.value] = self.done.get(action.value, 0) + 1

    async def rate(self, number: str) -> None:
        """The complainant's rating on the tracking page: a callback by the citizen."""
        ticket = await Ticket.get(number=number).prefetch_related(*TICKET_RELATIONS)
        answers = RatingIn(
            code=ticket.query_code,
            satisfaction=self.rng.choice(["满意", "基本满意", "不满意"]),
            solved=self.rng.random() < 0.5,
        )
        await rating.rate(
            ticket=ticket, rating=answers, now=self.tick(), deployment=self.deployment
        )
        self.done["citizen-rating"] = self.done.get("citizen-rating", 0) + 1


async def make_history(deployment: Deployment, seed: int, steps: int) -> History:
    people = await make_people(deployment, ACCOUNTS, now=START - timedelta(days=1))
    history = History(deployment, people, random.Random(seed))
    for _ in range(steps):
        if not history.tickets or history.rng.random() < 0.12:
            await history.create()
        else:
            await history.act()
    return history


async def stored_rows() -> tuple[list[tuple], list[tuple]]:
    a = await RateAssignment.all().order_by("ticket_id", "ordinal").values_list(
        "ticket_id", "ordinal", "unit", "dispatched_at", "merged",
        "dispatched", "signed", "signed_on_time", "disputed", "extended",
        "replied", "replied_on_time", "unsigned_due_at", "unreplied_due_at",
    )  # fmt: skip
    c = await RateCallback.all().order_by("ticket_id", "ordinal").values_list(
        "ticket_id", "ordinal", "unit", "called_at", "satisfaction",
        "contacted", "solved", "satisfied", "basically_satisfied", "unsatisfied", "reopened",
    )  # fmt: skip
    return [tuple(r) for r in a], [tuple(r) for r in c]


async def pure_rows() -> tuple[list[tuple], list[tuple]]:
    """The rows of the whole log by the pure function (a period covering everything)."""
    events, clocks = await load_rate_records(
        DateRange.of(date(2026, 1, 1), date(2027, 12, 31)).period()
    )
    assignments, callbacks = all_rate_rows(events, clocks)
    a = [
        (
            x.ticket_id,
            x.ordinal,
            x.unit,
            x.at,
            x.merged,
            *x.counts().values(),
            x.unsigned_due_at,
            x.unreplied_due_at,
        )  # fmt: skip
        for x in sorted(assignments, key=lambda x: (x.ticket_id, x.ordinal))
    ]
    c = [
        (x.ticket_id, x.ordinal, x.unit, x.at, x.satisfaction, *list(x.counts().values())[1:])
        for x in sorted(callbacks, key=lambda x: (x.ticket_id, x.ordinal))
    ]
    return a, c


async def stored_days() -> dict[tuple[date, str], list[int]]:
    """The rollup table as (day, unit) → counts."""
    rows = await RateDaily.all().values_list("day", "unit", *DAILY_COUNTS)
    return {(r[0], r[1]): list(r[2:]) for r in rows}


async def pure_days() -> dict[tuple[date, str], list[int]]:
    """The pure rows of the whole log summed per local day and unit."""
    events, clocks = await load_rate_records(
        DateRange.of(date(2026, 1, 1), date(2027, 12, 31)).period()
    )
    assignments, callbacks = all_rate_rows(events, clocks)
    return day_sums([*assignments, *callbacks])


# Deadlines judged at the end of the history (None) and at moments inside it.
NOWS = [None, datetime(2026, 11, 3, 2, tzinfo=UTC), datetime(2026, 11, 20, 9, 30, tzinfo=UTC)]
PERIODS = [
    (date(2026, 10, 1), date(2026, 10, 31)),
    (date(2026, 11, 1), date(2026, 11, 30)),
    (date(2026, 12, 1), date(2026, 12, 31)),
    (date(2026, 10, 30), date(2026, 11, 2)),  # across a month boundary
    (date(2026, 11, 15), date(2026, 11, 15)),  # one day
    (date(2026, 1, 1), date(2027, 12, 31)),  # everything
]
GROUPS = [
    UnitGroup(),
    UnitGroup(unit="RSJ"),
    UnitGroup(kind="department"),
    UnitGroup(kind="street"),
    UnitGroup(parent="A7"),
]


async def expected_figures(
    days: DateRange, group: UnitGroup, now: datetime | None = None
) -> dict[str, Any]:
    """What rate_figures answered before the rows existed: the pure batch computation."""
    directory = await unit_directory()
    selected = group.select(directory.values())
    codes = None if selected is None else {u.code for u in selected}
    events, clocks = await load_rate_records(days.period())
    overall, per_unit = unit_rates(
        events,
        clocks,
        days.period(),
        include=None if codes is None else codes.__contains__,
        now=now,
    )
    if selected is None:
        order = {u.code: u.id for u in directory.values()}
        listed = sorted(per_unit, key=lambda c: (order.get(c, 1 << 30), c))
    else:
        listed = [u.code for u in selected]
    return {
        "overall": overall.as_dict(),
        "units": [(code, per_unit.get(code, Figures()).as_dict()) for code in listed],
    }


@pytest.mark.parametrize("seed", [7, 2026])
async def test_stored_rows_and_figures_equal_the_pure_batch(
    db: Any, deployment: Deployment, seed: int
) -> None:
    history = await make_history(deployment, seed, steps=500)
    # The history really exercised the rules the rows encode.
    for action in Action:
        if ACTIONS[action].affects_rates:
            assert history.done.get(action.value, 0) > 0, (action, history.done)
    assert history.done.get("citizen-rating", 0) > 0, history.done

    stored, pure = await stored_rows(), await pure_rows()
    print(
        history.done,
        history.refused,
        len(history.tickets),
        len(stored[0]),
        len(stored[1]),
        history.now,
    )
    assert stored[0] == pure[0]
    assert stored[1] == pure[1]
    assert len(stored[0]) > 40 and len(stored[1]) > 5, history.done

    # The daily rollup is the pure rows summed per local day and unit.
    assert await stored_days() == await pure_days()

    interesting = late = 0
    for (first, last), group, now in itertools.product(PERIODS, GROUPS, NOWS):
        days = DateRange.of(first, last)
        now = now or history.now
        got = await rate_figures(days=days, group=group, now=now)
        want = await expected_figures(days, group, now)
        assert got["overall"] == want["overall"], (first, last, group, now)
        overall = got["overall"]
        late += overall["overdue_unreplied"] > 0 and overall["overdue_unsigned"] > 0
        units = [
            (u["unit"], {k: u[k] for k in u if k not in ("unit", "name", "kind", "insufficient")})
            for u in got["units"]
        ]
        assert units == want["units"], (first, last, group)
        interesting += got["overall"]["dispatched"] > 0 and got["overall"]["callbacks"] > 0
    assert interesting >= 10 and late >= 5, (interesting, late)

    # The trend (three queries) is, bucket by bucket, what the figures of each bucket say.
    for first, last in (
        (date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 10, 1), date(2026, 12, 31)),
    ):
        for group, now in itertools.product(GROUPS[:3], NOWS):
            now = now or history.now
            bucket_list = buckets(first, last)
            trend = await trend_figures(buckets=bucket_list, group=group, now=now)
            for n, (a, b, _) in enumerate(bucket_list):
                part = DateRange.of(a, b)
                want = (await expected_figures(part, group, now))["overall"]
                volume = await volume_figures(days=part, channel_labels={})
                assert trend["volume"][n] == volume["total"], (a, b)
                for key, rate in (
                    ("on_time", "on_time_rate"),
                    ("satisfaction", "satisfaction_rate"),
                ):
                    expected = None if want[rate] is None else want[rate] * 100
                    assert trend[key][n] == expected, (a, b, group, now, key)

    # The rebuild recomputes the same rows from the log.
    await RateAssignment.all().update(signed=0, unit="XXX")
    await RateCallback.all().delete()
    assert await rebuild_rates(batch=7) == (len(pure[0]), len(pure[1]))
    assert await stored_rows() == pure
    assert await stored_days() == await pure_days()
    assert not await rates_need_rebuild()


async def test_a_late_sign_counts_as_signed_but_not_on_time(
    db: Any, deployment: Deployment
) -> None:
    """The write path reads the clock the sign met: a supervisor sees it late at once."""
    from hotline.domain.models import TicketClock

    people = await make_people(deployment, ACCOUNTS, now=START)
    history = History(deployment, people, random.Random(1))
    await history.create()
    number = history.tickets[0]
    ticket = await Ticket.get(number=number)
    if ticket.status == "received":
        await perform_action(
            number=number,
            action="dispatch",
            body=ACTION_BODIES["dispatch"].model_validate({"lead_unit": "ZJJ"}),
            principal=people["op"],
            now=START + timedelta(minutes=5),
            deployment=deployment,
        )
    ticket = await Ticket.get(number=number).prefetch_related("lead_unit")
    receipt = await TicketClock.get(ticket_id=ticket.id, kind="receipt", current=True)
    assert receipt.due_at is not None
    await perform_action(
        number=number,
        action="sign",
        body=ACTION_BODIES["sign"].model_validate({}),
        principal=people[f"u_{ticket.lead_unit.code.lower()}"],
        now=receipt.due_at + timedelta(seconds=1),
        deployment=deployment,
    )
    row = await RateAssignment.get(ticket_id=ticket.id)
    assert (row.dispatched, row.signed, row.signed_on_time) == (1, 1, 0)
    day = ticket.created_at.astimezone(SHANGHAI).date()
    figures = await rate_figures(days=DateRange.of(day, day), group=UnitGroup())
    assert figures["overall"]["signed"] == 1 and figures["overall"]["sign_on_time_rate"] == 0.0
    assert [k for k in figures["overall"] if k in COUNT_FIELDS] == list(COUNT_FIELDS)
