"""考核 figures that cannot be gamed, over HTTP: overdue unanswered work counts as late,
rankings need a sample, the composite score per unit with its parts (JSON, xlsx, CSV), and
a confirmed month that stays as it was confirmed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest

from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.reporting.assessment import AssessmentRules
from hotline.runtime.deployment import Deployment
from hotline.services.rate_rows import rebuild_rates
from tests.api.conftest import World
from tests.api.test_rates_api import REPLY, _deadline_passed, get_rates, today

# Deduction counts and the rollup are SQL of each backend's own.
pytestmark = pytest.mark.backends

# Every rate ranked from one assignment or callback, so the small scenario is scored.
SMALL = AssessmentRules(
    weights={"on_time_rate": 50, "satisfaction_rate": 50},
    deductions={"supervise": 1.0, "overdue": 0.5},
    min_assignments=1,
    min_callbacks=1,
)


@pytest.fixture
def rules(deployment: Deployment) -> Any:
    """The deployment's 考核 rules for one test (restored after)."""
    before = deployment.assessment

    def use(rules: AssessmentRules) -> None:
        deployment.assessment = rules

    yield use
    deployment.assessment = before


async def jyj_december(world: World) -> list[str]:
    """市教育局 (JYJ): 5 dispatches, 2 answered on time, 3 not answered — one of them past
    both its receipt and its feedback deadline, the other two not yet due."""
    numbers = [(await world.create())["number"] for _ in range(5)]
    for n in numbers:
        await world.act(n, "dispatch", "op", {"lead_unit": "JYJ"})
    for n in numbers[:2]:
        await world.act(n, "sign", "jyj")
        await world.act(n, "reply", "jyj", REPLY)
    await _deadline_passed(numbers[2], "receipt")
    await _deadline_passed(numbers[2], "feedback")
    # The due times are stored on the rate rows when they are written: a rebuild reads the
    # moved clocks (time itself passing needs no rewrite: the cut-off is the query's).
    await rebuild_rates()
    return numbers


async def test_unanswered_overdue_work_is_late_not_left_out(world: World) -> None:
    await jyj_december(world)
    body = (await get_rates(world, unit="JYJ")).json()
    jyj = body["units"][0]
    assert (jyj["replied"], jyj["replied_on_time"], jyj["overdue_unreplied"]) == (2, 2, 1)
    assert (jyj["signed"], jyj["overdue_unsigned"]) == (2, 1)
    # Was 100% (2 of 2 replies on time); the overdue one counts as late: 2 of 3.
    assert jyj["on_time_rate"] == 0.6667
    assert jyj["sign_on_time_rate"] == 0.6667
    # The same numbers in the Excel file.
    wb = openpyxl.load_workbook(
        io.BytesIO((await get_rates(world, unit="JYJ", format="xlsx")).content)
    )
    header = [c.value for c in wb["各单位"][1]]
    row = [c.value for c in wb["各单位"][3]]
    assert row[header.index("超时未回复数")] == 1 and row[header.index("超时未签收数")] == 1
    assert row[header.index("按时办结率")] == 0.6667
    notes = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True)}
    assert "超时未回复数" in notes["按时办结率"]


async def test_a_small_sample_is_not_ranked(world: World, rules: Any) -> None:
    await jyj_december(world)
    rules(AssessmentRules(weights={"on_time_rate": 100}, deductions={}, min_assignments=6))
    jyj = (await get_rates(world, unit="JYJ")).json()["units"][0]
    assert "on_time_rate" in jyj["insufficient"] and "satisfaction_rate" in jyj["insufficient"]
    body = (
        await world.client.get(
            "/api/v1/stats/assessment",
            params={"from": today(), "to": today()},
            headers=world.headers["sup"],
        )
    ).json()
    (unit,) = body["units"]
    assert unit["unit"] == "JYJ" and unit["score"] is None and unit["rank"] is None
    assert unit["parts"]["on_time_rate"]["insufficient"] is True
    rules(AssessmentRules(weights={"on_time_rate": 100}, deductions={}, min_assignments=5))
    jyj = (await get_rates(world, unit="JYJ")).json()["units"][0]
    assert "on_time_rate" not in jyj["insufficient"]


