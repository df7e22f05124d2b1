"""The 考核 of a period: the composite score per unit, ranked; a confirmed month locked.

The figures are the audited rates (`rates.rate_figures`' sums, overdue work counted as late)
and the deductions counted from the event log by action name (督办 `supervise`, 驳回退单
`reject-dispute`, 答复退回 `return-reply`), each charged to the unit that held the ticket
then; the arithmetic is `hotline.reporting.assessment`.

A supervisor confirms a month that has ended (`lock_month`): its answer is stored and every
later read of that month returns it unchanged, whatever events or rebuilds come after.
Only an admin reopens it, with a written reason; both acts are logged (`AssessmentLog`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Role
from hotline.domain.models import AssessmentLog, AssessmentMonth, TicketEvent
from hotline.domain.timefmt import SHANGHAI, local_iso, utcnow
from hotline.reporting.assessment import (
    EVENT_DEDUCTIONS,
    AssessmentRules,
    ranked,
    unit_score,
)
from hotline.reporting.unit_rates import Figures
from hotline.services.rate_rows import sum_rate_rows
from hotline.services.rate_sql import placeholders, stored_time
from hotline.services.rates import DateRange, _midnight
from hotline.services.units import unit_directory

LOCKERS = frozenset({Role.SUPERVISOR.value, Role.ADMIN.value})
MIN_REASON = 5


def _invalid(message: str, status: int = 422, code: str = "validation_error") -> HotlineError:
    return HotlineError(message, status=status, code=code)


def month_range(month: str | None) -> DateRange:
    """'2026-11' → its first and last day; 422 in Chinese otherwise."""
    try:
        year, number = (int(p) for p in (month or "").split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise _invalid(f"参数 month 必须是年月，如 2026-11（收到「{month or ''}」）") from None
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return DateRange(first, last)


def _whole_month(days: DateRange) -> str | None:
    """'YYYY-MM' when the range is exactly one calendar month."""
    if days.first.day != 1:
        return None
    month = f"{days.first:%Y-%m}"
    return month if month_range(month) == days else None


async def deduction_counts(days: DateRange) -> dict[str, dict[str, int]]:
    """Per unit, the period's 督办 / 驳回退单 / 答复退回 events, each charged to the unit
    holding the ticket then (its latest assignment row at the event's time); one query."""
    conn = TicketEvent._meta.db
    dialect = conn.capabilities.dialect
    period = days.period()
    holder = (
        "(SELECT ra.unit FROM rate_assignment ra WHERE ra.ticket_id = e.ticket_id "
        "AND ra.dispatched_at <= e.created_at ORDER BY ra.dispatched_at DESC, ra.ordinal DESC "
        "LIMIT 1)"
    )
    sql = (
        f"SELECT {holder} AS holder, e.action, COUNT(*) FROM ticket_event e "
        f"WHERE e.action IN ({', '.join('?' * len(EVENT_DEDUCTIONS))}) "
        "AND e.created_at >= ? AND e.created_at < ? GROUP BY holder, e.action"
    )
    params = [
        *EVENT_DEDUCTIONS,
        stored_time(dialect, period.start),
        stored_time(dialect, period.end),
    ]
    _, rows = await conn.execute_query(placeholders(dialect, sql), params)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for unit, action, count in rows:
        if unit:
            out[unit][action] = out[unit].get(action, 0) + int(count)
    return dict(out)


async def compute_assessment(
    *, days: DateRange, rules: AssessmentRules, now: datetime | None = None
) -> dict[str, Any]:
    """The period's 考核 as it stands (no lock consulted)."""
    now = utcnow() if now is None else now
    directory = await unit_directory()
    figures = await sum_rate_rows(days.period(), now=now)
    deductions = await deduction_counts(days)
    order = {u.code: u.id for u in directory.values()}
    codes = sorted(set(figures) | set(deductions), key=lambda c: (order.get(c, 1 << 30), c))
    scores = [
        unit_score(
            rules,
            unit=code,
            name=directory[code].name if code in directory else code,
            fig=figures.get(code, Figures()),
            events=deductions.get(code, {}),
        )
        for code in codes
    ]
    return {
        "from": days.first.isoformat(),
        "to": days.last.isoformat(),
        "locked": None,
        "rules": {
            "weights": rules.weights,
            "deductions": rules.deductions,
            "min_assignments": rules.min_assignments,
            "min_callbacks": rules.min_callbacks,
        },
        "units": [s.as_dict() for s in ranked(scores)],
    }


async def assessment(
    *, days: DateRange, rules: AssessmentRules, now: datetime | None = None
) -> dict[str, Any]:
    """The period's 考核; a locked month answers its stored figures (with who locked it)."""
    month = _whole_month(days)
    if month is not None:
        stored = await AssessmentMonth.get_or_none(month=month, locked=True)
        if stored is not None:
            return {**stored.figures, "locked": _lock_info(stored)}
    return await compute_assessment(days=days, rules=rules, now=now)


def _lock_info(row: AssessmentMonth) -> dict[str, Any]:
    return {"month": row.month, "locked_at": local_iso(row.locked_at), "locked_by": row.locked_by}


async def lock_month(
    *, month: str | None, principal: Principal, rules: AssessmentRules, now: datetime | None = None
) -> dict[str, Any]:
    """A supervisor confirms an ended month: its figures are stored and stay as they are."""
    if principal.role not in LOCKERS:
        raise _invalid("只有督办人员或管理员可以确认月度考核", status=403, code="forbidden")
    now = utcnow() if now is None else now
    days = month_range(month)
    if now < _midnight(days.last + timedelta(days=1)):
        raise _invalid(
            f"{days.first:%Y年%m月} 尚未结束，不能确认考核；请在下月 1 日之后确认",
            status=409,
            code="month_not_ended",
        )
    figures = await compute_assessment(days=days, rules=rules, now=now)
    key = f"{days.first:%Y-%m}"
    async with in_transaction() as conn:
        row = await AssessmentMonth.select_for_update().using_db(conn).get_or_none(month=key)
        if row is not None and row.locked:
            raise _invalid(
                f"{key} 的考核已于 {local_iso(row.locked_at)} 由 {row.locked_by} 确认，"
                "无需再次确认；如需更正请管理员重新打开",
                status=409,
                code="already_locked",
            )
        values = {
            "figures": figures,
            "locked": True,
            "locked_at": now,
            "locked_by": principal.username,
        }
        try:
            if row is None:
                row = await AssessmentMonth.create(month=key, **values, using_db=conn)
            else:
                await AssessmentMonth.filter(id=row.id).using_db(conn).update(**values)
                row = await AssessmentMonth.get(id=row.id).using_db(conn)
        except IntegrityError:
            raise _invalid(f"{key} 的考核刚刚已被确认", status=409, code="already_locked") from None
        await AssessmentLog.create(
            month=key,
            action="lock",
            actor=principal.username,
            reason="",
            created_at=now,
            using_db=conn,
        )
    return {**figures, "locked": _lock_info(row)}


async def reopen_month(
    *, month: str | None, principal: Principal, reason: str, now: datetime | None = None
) -> dict[str, Any]:
    """An admin reopens a locked month, with a written reason (logged)."""
    if principal.role != Role.ADMIN.value:
        raise _invalid("只有管理员可以重新打开已确认的月度考核", status=403, code="forbidden")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise _invalid(f"请写明重新打开的理由（至少 {MIN_REASON} 个字）")
    now = utcnow() if now is None else now
    key = f"{month_range(month).first:%Y-%m}"
    async with in_transaction() as conn:
        changed = (
            await AssessmentMonth.filter(month=key, locked=True).using_db(conn).update(locked=False)
        )
        if not changed:
            raise _invalid(f"{key} 的考核没有被确认，无需重新打开", status=409, code="not_locked")
        await AssessmentLog.create(
            month=key,
            action="reopen",
            actor=principal.username,
            reason=reason,
            created_at=now,
            using_db=conn,
        )
    return {"month": key, "locked": False, "reason": reason}


async def month_log(month: str | None) -> list[dict[str, Any]]:
    """Every lock and reopen of a month, oldest first."""
    key = f"{month_range(month).first:%Y-%m}"
    rows = await AssessmentLog.filter(month=key).order_by("id")
    return [
        {"action": r.action, "actor": r.actor, "reason": r.reason, "at": local_iso(r.created_at)}
        for r in rows
    ]


def local_month(now: datetime) -> str:
    """The month (Asia/Shanghai) of an instant, 'YYYY-MM'."""
    return f"{now.astimezone(SHANGHAI):%Y-%m}"
