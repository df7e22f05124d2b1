"""Per-unit rates over HTTP: the figures of real actions, groups, the xlsx and CSV files
(every number as in the JSON), volumes, overdue work, roles and Chinese errors."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import openpyxl

from hotline.domain.models import Ticket, TicketClock
from hotline.domain.timefmt import SHANGHAI, utcnow
from tests.api.conftest import World

REPLY = {"result": "solved", "text": "已安排人员现场处理完毕。"}
COUNTS = [
    "dispatched",
    "signed",
    "signed_on_time",
    "disputed",
    "extended",
    "replied",
    "replied_on_time",
    "callbacks",
    "contacted",
    "solved",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "reopened",
    "overdue_unsigned",
    "overdue_unreplied",
]
RATES = [
    "sign_rate",
    "sign_on_time_rate",
    "dispute_rate",
    "reply_rate",
    "on_time_rate",
    "extension_rate",
    "reopen_rate",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
]


def today() -> str:
    return utcnow().astimezone(SHANGHAI).date().isoformat()


async def _ticket_id(number: str) -> int:
    return (await Ticket.get(number=number)).id


async def _deadline_passed(number: str, kind: str, ago: timedelta = timedelta(hours=1)) -> None:
    """The running clock of `kind` fell due `ago` (as if the unit had waited)."""
    await TicketClock.filter(
        ticket_id=await _ticket_id(number), kind=kind, current=True, is_open=True
    ).update(due_at=utcnow() - ago)


async def scenario(world: World) -> None:
    """ZJJ: 3 dispatches (one late sign, one 退单, one extension), 2 callbacks;
    RSJ: the 改派, signed, replied late, not reached at callback, 重办; JYJ: 1 dispatch."""
    t1, t2, t3, t4 = [(await world.create())["number"] for _ in range(4)]
    # T1 ZJJ: sign, extension approved, reply on time, callback 满意 solved.
    await world.act(t1, "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(t1, "sign", "zjj")
    await world.act(t1, "request-extension", "zjj", {"reason": "需要协调多个部门", "days": 3})
    await world.act(t1, "approve-extension", "op")
    await world.act(t1, "reply", "zjj", REPLY)
    await world.act(
        t1, "callback", "op", {"contacted": True, "satisfaction": "满意", "solved": True}
    )
    # T2 ZJJ: signed after the receipt deadline; the unit says solved, the citizen not.
    await world.act(t2, "dispatch", "op", {"lead_unit": "ZJJ"})
    await _deadline_passed(t2, "receipt")
    await world.act(t2, "sign", "zjj")
    await world.act(t2, "reply", "zjj", REPLY)
    await world.act(
        t2, "callback", "op", {"contacted": True, "satisfaction": "基本满意", "solved": False}
    )
    # T3: ZJJ disputes; 改派 RSJ signs, replies after the feedback deadline; not reached; 重办.
    await world.act(t3, "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(t3, "reject", "zjj", {"reason": "不属于本单位职责"})
    await world.act(t3, "redispatch", "op", {"lead_unit": "RSJ"})
    await world.act(t3, "sign", "rsj")
    # Due just now: after ZJJ's 退单 (not ZJJ's lateness), before RSJ's reply (RSJ's).
    await _deadline_passed(t3, "feedback", ago=timedelta(0))
    await world.act(t3, "reply", "rsj", REPLY)
    await world.act(t3, "callback", "op", {"contacted": False})
    await world.act(t3, "reopen", "op", {"reason": "未联系上市民，重新办理"})
    # T4 JYJ: dispatched only.
    await world.act(t4, "dispatch", "op", {"lead_unit": "JYJ"})


async def get_rates(world: World, who: str = "sup", **params: str) -> Any:
    params = {"from": today(), "to": today(), **params}
    return await world.client.get("/api/v1/stats/rates", params=params, headers=world.headers[who])


def figures(**counts: int) -> dict[str, int]:
    return {name: counts.get(name, 0) for name in COUNTS}


async def test_rates_per_unit_from_real_actions(world: World) -> None:
    await scenario(world)
    r = await get_rates(world)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"]) == (today(), today())
    units = {u["unit"]: u for u in body["units"]}
    assert list(units) == ["ZJJ", "RSJ", "JYJ"]  # data-file order
    assert units["ZJJ"]["name"] == "A市住房和城乡建设局"
    zjj = {k: units["ZJJ"][k] for k in COUNTS}
    assert zjj == figures(
        dispatched=3,
        signed=2,
        signed_on_time=1,
        disputed=1,
        extended=1,
        replied=2,
        replied_on_time=2,
        callbacks=2,
        contacted=2,
        solved=1,
        satisfied=1,
        basically_satisfied=1,
    )
    assert {k: units["ZJJ"][k] for k in RATES} == {
        "sign_rate": 0.6667,
        # 1 of the 2 signed (T3's 退单 came before its receipt deadline: not due, not late).
        "sign_on_time_rate": 0.5,
        "dispute_rate": 0.3333,
        "reply_rate": 1.0,
        "on_time_rate": 1.0,
        "extension_rate": 0.5,
        "reopen_rate": 0.0,
        "response_rate": 1.0,
        "resolution_rate": 0.5,
        "satisfaction_rate": 0.95,
    }
    assert {k: units["RSJ"][k] for k in COUNTS} == figures(
        dispatched=1, signed=1, signed_on_time=1, replied=1, callbacks=1, reopened=1
    )
    assert units["RSJ"]["on_time_rate"] == 0.0 and units["RSJ"]["response_rate"] == 0.0
    assert units["RSJ"]["reopen_rate"] == 1.0
    # Nothing signed: rates over signed tickets are null, not 0.
    assert units["JYJ"]["dispatched"] == 1 and units["JYJ"]["sign_rate"] == 0.0
    assert units["JYJ"]["reply_rate"] is None and units["JYJ"]["satisfaction_rate"] is None
    overall = body["overall"]
    assert {k: overall[k] for k in COUNTS} == figures(
        dispatched=5,
        signed=3,
        signed_on_time=2,
        disputed=1,
        extended=1,
        replied=3,
        replied_on_time=2,
        callbacks=3,
        contacted=2,
        solved=1,
        satisfied=1,
        basically_satisfied=1,
        reopened=1,
    )
    assert overall["satisfaction_rate"] == 0.6333  # (1 + 0.9) / 3
    assert overall["on_time_rate"] == 0.6667


async def test_another_period_sees_none_of_it(world: World) -> None:
    await scenario(world)
    yesterday = utcnow().astimezone(SHANGHAI).date() - timedelta(days=1)
    a_year = {"from": (yesterday - timedelta(days=365)).isoformat(), "to": yesterday.isoformat()}
    body = (await get_rates(world, **a_year)).json()
    assert body["units"] == []
    assert body["overall"]["dispatched"] == 0 and body["overall"]["sign_rate"] is None


async def test_one_unit_a_kind_and_a_parent_group(world: World) -> None:
    await scenario(world)
    body = (await get_rates(world, unit="RSJ")).json()
    assert [u["unit"] for u in body["units"]] == ["RSJ"]
    assert {k: body["overall"][k] for k in COUNTS} == {k: body["units"][0][k] for k in COUNTS}
    # RSJ and the labour inspectorate under it; the inspectorate is listed with nothing.
    body = (await get_rates(world, parent="RSJ")).json()
    assert [u["unit"] for u in body["units"]] == ["RSJ", "LDJC"]
    assert body["units"][1]["dispatched"] == 0 and body["units"][1]["sign_rate"] is None
    assert body["overall"]["dispatched"] == 1
    body = (await get_rates(world, kind="street")).json()
    assert len(body["units"]) == 14 and {u["kind"] for u in body["units"]} == {"street"}
    assert body["overall"]["dispatched"] == 0
    body = (await get_rates(world, kind="department")).json()
    assert body["overall"]["dispatched"] == 5


async def test_xlsx_holds_every_number_of_the_json(world: World) -> None:
    await scenario(world)
    body = (await get_rates(world)).json()
    r = await get_rates(world, format="xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    name = f"单位考核指标_{today()}_{today()}.xlsx"
    assert r.headers["content-disposition"] == (
        f"attachment; filename=\"{name[7:]}\"; filename*=UTF-8''{quote(name)}"
    )
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["总体", "各单位", "说明"]
    overall = {row[0]: row[1] for row in wb["总体"].iter_rows(min_row=4, values_only=True)}
    header = [c.value for c in wb["各单位"][1]]
    labels = header[3:]
    assert len(labels) == len(COUNTS) + len(RATES) and "满意率" in labels
    assert list(overall) == labels
    fields = COUNTS + RATES
    assert [overall[label] for label in labels] == [body["overall"][f] for f in fields]
    rows = list(wb["各单位"].iter_rows(min_row=2, values_only=True))
    assert rows[0][:2] == (None, "总体")
    assert list(rows[0][3:]) == [body["overall"][f] for f in fields]
    assert [row[0] for row in rows[1:]] == [u["unit"] for u in body["units"]]
    for row, unit in zip(rows[1:], body["units"], strict=True):
        assert row[1] == unit["name"]
        assert list(row[3:]) == [unit[f] for f in fields], unit["unit"]
    # Rates show as percentages; a null rate is an empty cell.
    jyj = rows[3]
    assert jyj[0] == "JYJ" and jyj[header.index("回复率")] is None


async def test_csv_is_utf8_with_bom_a_row_per_unit_and_overall(world: World) -> None:
    await scenario(world)
    body = (await get_rates(world, unit="ZJJ")).json()
    r = await get_rates(world, unit="ZJJ", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["单位名称"] for row in rows] == ["总体", "A市住房和城乡建设局"]
    assert rows[1]["单位代码"] == "ZJJ" and rows[1]["单位类型"] == "市直部门"
    assert int(rows[1]["派单数"]) == body["units"][0]["dispatched"] == 3
    assert float(rows[1]["满意率"]) == body["units"][0]["satisfaction_rate"] == 0.95
    assert float(rows[0]["按时签收率"]) == body["overall"]["sign_on_time_rate"]
    assert rows[0]["重办率"] == "0.0"


async def test_unit_staff_are_refused_in_chinese(world: World) -> None:
    r = await get_rates(world, who="zjj")
    assert r.status_code == 403
    assert "承办单位" in r.json()["error"]["message"]
    for who in ("op", "sup", "adm"):
        assert (await get_rates(world, who=who)).status_code == 200
    r = await world.client.get("/api/v1/stats/volumes", params={"from": today(), "to": today()})
    assert r.status_code == 401


async def test_bad_parameters_answer_422_with_chinese_messages(world: World) -> None:
    cases = [
        ({"from": "2026/11/01"}, "参数 from 必须是 YYYY-MM-DD 格式的日期"),
        ({"to": "yesterday"}, "参数 to 必须是 YYYY-MM-DD 格式的日期"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "参数 from 不能晚于 to"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "统计期间不能超过 3 年"),
        ({"unit": "NOPE"}, "未知单位代码「NOPE」"),
        ({"kind": "village"}, "参数 kind 必须是"),
        ({"format": "pdf"}, "参数 format 必须是 json、xlsx 或 csv"),
    ]
    for params, message in cases:
        r = await get_rates(world, **params)
        assert r.status_code == 422, params
        error = r.json()["error"]
        assert error["code"] == "validation_error" and message in error["message"], error
    r = await world.client.get(
        "/api/v1/stats/rates", params={"to": "2026-11-01"}, headers=world.headers["sup"]
    )
    assert r.status_code == 422 and "from" in r.json()["error"]["message"]


async def test_volumes_by_channel_kind_category_and_place(world: World) -> None:
    place = {"address": "A3区含浦街道", "district": "A3区", "street": "含浦街道"}
    await world.create(channel="web", location=place)
    await world.create(channel="web", kind="求助", category="劳动和社会保障", location=place)
    await world.create(channel="wechat", location={"address": "", "district": "A3区"})
    target = await world.create()
    repeat = await world.create()
    await world.act(repeat["number"], "merge", "op", {"into": target["number"]})
    r = await world.client.get(
        "/api/v1/stats/volumes",
        params={"from": today(), "to": today()},
        headers=world.headers["sup"],
    )
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["total"] == 4 and v["merged"] == 1  # the repeat is not counted twice
    assert v["by_channel"] == [
        {"channel": "web", "count": 2, "label": "网站"},
        {"channel": "phone", "count": 1, "label": "电话"},
        {"channel": "wechat", "count": 1, "label": "微信公众号"},
    ]
    assert v["by_kind"] == [{"kind": "投诉", "count": 3}, {"kind": "求助", "count": 1}]
    assert v["top_categories"] == [
        {"category": "城乡建设", "count": 3},
        {"category": "劳动和社会保障", "count": 1},
    ]
    assert v["top_districts"] == [{"district": "A3区", "count": 3}]
    assert v["top_streets"] == [{"district": "A3区", "street": "含浦街道", "count": 2}]


async def test_overdue_work_per_unit_oldest_first(world: World) -> None:
    numbers = [(await world.create())["number"] for _ in range(3)]
    for n, unit in zip(numbers, ["ZJJ", "RSJ", "ZJJ"], strict=True):
        await world.act(n, "dispatch", "op", {"lead_unit": unit})
    now = utcnow()
    await Ticket.filter(number=numbers[0]).update(next_due_at=now - timedelta(hours=2))
    await Ticket.filter(number=numbers[1]).update(next_due_at=now - timedelta(hours=5))
    await Ticket.filter(number=numbers[2]).update(next_due_at=now - timedelta(hours=9))
    # A closed ticket is not overdue work, whatever due time it still carries.
    answered = (await world.create())["number"]
    await world.act(answered, "answer", "op", {"text": "已当场答复"})
    await Ticket.filter(number=answered).update(
        next_due_at=now - timedelta(days=3),
        lead_unit_id=(await Ticket.get(number=numbers[0])).lead_unit_id,
    )
    r = await world.client.get("/api/v1/stats/overdue", headers=world.headers["sup"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 3 and body["pages"] == 1
    # Every unit's count, the unit with the longest wait first.
    assert [(u["unit"], u["count"]) for u in body["units"]] == [("ZJJ", 2), ("RSJ", 1)]
    assert body["units"][0]["overdue_hours"] >= 9
    # The tickets, the longest overdue first, each naming its unit.
    assert [(t["number"], t["unit"]) for t in body["tickets"]] == [
        (numbers[2], "ZJJ"),
        (numbers[1], "RSJ"),
        (numbers[0], "ZJJ"),
    ]
    assert body["tickets"][0]["overdue_hours"] >= 9
    only = await world.client.get(
        "/api/v1/stats/overdue", params={"unit": "RSJ"}, headers=world.headers["sup"]
    )
    assert [u["unit"] for u in only.json()["units"]] == ["RSJ"]
    # Paged: the counts stay whole, the list is the page asked for.
    second = await world.client.get(
        "/api/v1/stats/overdue", params={"per_page": 2, "page": 2}, headers=world.headers["sup"]
    )
    page = second.json()
    assert (page["total"], page["pages"], page["page"]) == (3, 2, 2)
    assert [t["number"] for t in page["tickets"]] == [numbers[0]]
    assert sum(u["count"] for u in page["units"]) == 3
    past = await world.client.get(
        "/api/v1/stats/overdue", params={"page": 9}, headers=world.headers["sup"]
    )
    assert past.json()["tickets"] == [] and past.json()["total"] == 3
    too_many = await world.client.get(
        "/api/v1/stats/overdue", params={"per_page": 5000}, headers=world.headers["sup"]
    )
    assert too_many.status_code == 422 and "per_page" in too_many.text