async def test_the_score_has_every_part_and_a_rank(world: World, rules: Any) -> None:
    rules(SMALL)
    numbers = await jyj_december(world)
    await world.act(numbers[3], "supervise", "sup", {"reason": "请尽快办理并回复市民"})
    zjj = (await world.create())["number"]
    await world.act(zjj, "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(zjj, "sign", "zjj")
    await world.act(zjj, "reply", "zjj", REPLY)
    await world.act(
        zjj, "callback", "op", {"contacted": True, "satisfaction": "满意", "solved": True}
    )
    await world.act(numbers[0], "callback", "op", {"contacted": True, "satisfaction": "不满意"})
    params = {"from": today(), "to": today()}
    r = await world.client.get(
        "/api/v1/stats/assessment", params=params, headers=world.headers["sup"]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"]) == (today(), today())
    units = {u["unit"]: u for u in body["units"]}
    assert [u["unit"] for u in body["units"]] == ["ZJJ", "JYJ"]
    assert units["ZJJ"]["rank"] == 1 and units["ZJJ"]["score"] == 100.0
    jyj = units["JYJ"]
    # 50 × 2/3 (on time) + 50 × 0 (不满意) − 1 (督办) − 0.5 × 2 (overdue unsigned + unreplied)
    assert jyj["parts"]["on_time_rate"]["points"] == 33.33
    assert jyj["parts"]["satisfaction_rate"]["points"] == 0.0
    assert jyj["parts"]["supervise"] == {"count": 1, "per": 1.0, "points": -1.0}
    assert jyj["parts"]["overdue"] == {"count": 2, "per": 0.5, "points": -1.0}
    assert jyj["score"] == 31.33 and jyj["rank"] == 2
    # The same figures in the Excel file, with 名次 and every part.
    r = await world.client.get(
        "/api/v1/stats/assessment",
        params={**params, "format": "xlsx"},
        headers=world.headers["sup"],
    )
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content))["考核"]
    table = list(sheet.iter_rows(min_row=2, values_only=True))
    header = list(table[0])
    assert header[:4] == ["名次", "单位代码", "单位名称", "得分"]
    assert "被督办扣分" in header and "按时办结率得分" in header
    jyj_row = dict(zip(header, table[2], strict=True))
    assert jyj_row["名次"] == 2 and jyj_row["得分"] == 31.33 and jyj_row["被督办次数"] == 1
    assert jyj_row["超时未签收/未回复扣分"] == -1.0
    text = (
        await world.client.get(
            "/api/v1/stats/assessment",
            params={**params, "format": "csv"},
            headers=world.headers["sup"],
        )
    ).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["名次", "单位代码", "单位名称", "得分"] and rows[1][:2] == ["1", "ZJJ"]
    # Units read their own work, not the ranking.
    denied = await world.client.get(
        "/api/v1/stats/assessment", params=params, headers=world.headers["jyj"]
    )
    assert denied.status_code == 403 and "不能查看" in denied.json()["error"]["message"]


async def test_lock_and_reopen_a_month(world: World) -> None:
    now = utcnow().astimezone(SHANGHAI)
    last_month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    this_month = now.strftime("%Y-%m")
    url = "/api/v1/stats/assessment"

    async def post(path: str, who: str, month: str, body: Any = None) -> Any:
        return await world.client.post(
            f"{url}/{path}", params={"month": month}, json=body, headers=world.headers[who]
        )

    r = await post("lock", "sup", this_month)
    assert r.status_code == 409 and "尚未结束" in r.json()["error"]["message"]
    r = await post("lock", "jyj", last_month)
    assert r.status_code == 403
    r = await post("lock", "sup", "2026-13")
    assert r.status_code == 422 and "年月" in r.json()["error"]["message"]
    r = await post("lock", "sup", last_month)
    assert r.status_code == 200, r.text
    assert r.json()["locked"]["locked_by"] == "sup"
    again = await post("lock", "sup", last_month)
    assert again.status_code == 409 and "已于" in again.json()["error"]["message"]
    first = (now.replace(day=1) - timedelta(days=1)).replace(day=1).date()
    last = (now.replace(day=1) - timedelta(days=1)).date()
    shown = (
        await world.client.get(
            url,
            params={"from": first.isoformat(), "to": last.isoformat()},
            headers=world.headers["sup"],
        )
    ).json()
    assert shown["locked"]["month"] == last_month
    # Reopening is an admin's act, with a reason.
    assert (
        await post("reopen", "sup", last_month, {"reason": "回访数据有误需要更正"})
    ).status_code == 403
    r = await post("reopen", "adm", last_month, {"reason": "错"})
    assert r.status_code == 422 and "理由" in r.json()["error"]["message"]
    r = await post("reopen", "adm", last_month, {"reason": "回访数据有误需要更正"})
    assert r.status_code == 200 and r.json()["locked"] is False
    assert (
        await post("reopen", "adm", last_month, {"reason": "回访数据有误需要更正"})
    ).status_code == 409
