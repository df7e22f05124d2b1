"""A 举报 reporter's identity never reaches a unit, its mail, and the unit reported on."""

from __future__ import annotations

import json
import re
from typing import Any

from hotline.domain.models import TicketEvent
from hotline.mail.outbox import mail_content
from hotline.outbox.models import OutboxMessage
from tests.api.conftest import World

REPORT = {
    "kind": "举报",
    "category": "城乡建设",
    "title": "举报违规发放补贴",
    "content": (
        "我是教育局职工李四，身份证430102199001011234，电话13912345678，"
        "邮箱lisi@example.cn。举报某学校违规收取补课费。"
    ),
    "location": {"address": "A3区含浦街道某小区3栋2单元401室"},
    "complainant": {"name": "李四", "phone": "13912345678", "email": "lisi@example.cn"},
    "auto_dispatch": False,
}
SECRETS = ("李四", "430102199001011234", "13912345678", "lisi@example.cn", "401室")


def _leaks(payload: Any) -> list[str]:
    text = json.dumps(payload, ensure_ascii=False)
    return [s for s in SECRETS if s in text]


async def test_units_read_the_dispatch_text_not_the_reporters_identity(world: World) -> None:
    ticket = await world.create(**{k: v for k, v in REPORT.items() if k != "kind"}, kind="举报")
    number = ticket["number"]
    # The centre keeps the verbatim record.
    assert ticket["content"] == REPORT["content"]
    # The masked proposal the operator confirms (a 举报 waits for a person to confirm it).
    assert "【手机号】" in ticket["dispatch_text"] and "【来电人】" in ticket["dispatch_text"]
    await world.confirm(number, title=ticket["dispatch_title"], text=ticket["dispatch_text"])
    await world.act(number, "dispatch", "op", {"lead_unit": "RSJ", "assisting_units": ["ZJJ"]})
    for unit_user in ("rsj", "zjj"):
        seen = (
            await world.client.get(f"/api/v1/tickets/{number}", headers=world.headers[unit_user])
        ).json()
        assert _leaks(seen) == [], unit_user
        assert seen["content"] == seen["dispatch_text"]
    listed = (await world.client.get("/api/v1/tickets", headers=world.headers["rsj"])).json()
    assert _leaks(listed) == []
    mails = await OutboxMessage.filter(transport="mail", ticket_number=number)
    assert mails, "the units are told of the dispatch"
    for mail in mails:
        sent = mail_content(mail)  # as the sender renders it
        assert _leaks({"s": sent.subject, "t": sent.text, "h": sent.html, "p": mail.params}) == []


async def test_supervisors_see_numbers_in_the_content_masked_like_the_phone_field(
    world: World,
) -> None:
    ticket = await world.create(**{**REPORT, "kind": "投诉"})
    seen = (
        await world.client.get(f"/api/v1/tickets/{ticket['number']}", headers=world.headers["sup"])
    ).json()
    assert seen["complainant"]["phone"] == "139****5678"
    assert "13912345678" not in seen["content"] and "430102199001011234" not in seen["content"]


async def test_an_operator_edits_the_dispatch_text_and_numbers_are_still_masked(
    world: World,
) -> None:
    ticket = await world.create(kind="投诉")
    edited = "市民反映物业不作为，联系电话 13700001111，请核实处理。"
    await world.act(
        ticket["number"], "dispatch", "op", {"lead_unit": "ZJJ", "dispatch_text": edited}
    )
    seen = (
        await world.client.get(f"/api/v1/tickets/{ticket['number']}", headers=world.headers["zjj"])
    ).json()
    assert seen["content"] == "市民反映物业不作为，联系电话 【手机号】，请核实处理。"


NAMED = {
    **REPORT,
    "title": "举报住建局王科长收受好处",
    "content": "举报住建局王科长在小区验收中收受开发商好处费，请纪委调查。",
}


