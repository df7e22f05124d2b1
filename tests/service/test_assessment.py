"""A confirmed month stays as confirmed: a late reply and a rebuild change the month's
computed 考核 but not the locked one, until an admin reopens it (logged, with a reason)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ACTION_BODIES
from hotline.domain.schemas import TicketCreate
from hotline.reporting.assessment import AssessmentRules
from hotline.runtime.deployment import Deployment
from hotline.services.assessment import (
    assessment,
    compute_assessment,
    lock_month,
    month_log,
    reopen_month,
)
from hotline.services.rate_rows import rebuild_rates
from hotline.services.rates import DateRange
from hotline.services.tickets import Actor, create_ticket, perform_action
from tests.service.conftest import make_people

# Deduction counts and the rollup are SQL of each backend's own.
pytestmark = pytest.mark.backends

RULES = AssessmentRules(
    weights={"on_time_rate": 100}, deductions={"overdue": 5.0}, min_assignments=1
)
NOVEMBER = DateRange(date(2026, 11, 1), date(2026, 11, 30))
ACCOUNTS = [("op", "operator", None), ("sup", "supervisor", None), ("adm", "admin", None),
            ("jyj", "unit", "JYJ")]  # fmt: skip


async def act(deployment: Deployment, people: dict, number: str, action: str, who: str,
              at: datetime, **body: Any) -> None:  # fmt: skip
    await perform_action(
        number=number,
        action=action,
        body=ACTION_BODIES[action].model_validate(body),
        principal=people[who],
        now=at,
        deployment=deployment,
    )


async def test_a_locked_month_keeps_its_figures(db: Any, deployment: Deployment) -> None:
    start = datetime(2026, 11, 10, 2, tzinfo=UTC)
    people = await make_people(deployment, ACCOUNTS, now=start - timedelta(days=1))
    data = TicketCreate.model_validate(
        {
            "kind": "投诉",
            "category": "教育文体",
            "title": "学校乱收费",
            "content": "孩子所在学校以资料费名义另行收费，请核查。",
            "complainant": {"name": "王女士", "phone": "13812345678"},
        }
    )
    record = await create_ticket(
        data=data, actor=Actor.of(people["op"]), now=start, deployment=deployment,
        auto_dispatch=False,
    )  # fmt: skip
    number = record.ticket.number
    await act(deployment, people, number, "dispatch", "op", start, lead_unit="JYJ")
    await act(deployment, people, number, "sign", "jyj", start + timedelta(hours=1))

    december = datetime(2026, 12, 2, 2, tzinfo=UTC)
    with pytest.raises(HotlineError, match="尚未结束"):
        await lock_month(month="2026-11", principal=people["sup"], rules=RULES,
                         now=datetime(2026, 11, 30, 10, tzinfo=UTC))  # fmt: skip
    locked = await lock_month(month="2026-11", principal=people["sup"], rules=RULES, now=december)
    (unit,) = locked["units"]
    # November closed with the reply overdue: late (0 of 1 on time) and one overdue item.
    assert unit["parts"]["overdue"]["count"] == 1 and unit["score"] == -5.0

    # A late reply in December: November's computed figures change (no longer overdue) …
    await act(deployment, people, number, "reply", "jyj", december + timedelta(days=1),
              result="solved", text="已责令学校退还费用。")  # fmt: skip
    later = december + timedelta(days=2)
    computed = await compute_assessment(days=NOVEMBER, rules=RULES, now=later)
    assert computed["units"][0]["parts"]["overdue"]["count"] == 0
    assert computed["units"][0]["score"] == 0.0
    # … the locked month does not, nor after a rebuild.
    assert await assessment(days=NOVEMBER, rules=RULES, now=later) == locked
    await rebuild_rates()
    assert await assessment(days=NOVEMBER, rules=RULES, now=later) == locked

    with pytest.raises(HotlineError, match="管理员"):
        await reopen_month(month="2026-11", principal=people["sup"], reason="回访数据有误")
    await reopen_month(
        month="2026-11", principal=people["adm"], reason="回复时间登记有误，需重算", now=later
    )
    assert (await assessment(days=NOVEMBER, rules=RULES, now=later))["units"][0]["score"] == 0.0
    log = await month_log("2026-11")
    assert [(e["action"], e["actor"], e["reason"]) for e in log] == [
        ("lock", "sup", ""),
        ("reopen", "adm", "回复时间登记有误，需重算"),
    ]
