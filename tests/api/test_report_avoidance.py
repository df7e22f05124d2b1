"""A 举报 never reaches the unit it names, whatever words name it, nor that unit's line.

Every door a report has to a unit is tried: the router's proposal, dispatch (lead and
assisting), 改派, and adding an assisting unit on a re-dispatch. Only a supervisor's written
override (`avoidance_override`) opens it.
"""

from __future__ import annotations

import pytest

from hotline.domain.models import TicketEvent
from tests.api.conftest import World

REPORT = {
    "kind": "举报",
    "category": "城乡建设",
    "title": "举报工作人员收受好处",
    "location": {"address": "A3区含浦街道某小区"},
    "complainant": {"name": "李四", "phone": "13912345678"},
    "auto_dispatch": False,
}


async def _report(world: World, content: str) -> dict:
    """A 举报 whose dispatch text the centre has confirmed (so only the avoidance rule decides)."""
    ticket = await world.create(**REPORT, content=content)
    await world.confirm(ticket["number"])
    return ticket


@pytest.mark.parametrize(
    ("content", "mention"),
    [
        ("举报住房城乡建设局王科长在小区验收中收受开发商好处费。", "住房城乡建设局"),
        ("举报住建部门的王科长在小区验收中收受开发商好处费。", "住建部门"),
        ("举报住 建 局王科长在小区验收中收受开发商好处费。", "住建局"),
        ("举报ＡＢ小区验收时ＺＪＪ的王科长收受好处费。", "ZJJ"),
    ],
    ids=["official-short-form", "department", "spaced", "full-width-code"],
)
async def test_dispatch_to_the_bureau_named_in_any_form_is_refused(
    world: World, content: str, mention: str
) -> None:
    ticket = await _report(world, content)
    assert ticket["routing"]["lead_unit"]["code"] != "ZJJ"
    refused = await world.act(ticket["number"], "dispatch", "op", {"lead_unit": "ZJJ"}, expect=422)
    error = refused["error"]
    assert error["code"] == "reported_unit"
    message = error["message"]
    assert "A市住房和城乡建设局" in message and f"「{mention}」" in message
    assert "请督办人员在派单表单的「举报回避例外的书面理由」中填写理由后派单" in message
    assert message.endswith("（接口字段 avoidance_override）")
    # nothing moved
    seen = await world.client.get(
        f"/api/v1/tickets/{ticket['number']}", headers=world.headers["sup"]
    )
    assert seen.json()["status"] == "received"


async def test_the_named_bureau_cannot_assist_nor_be_added_on_a_redispatch(world: World) -> None:
    ticket = await _report(world, "举报住建部门工作人员包庇违建。")
    number = ticket["number"]
    await world.act(
        number, "dispatch", "op", {"lead_unit": "JW", "assisting_units": ["ZJJ"]}, expect=422
    )
    await world.act(number, "dispatch", "op", {"lead_unit": "JW"})
    await world.act(number, "redispatch", "op", {"lead_unit": "ZJJ"}, expect=422)
    # the same lead with an assisting unit added: the named bureau is refused as helper too
    refused = await world.act(
        number, "redispatch", "op", {"lead_unit": "CGJ", "assisting_units": ["ZJJ"]}, expect=422
    )
    assert "「住建部门」" in refused["error"]["message"]
    await world.act(number, "redispatch", "op", {"lead_unit": "JW", "assisting_units": ["CGJ"]})


async def test_a_named_street_reaches_neither_the_street_nor_its_district(world: World) -> None:
    ticket = await _report(world, "举报A3区含浦街道办工作人员在拆违中收受好处，请查处。")
    number = ticket["number"]
    proposal = ticket["routing"]
    assert proposal["lead_unit"]["code"] not in ("HANPU", "A3")
    for lead in ("HANPU", "A3"):
        refused = await world.act(number, "dispatch", "op", {"lead_unit": lead}, expect=422)
        assert "含浦街道办" in refused["error"]["message"]
    refused = await world.act(
        number, "dispatch", "op", {"lead_unit": "JW", "assisting_units": ["A3"]}, expect=422
    )
    assert "A3区人民政府" in refused["error"]["message"]
    assert "上级" in refused["error"]["message"]
    await world.act(number, "dispatch", "op", {"lead_unit": "JW"})
    await world.act(number, "redispatch", "op", {"lead_unit": "A3"}, expect=422)


async def test_a_named_district_does_not_reach_its_streets(world: World) -> None:
    ticket = await _report(world, "举报A3区政府工作人员强拆含浦街道某小区的门面。")
    refused = await world.act(
        ticket["number"], "dispatch", "op", {"lead_unit": "HANPU"}, expect=422
    )
    assert "下级" in refused["error"]["message"]


async def test_a_supervisor_sends_it_to_the_district_with_a_written_reason(world: World) -> None:
    ticket = await _report(world, "举报含浦街道办事处工作人员在拆违中收受好处。")
    number = ticket["number"]
    await world.act(
        number,
        "dispatch",
        "op",
        {"lead_unit": "A3", "avoidance_override": "区纪委督办"},
        expect=403,
    )
    reason = "经区纪委同意，由区政府督查室牵头调查"
    out = await world.act(
        number, "dispatch", "sup", {"lead_unit": "A3", "avoidance_override": reason}
    )
    assert out["lead_unit"]["code"] == "A3"
    override = await TicketEvent.filter(ticket__number=number, action="avoidance_override").get()
    assert override.payload == {"units": ["A3"], "reason": reason}


async def test_a_report_that_names_the_bureau_only_as_a_landmark_may_go_to_it(
    world: World,
) -> None:
    ticket = await _report(world, "举报住建局宿舍楼下有人违章搭建彩钢棚，请查处。")
    await world.act(ticket["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
