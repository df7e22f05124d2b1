"""Supervisors' figures read from the database: per-unit rates, volumes, overdue work.

The arithmetic is pure (`hotline.reporting.unit_rates`, `hotline.reporting.volumes`); this
module only picks the rows, in a fixed number of queries whatever the number of tickets. The
rates are sums of the per-assignment and per-callback rows the write path keeps (`rate_rows`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hotline.domain.errors import HotlineError
from hotline.domain.models import Ticket, TicketEvent, Unit
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.reporting.assessment import DEFAULT_RULES, AssessmentRules
from hotline.reporting.unit_rates import (
    DATED_ACTIONS,
    RATE_ACTIONS,
    UNIT_KINDS,
    Figures,
    Period,
    RateClock,
    RateEvent,
)
from hotline.reporting.volumes import UNSPECIFIED, card
from hotline.services.rate_daily import daily_figures, local_day, overdue_rows
from hotline.services.rate_rows import (
    placeholders,
    rate_clock_of,
    rate_clock_sql,
    rate_event_of,
    rate_event_sql,
    stored_time,
    sum_rate_rows,
)
from hotline.services.units import unit_directory
from hotline.services.volume_daily import facet_totals, received_per_day

MAX_DAYS = 3 * 366


def _invalid(message: str) -> HotlineError:
    return HotlineError(message, status=422, code="validation_error")


@dataclass(frozen=True)
class DateRange:
    """Local (Asia/Shanghai) days, both included."""

    first: date
    last: date

    @classmethod
    def of(cls, first: date | None, last: date | None) -> DateRange:
        """Both days required, first ≤ last, at most about three years; else 422."""
        if first is None or last is None:
            raise _invalid(f"参数 {'from' if first is None else 'to'} 必填（YYYY-MM-DD）")
        if first > last:
            raise _invalid("参数 from 不能晚于 to")
        if (last - first).days + 1 > MAX_DAYS:
            raise _invalid(f"统计期间不能超过 3 年（{MAX_DAYS} 天）")
        return cls(first, last)

    def period(self) -> Period:
        """[local midnight of first, local midnight after last)."""
        return Period(_midnight(self.first), _midnight(self.last + timedelta(days=1)))


def _midnight(day: date) -> datetime:
    """Local midnight, in UTC: SQLite compares the stored UTC text with the parameter's text,
    so a +08:00 bound would be compared as a string eight hours off."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True)
class UnitGroup:
    """Which units a figure set covers: one unit, a kind, a unit and those under it, or all."""

    unit: str | None = None
    kind: str | None = None
    parent: str | None = None

    def describe(self) -> dict[str, str | None]:
        """The filter as given, for the answer."""
        return {"unit": self.unit, "kind": self.kind, "parent": self.parent}

    def select(self, units: Iterable[Unit]) -> list[Unit] | None:
        """The units in the group, in data-file order; None when no filter is given."""
        units = sorted(units, key=lambda u: u.id)
        if not (self.unit or self.kind or self.parent):
            return None
        codes = {u.code for u in units}
        for name, code in (("unit", self.unit), ("parent", self.parent)):
            if code and code not in codes:
                raise _invalid(f"参数 {name}：未知单位代码「{code}」")
        if self.kind and self.kind not in UNIT_KINDS:
            allowed = "、".join(f"{k}（{v}）" for k, v in UNIT_KINDS.items())
            raise _invalid(f"参数 kind 必须是 {allowed} 之一")
        chosen = units
        if self.unit:
            chosen = [u for u in chosen if u.code == self.unit]
        if self.kind:
            chosen = [u for u in chosen if u.kind == self.kind]
        if self.parent:
            below = _descendants(units, self.parent)
            chosen = [u for u in chosen if u.code in below]
        return chosen


def _descendants(units: list[Unit], root: str) -> set[str]:
    """`root` and every unit below it in the parent tree."""
    children: dict[str, list[str]] = {}
    for u in units:
        children.setdefault(u.parent_code, []).append(u.code)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


async def load_rate_records(period: Period) -> tuple[list[RateEvent], list[RateClock]]:
    """Every rate event and met receipt/feedback clock of the tickets the period touches.

    The input of the pure batch computation (`unit_rates`), which is the definition the
    stored rows (`rate_rows`) are checked against and the benchmark's reference; the
    service itself sums the rows. A ticket is touched when it has a 派单/改派 or 回访 in
    the period; its earlier events give a callback's unit and its later ones complete the
    period's assignments. Two queries; the payload keys are extracted by the database.
    """
    conn = TicketEvent._meta.db
    dialect = conn.capabilities.dialect
    start = stored_time(dialect, period.start)
    end = stored_time(dialect, period.end)
    touching = sorted(DATED_ACTIONS)
    touched = (
        "SELECT ticket_id FROM ticket_event WHERE action IN ("
        + ", ".join("?" * len(touching))
        + ") AND created_at >= ? AND created_at < ?"
    )
    touched_params = [*touching, start, end]
    event_sql = rate_event_sql(dialect, f"ticket_id IN ({touched})")
    clock_sql = rate_clock_sql(f"ticket_id IN ({touched})")
    _, event_rows = await conn.execute_query(
        placeholders(dialect, event_sql), [*touched_params, *sorted(RATE_ACTIONS)]
    )
    _, clock_rows = await conn.execute_query(placeholders(dialect, clock_sql), touched_params)
    return [rate_event_of(r) for r in event_rows], [rate_clock_of(r) for r in clock_rows]


