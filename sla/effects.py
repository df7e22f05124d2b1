"""Clock effects of ticket actions, declared as data, and the pure plan that applies them.

An action declares what it does to the ticket's clocks (`ClockEffect`s: start, meet,
pause, resume, extend, stop). `plan` turns those declarations, the ticket's open clocks
and its policy into the clocks to write — no I/O, `now` is a parameter — so the service
only loads rows and stores the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sla import clock as clocks
from sla.calendar import WorkCalendar
from sla.clock import Clock, ClockError, ClockKind, ClockState
from sla.limits import DEFAULT_OFFICE_HOURS, Limit, OfficeHours, parse_limit
from sla.policy import Policy


class ClockOp(StrEnum):
    """What an action does to a clock."""

    START = "start"  # start it (retiring the kind's current clock) when the policy has a limit
    MEET = "meet"  # its target happened (签收, 调解结果, 回复)
    PAUSE = "pause"  # 挂起: only where the policy allows it
    RESUME = "resume"
    CHECK_EXTENSION = "check-extension"  # an extension may be asked for: allowed, none used up
    EXTEND = "extend"  # grant the approved extension
    STOP = "stop"  # retire open clocks unmet (并单, 办结: all of them; 退单: the receipt clock)
    CHECK_PAUSE = "check-pause"  # 挂起申请: refused at once where the policy allows no pause
    # Bring the kind's latest clock back open with its own deadline (驳回退单; an answer
    # returned by review): as if it had never been stopped or met.
    RESTORE = "restore"


@dataclass(frozen=True)
class ClockEffect:
    """One effect of an action on the clocks of `kinds` (empty: every open clock).

    `when` = (field, value) applies the effect only when the action's payload has that
    value, e.g. a failed mediation starts the notice clock. `limit_from` names the payload
    field holding a START's limit (督办 with a limit) instead of the policy's.
    """

    op: ClockOp
    kinds: tuple[ClockKind, ...] = ()
    when: tuple[str, str] | None = None
    limit_from: str | None = None

    def applies(self, params: Mapping[str, Any]) -> bool:
        """Whether the payload meets the effect's condition."""
        if self.limit_from is not None and not params.get(self.limit_from):
            return False
        return self.when is None or params.get(self.when[0]) == self.when[1]


def effect(
    op: ClockOp,
    *kinds: ClockKind,
    when: tuple[str, str] | None = None,
    limit_from: str | None = None,
) -> ClockEffect:
    """Shorthand for declarations: `effect(ClockOp.START, ClockKind.RECEIPT)`."""
    return ClockEffect(op, tuple(kinds), when, limit_from)


