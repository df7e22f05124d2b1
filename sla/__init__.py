"""SLA deadlines for 12345 tickets: a pure core (no I/O, `now` is always a parameter).

- `sla.calendar` — working days from the State Council schedule (make-up days included),
  `load_calendar(data_dir)`; unknown years fall back to Monday–Friday, marked provisional.
- `sla.limits` — `parse_limit("3wd")`, `compute_due(start, limit, calendar, office_hours)`.
- `sla.clock` — immutable clocks: `start`, `pause`, `resume`, `extend`, `meet`, `status_at`.
- `sla.policy` — `load_policies(path)`, `match_policy(policies, kind=…, category=…, urgency=…)`.
- `python -m sla due|calendar` — the command line (`sla.cli`).
"""