async def test_a_report_is_never_dispatched_to_the_unit_it_names(world: World) -> None:
    ticket = await world.create(**NAMED)
    number = ticket["number"]
    assert ticket["routing"]["lead_unit"]["code"] != "ZJJ"  # the router already avoids it
    refused = await world.act(number, "dispatch", "op", {"lead_unit": "ZJJ"}, expect=422)
    assert refused["error"]["code"] == "reported_unit"
    assert "住建局" in refused["error"]["message"] and "督办" in refused["error"]["message"]
    refused = await world.act(
        number, "dispatch", "op", {"lead_unit": "JW", "assisting_units": ["ZJJ"]}, expect=422
    )
    assert refused["error"]["code"] == "reported_unit"
    # An operator cannot override; nothing changed.
    await world.act(
        number,
        "dispatch",
        "op",
        {"lead_unit": "ZJJ", "avoidance_override": "领导批示由住建局自查"},
        expect=403,
    )
    assert (
        await world.client.get(f"/api/v1/tickets/{number}", headers=world.headers["sup"])
    ).json()["status"] == "received"
    await world.confirm(number)
    await world.act(number, "dispatch", "op", {"lead_unit": "JW"})
    await world.act(number, "redispatch", "op", {"lead_unit": "ZJJ"}, expect=422)


async def test_a_supervisor_may_override_with_a_written_reason_logged_as_its_own_event(
    world: World,
) -> None:
    ticket = await world.create(**NAMED)
    number = ticket["number"]
    reason = "经纪委同意，由住建局先行自查并限期报告"
    await world.confirm(number, who="sup")
    out = await world.act(
        number, "dispatch", "sup", {"lead_unit": "ZJJ", "avoidance_override": reason}
    )
    assert out["status"] == "dispatched" and out["lead_unit"]["code"] == "ZJJ"
    events = [
        (e.action, e.payload)
        for e in await TicketEvent.filter(ticket__number=number).order_by("id")
    ]
    assert [a for a, _ in events] == [
        "create",
        "confirm-dispatch-text",
        "avoidance_override",
        "dispatch",
    ]
    assert events[2][1] == {"units": ["ZJJ"], "reason": reason}
    labels = [e["label"] for e in out["timeline"]]
    assert "举报回避例外" in labels


async def test_short_names_of_units_are_recognised(world: World) -> None:
    for text, code in (("人社局的张科长吃拿卡要", "RSJ"), ("市场监管局执法人员收钱不办事", "SJJ")):
        ticket = await world.create(
            **{**NAMED, "title": "举报工作人员", "content": f"举报{text}，请查处。"}
        )
        refused = await world.act(
            ticket["number"], "dispatch", "op", {"lead_unit": code}, expect=422
        )
        assert re.search("举报件不能交给被举报的单位", refused["error"]["message"])


ISSUE_REPORT = (
    "我叫李建国，身份证430104199001011234，手机13973112345，"
    "住在含浦街道枫林小区3栋2单元501室。我举报市住建局工作人员王五收受好处。"
)


async def test_a_reporters_home_neither_routes_the_report_nor_reaches_the_proposal(
    world: World,
) -> None:
    ticket = await world.create(
        kind="举报",
        title="举报住建局工作人员收受好处",
        content=ISSUE_REPORT,
        complainant={"name": "李建国", "phone": "13973112345"},
    )
    proposal = ticket["dispatch_text"]
    assert "含浦街道" not in proposal and "枫林小区" not in proposal
    assert "住在【住址】" in proposal and "王五收受好处" in proposal
    # 派单 defaults to the router's proposal: not the street office where the reporter lives
    assert ticket["routing"]["lead_unit"]["code"] == "JW"
    # the same words in a complaint keep the compound: there it is the place of the matter
    complaint = await world.create(
        kind="投诉", content="住在含浦街道枫林小区3栋2单元501室，楼下噪音"
    )
    assert complaint["dispatch_text"].startswith("住在含浦街道枫林小区【门牌】")
