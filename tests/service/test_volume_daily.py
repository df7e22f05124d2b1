"""The daily volume rollup equals the direct count of tickets (property tests, both databases).

Random histories create tickets at instants straddling local midnights and a month end, then
reclassify them (channel, kind, category), move them (district, street), merge and unmerge
them, move their creation time and delete them — every change that moves a ticket between
the volume card's groups. After each history the dashboard's volume card and the trend's
daily counts, read from the rollup the triggers kept, equal the same figures counted from
the tickets themselves; and `rebuild` writes the same rollup again.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.domain.models import Ticket
from hotline.domain.timefmt import SHANGHAI
from hotline.reporting.volumes import VolumeRow, volumes
from hotline.services import volume_daily
from hotline.services.rates import DateRange, UnitGroup, trend_figures, volume_figures

LABELS = {"phone": "电话", "web": "网站", "wechat": "微信"}
START = datetime(2026, 10, 30, 12, tzinfo=UTC)
FIRST_DAY = date(2026, 10, 30)
instants = st.integers(0, 4 * 24 * 60).map(lambda m: START + timedelta(minutes=m))
VALUES: dict[str, Any] = {
    "channel": st.sampled_from(["phone", "web", "wechat"]),
    "kind": st.sampled_from(["投诉", "求助", "咨询"]),
    "category": st.sampled_from([None, "", "城市管理", "交通运输"]),
    "district": st.sampled_from(["", "东城区", "西城区"]),
    "street": st.sampled_from(["", "和平街道", "新街口街道"]),
    "status": st.sampled_from(["new", "dispatched", "merged", "closed"]),
    "created_at": instants,
}
tickets = st.fixed_dictionaries(VALUES)
changes = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 30), st.none(), st.none()),
    *[
        st.tuples(st.just("update"), st.integers(0, 30), st.just(field), values)
        for field, values in VALUES.items()
    ],
)
histories = st.tuples(st.lists(tickets, min_size=1, max_size=12), st.lists(changes, max_size=12))
day_ranges = st.tuples(st.integers(0, 5), st.integers(0, 5)).map(
    lambda ab: (FIRST_DAY + timedelta(days=min(ab)), FIRST_DAY + timedelta(days=max(ab)))
)


async def _apply(history: tuple[list[dict[str, Any]], list[tuple[Any, ...]]]) -> None:
    created, edits = history
    ids = []
    for n, fields in enumerate(created):
        ticket = await Ticket.create(
            number=f"20261030-{n + 1:05d}",
            query_code=f"Q{n:05d}",
            urgency="一般",
            title="路灯不亮",
            content="路灯坏了。",
            updated_at=fields["created_at"],
            **fields,
        )
        ids.append(ticket.id)
    for op, n, field, value in edits:
        ticket_id = ids[n % len(ids)]
        if op == "delete":
            await Ticket.filter(id=ticket_id).delete()
        else:
            await Ticket.filter(id=ticket_id).update(**{field: value})


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


async def _counted(first: date, last: date) -> tuple[dict[str, Any], Counter[date]]:
    """The card and the per-day received counts straight from the tickets."""
    rows = await Ticket.filter(
        created_at__gte=_midnight(first), created_at__lt=_midnight(last + timedelta(days=1))
    ).values_list("channel", "kind", "category", "district", "street", "status", "created_at")
    live = Counter(r[:5] for r in rows if r[5] != "merged")
    per_day = Counter(r[6].astimezone(SHANGHAI).date() for r in rows if r[5] != "merged")
    card = volumes((VolumeRow(*k, n) for k, n in live.items()), channel_labels=LABELS)
    card["merged"] = sum(1 for r in rows if r[5] == "merged")
    return card, per_day


async def _rollup(conn: Any) -> set[tuple[Any, ...]]:
    _, rows = await conn.execute_query(
        "SELECT day, facet, name, street, received, merged FROM volume_daily"
        " WHERE received <> 0 OR merged <> 0"
    )
    return {tuple(str(v) for v in r) for r in rows}


@pytest.mark.backends
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, days=day_ranges)
async def test_the_rollup_equals_the_tickets_counted(db: Any, history: Any, days: Any) -> None:
    conn = db.db()
    await conn.execute_query("DELETE FROM ticket")
    await conn.execute_query("DELETE FROM volume_daily")
    await _apply(history)
    first, last = days
    card, per_day = await _counted(first, last)
    shown = await volume_figures(days=DateRange(first, last), channel_labels=LABELS)
    assert shown == {"from": first.isoformat(), "to": last.isoformat(), **card}
    buckets = []
    day = first
    while day <= last:
        buckets.append((day, day, day.isoformat()))
        day += timedelta(days=1)
    trend = await trend_figures(buckets=buckets, group=UnitGroup())
    assert trend["volume"] == [per_day.get(a, 0) for a, _, _ in buckets]
    kept = await _rollup(conn)
    await volume_daily.rebuild_atomic()
    assert await _rollup(conn) == kept
