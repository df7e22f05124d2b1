"""The dashboard's quick periods (本月/上月/近7天) and the trend's points (day, week, month)."""

from __future__ import annotations

from hotline.web.pages.supervisor import buckets, percent, preset_days, ranked


def test_periods_and_buckets() -> None:
    from datetime import date

    now = date(2026, 3, 15)
    assert preset_days("month", now) == (date(2026, 3, 1), now)
    assert preset_days("last_month", now) == (date(2026, 2, 1), date(2026, 2, 28))
    assert preset_days("7d", now) == (date(2026, 3, 9), now)
    assert len(buckets(date(2026, 1, 1), date(2026, 1, 31))) == 31
    weeks = buckets(date(2026, 1, 1), date(2026, 6, 30))
    assert weeks[0][:2] == (date(2026, 1, 1), date(2026, 1, 4)) and weeks[-1][1] == date(
        2026, 6, 30
    )
    months = buckets(date(2024, 1, 15), date(2026, 3, 15))
    assert months[0][:2] == (date(2024, 1, 15), date(2024, 1, 31)) and len(months) == 27


def test_percent_and_ranking() -> None:
    assert percent(0.6333) == "63.33%" and percent(1.0) == "100%" and percent(None) == "—"
    units = [
        {"unit": "A", "satisfaction_rate": 0.5, "dispute_rate": 0.1, "callbacks": 2},
        {"unit": "B", "satisfaction_rate": None, "dispute_rate": None, "callbacks": 0},
        {"unit": "C", "satisfaction_rate": 0.9, "dispute_rate": 0.3, "callbacks": 5},
    ]
    assert [u["unit"] for u in ranked(units, "satisfaction_rate")] == ["C", "A", "B"]
    # a lower 退单率 is better
    assert [u["unit"] for u in ranked(units, "dispute_rate")] == ["A", "C", "B"]