class PolicyRefusal(ValueError):
    """The ticket's policy does not allow what was asked (e.g. pausing a 2-hour emergency)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class ExtensionsUsedUp(ClockError):
    """Every extension the policy allows has already been granted."""


@dataclass(frozen=True)
class ClockPlan:
    """The clocks an action leaves behind."""

    started: tuple[Clock, ...] = ()  # each retires its kind's current clock
    changed: tuple[Clock, ...] = ()  # open clocks with new values (the kind names the row)
    stopped: frozenset[ClockKind] = frozenset()  # open clocks retired unmet
    stop_all: bool = False
    extension: Limit | None = None  # the extension granted, for the event log
    restored: frozenset[ClockKind] = frozenset()  # started again from their latest clock
    provisional_years: frozenset[int] = field(default_factory=frozenset)

    def open_after(self, open_clocks: Mapping[ClockKind, Clock]) -> dict[ClockKind, Clock]:
        """The open clocks once the plan is applied."""
        if self.stop_all:
            return {}
        result = {k: c for k, c in open_clocks.items() if k not in self.stopped}
        for item in (*self.changed, *self.started):
            result[item.kind] = item
        return {k: c for k, c in result.items() if c.met_at is None}

    def touches(self) -> bool:
        """True when anything must be written."""
        return bool(self.started or self.changed or self.stopped or self.stop_all)


# The centre's clocks that wait on the centre alone, never on the unit holding the ticket.
NOT_NEXT_DUE = frozenset({ClockKind.DECISION, ClockKind.CALLBACK})


def next_due(open_clocks: Mapping[ClockKind, Clock]) -> dt.datetime | None:
    """The earliest deadline among running (not paused) clocks: the ticket's "next due".

    The centre's decision and callback clocks are not: a ticket waiting for the centre's
    approval or its callback is not overdue for the unit (their breach goes to the centre).
    """
    dues = [
        c.due_at
        for c in open_clocks.values()
        if c.state is not ClockState.PAUSED and c.kind not in NOT_NEXT_DUE
    ]
    return min(dues) if dues else None


def extension_limit(policy: Policy, days: int) -> Limit:
    """The extra limit for `days` of extension under `policy` (PolicyRefusal if not allowed)."""
    if not policy.extension_allowed or policy.extension is None:
        raise PolicyRefusal(f"「{policy.name}」类诉求不允许延期", "extension_not_allowed")
    limit = policy.extension
    if limit.unit.value not in ("wd", "d"):
        return limit  # hour-based extensions are granted whole
    if days > limit.amount:
        unit = "个工作日" if limit.unit.value == "wd" else "个自然日"
        raise PolicyRefusal(
            f"「{policy.name}」每次最多延期 {limit.amount} {unit}", "extension_too_long"
        )
    return Limit(days, limit.unit)


def plan(
    effects: Sequence[ClockEffect],
    open_clocks: Mapping[ClockKind, Clock],
    *,
    policy: Policy,
    now: dt.datetime,
    calendar: WorkCalendar,
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
    params: Mapping[str, Any] | None = None,
    latest: Mapping[ClockKind, Clock] | None = None,
) -> ClockPlan:
    """Apply `effects` in order to the open clocks; raise ClockError or PolicyRefusal.

    `params` is the action's payload: `days` of an extension, fields `when` conditions read.
    `latest` is each kind's latest clock, open or not, which RESTORE brings back (a met one
    only when met at or after `answered_at` in `params`).
    """
    latest = latest or {}
    restored: set[ClockKind] = set()
    params = params or {}
    days = params.get("days")
    current = dict(open_clocks)
    started: dict[ClockKind, Clock] = {}
    changed: dict[ClockKind, Clock] = {}
    stopped: set[ClockKind] = set()
    stop_all = False
    extension: Limit | None = None
    applied = [item for item in effects if item.applies(params)]
    for item in applied:
        kinds = item.kinds or tuple(current)
        if item.op is ClockOp.STOP:
            stop_all = stop_all or not item.kinds
            for kind in kinds:
                if kind in open_clocks:
                    stopped.add(kind)
                current.pop(kind, None)
                started.pop(kind, None)
                changed.pop(kind, None)
            continue
        if item.op is ClockOp.RESTORE:
            # A stopped clock comes back; a met one only if the answer being returned met it
            # (`answered_at`), never one met earlier by its own step (调解结果, say).
            since = params.get("answered_at")
            for kind in kinds:
                old = latest.get(kind)
                if old is None or (kind in current and current[kind].met_at is None):
                    continue  # nothing to bring back, or it still runs
                if old.met_at is not None and (
                    since is None or old.met_at < dt.datetime.fromisoformat(since)
                ):
                    continue
                started[kind] = current[kind] = clocks.restore(old, now)
                changed.pop(kind, None)
                restored.add(kind)
            continue
        if item.op is ClockOp.START:
            for kind in kinds:
                limit = (
                    parse_limit(params[item.limit_from])
                    if item.limit_from
                    else policy.limit_for(kind)
                )
                if limit is None:
                    continue
                new = clocks.start(
                    kind, limit, now, policy.warn_ratio, calendar, office_hours=office_hours
                )
                started[kind] = current[kind] = new
                changed.pop(kind, None)
            continue
        if item.op in (ClockOp.PAUSE, ClockOp.CHECK_PAUSE) and not policy.pause_allowed:
            raise PolicyRefusal(f"「{policy.name}」类诉求不允许挂起", "pause_not_allowed")
        if item.op is ClockOp.CHECK_PAUSE:
            continue
        if item.op in (ClockOp.CHECK_EXTENSION, ClockOp.EXTEND):
            extension = extension_limit(policy, days or 1)
        for kind in kinds:
            old = current.get(kind)
            if old is None:
                continue
            new = _change(item.op, old, now, calendar, office_hours, policy, extension)
            if new is old:
                continue
            current[kind] = new
            (started if kind in started else changed)[kind] = new
    years = frozenset(
        y for c in (*started.values(), *changed.values()) for y in c.provisional_years
    )
    return ClockPlan(
        started=tuple(started.values()),
        changed=tuple(changed.values()),
        stopped=frozenset(stopped),
        stop_all=stop_all,
        extension=extension if any(e.op is ClockOp.EXTEND for e in applied) else None,
        restored=frozenset(restored),
        provisional_years=years,
    )


def _change(
    op: ClockOp,
    old: Clock,
    now: dt.datetime,
    calendar: WorkCalendar,
    office_hours: OfficeHours,
    policy: Policy,
    extension: Limit | None,
) -> Clock:
    """One effect on one open clock."""
    if op is ClockOp.MEET:
        return clocks.meet(old, now)
    if op is ClockOp.PAUSE:
        return clocks.pause(old, now)
    if op is ClockOp.RESUME:
        return clocks.resume(old, now, calendar, office_hours=office_hours)
    if op is ClockOp.CHECK_EXTENSION:
        if len(old.extensions) >= policy.max_extensions:
            raise ExtensionsUsedUp(
                f"「{policy.name}」最多延期 {policy.max_extensions} 次，"
                f"本工单已延期 {len(old.extensions)} 次，不能再申请延期"
            )
        return old
    if op is ClockOp.EXTEND:
        assert extension is not None
        return clocks.extend(
            old,
            extension,
            calendar,
            office_hours=office_hours,
            max_extensions=policy.max_extensions,
        )
    raise ValueError(f"unhandled clock op {op}")  # pragma: no cover - enum is exhaustive