async def rate_figures(
    *,
    days: DateRange,
    group: UnitGroup,
    now: datetime | None = None,
    rules: AssessmentRules | None = None,
) -> dict[str, Any]:
    """签收率 … 满意率 for the period, overall and per unit of the group; deadlines are
    judged at the period's end, or `now` (default: the present) while it runs. Each unit
    lists the rates its sample is too small to rank it on (`insufficient`, 样本不足) by
    the minimums of `rules` (data/assessment.toml)."""
    rules = rules or DEFAULT_RULES
    directory = await unit_directory()
    selected = group.select(directory.values())
    codes = None if selected is None else {u.code for u in selected}
    # Sums of the rows the write path keeps (hotline.services.rate_rows), which are
    # `unit_rates.ticket_rate_rows` of each ticket: the same figures as `unit_rates`.
    per_unit = {
        code: fig
        for code, fig in (
            await sum_rate_rows(days.period(), now=utcnow() if now is None else now)
        ).items()
        if codes is None or code in codes
    }
    overall = Figures()
    for fig in per_unit.values():
        overall.add(fig)
    if selected is None:
        # No filter: every unit with something to show, in data-file order.
        order = {u.code: u.id for u in directory.values()}
        listed = sorted(per_unit, key=lambda c: (order.get(c, 1 << 30), c))
    else:
        listed = [u.code for u in selected]
    return {
        "from": days.first.isoformat(),
        "to": days.last.isoformat(),
        "filter": group.describe(),
        "overall": overall.as_dict(),
        "units": [
            {
                "unit": code,
                "name": directory[code].name if code in directory else code,
                "kind": directory[code].kind if code in directory else None,
                **per_unit.get(code, Figures()).as_dict(),
                "insufficient": rules.insufficient(per_unit.get(code, Figures())),
            }
            for code in listed
        ],
    }


async def trend_figures(
    *,
    buckets: list[tuple[date, date, str]],
    group: UnitGroup,
    now: datetime | None = None,
) -> dict[str, list[Any]]:
    """Per bucket of local days: tickets received, 按时办结率 and 满意率 (in %), as
    `rate_figures` and `volume_figures` give them for that bucket alone.

    Three queries whatever the number of buckets: the rollup's days, the overdue
    unanswered rows, and the tickets received per local day.
    """
    if not buckets:
        return {"labels": [], "volume": [], "on_time": [], "satisfaction": []}
    now = utcnow() if now is None else now
    directory = await unit_directory()
    selected = group.select(directory.values())
    codes = None if selected is None else {u.code for u in selected}
    whole = DateRange(buckets[0][0], buckets[-1][1])
    period = whole.period()
    conn = TicketEvent._meta.db
    index = {}  # local day → bucket number
    for n, (a, b, _) in enumerate(buckets):
        day = a
        while day <= b:
            index[day] = n
            day += timedelta(days=1)
    figures = [Figures() for _ in buckets]
    for (day, unit), fig in (await daily_figures(conn, period)).items():
        if (codes is None or unit in codes) and day in index:
            figures[index[day]].add(fig)
    ends = [DateRange(a, b).period().end for a, b, _ in buckets]
    for which, unit, at, due in await overdue_rows(conn, period, period.cutoff(now)):
        n = index.get(local_day(at))
        if n is not None and (codes is None or unit in codes) and due < min(ends[n], now):
            setattr(figures[n], which, getattr(figures[n], which) + 1)
    received = [0] * len(buckets)
    for day, count in await received_per_day(conn, whole.first, whole.last):
        if day in index:
            received[index[day]] += count
    rates = [f.rates() for f in figures]
    return {
        "labels": [label for _, _, label in buckets],
        "volume": received,
        "on_time": [None if r["on_time_rate"] is None else r["on_time_rate"] * 100 for r in rates],
        "satisfaction": [
            None if r["satisfaction_rate"] is None else r["satisfaction_rate"] * 100 for r in rates
        ],
    }


async def volume_figures(*, days: DateRange, channel_labels: Mapping[str, str]) -> dict[str, Any]:
    """Tickets received in the period (merged repeats left out) by channel (labelled with
    the vocabulary's `channel_labels`), kind, category and place; one grouped read of the
    daily rollup (`hotline.services.volume_daily`), a few hundred rows a month."""
    facets, merged = await facet_totals(Ticket._meta.db, days.first, days.last)
    category = Counter({k or UNSPECIFIED: n for k, n in facets["category"].items()})
    district = Counter({k or UNSPECIFIED: n for k, n in facets["district"].items()})
    return {
        "from": days.first.isoformat(),
        "to": days.last.isoformat(),
        **card(
            total=sum(facets["channel"].values()),
            channel=facets["channel"],
            kind=facets["kind"],
            category=category,
            district=district,
            street=facets["street"],
            channel_labels=channel_labels,
        ),
        "merged": merged,
    }
