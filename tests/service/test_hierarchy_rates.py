"""The 协办/下派 figures the database counts equal the definition, link by link, on random links.

`hierarchy_figures` groups a period's links in SQL (one covering index); the definition is
`HierarchyFigures.count_link` over every link of the period. Random links straddle local
midnights, answers land exactly on, just before and just after their due times (with and
without microseconds: SQLite compares the stored text), and deadlines are judged at moments
equal to some of them.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.models import TicketUnit
from hotline.domain.timefmt import SHANGHAI
from hotline.runtime.deployment import Deployment
from hotline.services.hierarchy_rates import HierarchyFigures, hierarchy_figures
from hotline.services.rates import DateRange, UnitGroup
from hotline.services.units import unit_directory
from tests.service.conftest import make_people
from tests.service.test_ticket_clocks import at, make

PERIODS = [
    (date(2026, 11, 1), date(2026, 11, 30)),
    (date(2026, 11, 10), date(2026, 11, 10)),
    (date(2026, 10, 28), date(2026, 12, 3)),
]
GROUPS = [
    UnitGroup(),
    UnitGroup(unit="SJJ"),
    UnitGroup(kind="street"),
    UnitGroup(parent="A7"),
]
UNITS = ["SJJ", "RSJ", "ZJJ", "A7", "XINGSHA", "LANGLI", "HANPU", "HANPU_XTP"]


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


def _random_link(rng: random.Random) -> tuple[str, datetime, datetime | None, datetime | None]:
    day = date(2026, 10, 29) + timedelta(days=rng.randrange(36))
    if rng.random() < 0.15:
        created = _local_midnight(day)  # the first instant belongs to that day
    else:
        created = _local_midnight(day) + timedelta(seconds=rng.randrange(86400))
        if rng.random() < 0.5:
            created += timedelta(microseconds=rng.randrange(1, 10**6))
    due = None
    if rng.random() < 0.8:
        due = created + timedelta(hours=rng.uniform(1, 120))
        if rng.random() < 0.5:
            due = due.replace(microsecond=0)
    answered = None
    r = rng.random()
    if r < 0.6:
        base = due or created + timedelta(hours=10)
        answered = rng.choice(
            [
                base,
                base - timedelta(microseconds=1),
                base + timedelta(microseconds=1),
                base.replace(microsecond=0),
                base + timedelta(hours=rng.uniform(-48, 48)),
            ]
        )
        answered = max(answered, created)
    return rng.choice(["assist", "assist", "sub", "lead"]), created, due, answered


@pytest.mark.backends
async def test_grouped_link_counts_equal_the_definition(db: Any, deployment: Deployment) -> None:
    rng = random.Random(18)
    people = await make_people(deployment, [("op", "operator", None)])
    tickets = [
        await make(deployment, people, at("2026-10-28T09:00"), category="城乡建设")
        for _ in range(3)
    ]
    directory = await unit_directory()
    from hotline.domain.models import Ticket

    ids = [t.id for t in await Ticket.filter(number__in=tickets)]
    links = [_random_link(rng) for _ in range(400)]
    await TicketUnit.bulk_create(
        [
            TicketUnit(
                ticket_id=rng.choice(ids),
                unit_id=directory[rng.choice(UNITS)].id,
                role=role,
                active=True,
                created_at=created,
                due_at=due,
                answered_at=answered,
            )
            for role, created, due, answered in links
        ]
    )
    stored = await TicketUnit.filter(role__in=["assist", "sub"]).values_list(
        "unit_id", "role", "created_at", "due_at", "answered_at"
    )
    dues = sorted(d for *_, d, _ in stored if d is not None)
    nows = [datetime(2026, 12, 31, tzinfo=UTC), dues[len(dues) // 2], dues[len(dues) // 3]]
    by_id = {u.id: u for u in directory.values()}
    checked = overdue = 0
    for (first, last), group, now in itertools.product(PERIODS, GROUPS, nows):
        days = DateRange.of(first, last)
        period = days.period()
        horizon = min(now, period.end)
        selected = group.select(directory.values())
        wanted = None if selected is None else {u.id for u in selected}
        want: dict[int, HierarchyFigures] = {}
        for unit_id, role, created, due, answered in stored:
            if period.start <= created < period.end and (wanted is None or unit_id in wanted):
                want.setdefault(unit_id, HierarchyFigures()).count_link(
                    role, due, answered, horizon
                )
        got = await hierarchy_figures(days=days, group=group, now=now)
        expected = [
            {"unit": by_id[i].code, "name": by_id[i].name, "kind": by_id[i].kind,
             **want[i].as_dict()}
            for i in sorted(want)
        ]  # fmt: skip
        assert got["units"] == expected, (first, last, group, now)
        checked += len(expected)
        overdue += sum(f.opinions_overdue for f in want.values())
    # The random links really exercised every count.
    assert checked > 50 and overdue > 10, (checked, overdue)
