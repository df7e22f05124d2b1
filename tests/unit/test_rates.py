"""Routing figures from the event log."""

from __future__ import annotations

from hotline.reporting.rates import EventRow, dispatch_figures


def ev(
    ticket: int, action: str, role: str = "operator", unit: str | None = None, **payload: object
) -> EventRow:
    return EventRow(ticket, action, role, unit, dict(payload))


def test_dispatch_dispute_and_redispatch_shares() -> None:
    events = [
        ev(1, "dispatch", "system", lead_unit="ZJJ"),
        ev(2, "dispatch", "operator", lead_unit="ZJJ"),
        ev(2, "reject", "unit", "ZJJ", reason="不属于本单位"),
        ev(2, "redispatch", "operator", lead_unit="RSJ", previous_unit="ZJJ"),
        ev(3, "dispatch", "system", lead_unit="RSJ"),
        ev(3, "create"),
    ]
    overall, units = dispatch_figures(events)
    assert overall.as_dict() == {
        "dispatched": 4,
        "auto_dispatched": 2,
        "disputed": 1,
        "redispatched_away": 1,
        "auto_dispatch_rate": 0.5,
        "dispute_rate": 0.25,
        "redispatch_rate": 0.25,
    }
    zjj = units["ZJJ"].as_dict()
    assert (zjj["dispatched"], zjj["disputed"], zjj["redispatched_away"]) == (2, 1, 1)
    assert zjj["dispute_rate"] == 0.5 and zjj["auto_dispatch_rate"] == 0.5
    rsj = units["RSJ"].as_dict()
    assert (rsj["dispatched"], rsj["auto_dispatched"], rsj["disputed"]) == (2, 1, 0)


def test_no_dispatches_gives_zero_rates_not_division_errors() -> None:
    overall, units = dispatch_figures([ev(1, "create")])
    assert overall.as_dict()["dispute_rate"] == 0.0 and units == {}
