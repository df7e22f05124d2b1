"""The daily rollup is the rows summed per unit and local day (property tests).

For random assignment and callback rows straddling local midnights and month ends, any
period of whole local days summed from the rollup (plus the overdue counts, which are not
rolled up) equals the pure definition `unit_rates.count_rows`; and the change the write
path adds when a ticket's rows move from `old` to `new` turns the rollup of `old` into the
rollup of `new`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.timefmt import SHANGHAI
from hotline.reporting.unit_rates import Assignment, Callback, Figures, Period, count_rows
from hotline.services.rate_daily import DAILY_COUNTS, add_days, day_sums, days_change, local_day

START = datetime(2026, 10, 28, tzinfo=UTC)
UNITS = ["ZJJ", "RSJ", "A7"]
instants = st.integers(min_value=0, max_value=12 * 24 * 60).map(
    lambda m: START + timedelta(minutes=m)
)
maybe_due = st.one_of(st.none(), instants)
assignments = st.builds(
    Assignment,
    ticket_id=st.integers(1, 50),
    ordinal=st.integers(1, 3),
    unit=st.sampled_from(UNITS),
    at=instants,
    signed=st.booleans(),
    signed_on_time=st.booleans(),
    disputed=st.booleans(),
    extended=st.booleans(),
    replied=st.booleans(),
    replied_on_time=st.booleans(),
    merged=st.booleans(),
    unsigned_due_at=maybe_due,
    unreplied_due_at=maybe_due,
)
callbacks = st.builds(
    Callback,
    ticket_id=st.integers(1, 50),
    ordinal=st.integers(1, 3),
    unit=st.sampled_from(UNITS),
    at=instants,
    contacted=st.booleans(),
    solved=st.booleans(),
    satisfaction=st.sampled_from([None, "满意", "基本满意", "不满意"]),
    reopened=st.booleans(),
)
local_days = st.integers(0, 12).map(lambda n: date(2026, 10, 28) + timedelta(days=n))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(assignments, max_size=40),
    st.lists(callbacks, max_size=40),
    local_days,
    st.integers(0, 6),
    st.one_of(st.none(), instants),
)
def test_a_period_from_the_rollup_equals_the_rows_counted(
    a: list[Assignment], c: list[Callback], first: date, length: int, now: datetime | None
) -> None:
    last = first + timedelta(days=length)
    period = Period(_midnight(first), _midnight(last + timedelta(days=1)))
    _, want = count_rows(a, c, period, now=now)

    rollup = day_sums([*a, *c])
    got: dict[str, Figures] = {}
    for (day, unit), counts in rollup.items():
        if first <= day <= last:
            fig = got.setdefault(unit, Figures())
            fig.add(Figures(**dict(zip(DAILY_COUNTS, counts, strict=True))))
    cutoff = period.cutoff(now)
    for row in a:  # the overdue counts, as the service reads them from the rows
        if row.at in period:
            fig = got.setdefault(row.unit, Figures())
            for name, n in row.overdue(cutoff).items():
                setattr(fig, name, getattr(fig, name) + n)
    assert got == want
    # Every key is the local day of a row.
    assert all(any(local_day(r.at) == d for r in (*a, *c)) for d, _ in rollup)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(assignments, callbacks), max_size=30),
    st.lists(st.one_of(assignments, callbacks), max_size=30),
    st.lists(st.one_of(assignments, callbacks), max_size=30),
)
def test_the_change_turns_the_old_rollup_into_the_new(others: list, old: list, new: list) -> None:
    rollup = day_sums([*others, *old])
    add_days(rollup, days_change(day_sums(old), day_sums(new)))
    want = day_sums([*others, *new])
    for key, counts in want.items():
        assert rollup[key] == counts
    # A key whose rows went away stays, adding nothing (rows are never deleted in fact).
    assert all(not any(v) for k, v in rollup.items() if k not in want)
