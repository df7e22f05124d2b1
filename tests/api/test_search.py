"""Full-text search (`q=`): Chinese words anywhere a user reads them, by each role's view."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.auth import Principal
from hotline.domain.models import Ticket
from hotline.domain.timefmt import utcnow
from hotline.services import ticket_search
from hotline.services.retention import anonymise_due
from hotline.services.ticket_search import rebuild_index
from tests.api.conftest import World

pytestmark = pytest.mark.backends


async def _found(world: World, who: str, q: str, **params: Any) -> list[str]:
    r = await world.client.get(
        "/api/v1/tickets", params={"q": q, "per_page": 100, **params}, headers=world.headers[who]
    )
    assert r.status_code == 200, r.text
    return [t["number"] for t in r.json()["items"]]


async def test_words_are_found_in_content_address_replies_and_notes(world: World) -> None:
    in_content = await world.create(
        title="夜间施工扰民",
        content="枫林小区旁边的工地每天夜里施工到凌晨两点，噪音很大，无法休息。",
    )
    in_address = await world.create(
        title="路灯不亮",
        content="小区门口路灯坏了一个月，晚上出行不便。",
        location={"address": "岳麓区枫林小区东门"},
    )
    other = await world.create(title="停水", content="今天早上开始停水，没有任何通知。")
    n = other["number"]
    await world.act(n, "dispatch", "op", {"lead_unit": "ZJJ", "note": "请联系供水公司核实"})
    await world.act(n, "sign", "zjj")
    await world.act(
        n, "reply", "zjj", {"result": "solved", "text": "经核实系管网抢修，已恢复供水。"}
    )

    for who in ("op", "sup"):
        found = await _found(world, who, "枫林小区")
        assert set(found) == {in_content["number"], in_address["number"]}, who
        assert await _found(world, who, "噪音") == [in_content["number"]]  # two characters
        assert await _found(world, who, "管网抢修") == [n]  # the unit's reply
        assert await _found(world, who, "供水公司") == [n]  # the operator's note
        assert await _found(world, who, "停水 通知") == [n]  # both words
        assert await _found(world, who, "停水 噪音") == []
        assert await _found(world, who, "没有这个词") == []
    # The unit reads its reply and the dispatch text, not the centre's note to itself.
    assert await _found(world, "zjj", "管网抢修") == [n]
    assert await _found(world, "zjj", "停水") == [n]
    assert await _found(world, "zjj", "供水公司") == []
    # Another unit finds nothing of a ticket it does not hold.
    assert await _found(world, "rsj", "停水") == []


async def test_a_unit_cannot_find_a_report_by_what_the_reporter_said(world: World) -> None:
    report = await world.create(
        kind="举报",
        title="李建国举报王某受贿",
        content="我叫李建国，电话13912345678，住枫林小区，举报某局工作人员王某收受贿赂。",
        complainant={"name": "李建国", "phone": "13912345678"},
    )
    n = report["number"]
    await world.confirm(n, title="举报工作人员违规", text="群众举报有关工作人员违规，请依法核查。")
    await world.act(n, "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(n, "sign", "zjj")

    for words in ("李建国", "13912345678", "1391234", "收受贿赂", "王某", "枫林小区"):
        assert await _found(world, "zjj", words) == [], words
        assert await _found(world, "op", words) == [n], words
    # What the unit was shown, it finds.
    assert await _found(world, "zjj", "依法核查") == [n]
    # The centre finds it by words of the original and of the confirmed text at once.
    assert await _found(world, "op", "李建国 依法核查") == [n]
    assert await _found(world, "zjj", "李建国 依法核查") == []


async def test_an_unconfirmed_report_is_not_found_by_a_unit_even_by_its_proposal(
    world: World,
) -> None:
    report = await world.create(
        kind="举报", title="举报违规排污", content="某化工厂夜间违规排污，气味刺鼻。"
    )
    n = report["number"]
    assert await _found(world, "op", "违规排污") == [n]
    assert await _found(world, "zjj", "违规排污") == []


async def test_an_anonymised_ticket_is_not_found_by_its_removed_name_or_phone(
    world: World,
) -> None:
    t = await world.create(
        title="张三丰反映电梯故障",
        content="我是张三丰，电话13812345678，小区电梯坏了两周没人修。",
        location={"address": "枫林小区5栋302"},
        complainant={"name": "张三丰", "phone": "13812345678"},
    )
    n = t["number"]
    await world.act(n, "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(n, "sign", "zjj")
    await world.act(
        n, "reply", "zjj", {"result": "solved", "text": "电梯已修复，来电人13812345678确认。"}
    )
    await world.act(
        n, "callback", "op", {"contacted": True, "satisfaction": "满意", "solved": True}
    )
    await world.act(n, "close", "op")
    for words in ("张三丰", "13812345678", "枫林小区", "电梯"):
        assert await _found(world, "op", words) == [n], words

    await Ticket.filter(number=n).update(closed_at=utcnow() - timedelta(days=400))
    assert await anonymise_due(now=utcnow(), retention_days=365) == 1

    for words in ("张三丰", "13812345678", "枫林小区"):
        assert await _found(world, "op", words) == [], words
    assert await _found(world, "op", "电梯") == [n]  # the matter itself stays searchable
    await rebuild_index()
    for words in ("张三丰", "13812345678", "枫林小区"):
        assert await _found(world, "op", words) == [], words


async def test_a_rebuild_gives_the_same_results(world: World) -> None:
    texts = [
        ("噪音扰民", "楼上邻居每天深夜装修，噪音扰民。"),
        ("停水", "枫林小区停水两天了。"),
        ("道路破损", "枫林路口道路破损严重，雨天积水。"),
        ("咨询社保", "想咨询社保转移接续怎么办理。"),
    ]
    numbers = []
    for title, content in texts:
        numbers.append((await world.create(title=title, content=content))["number"])
    await world.act(numbers[1], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(numbers[1], "sign", "zjj")
    await world.act(numbers[1], "reply", "zjj", {"result": "solved", "text": "已协调恢复供水。"})
    queries = [("op", "枫林"), ("op", "噪音"), ("op", "供水"), ("zjj", "供水"), ("op", "积水 道路")]
    before = {q: await _found(world, who, q) for who, q in queries}
    assert before["枫林"] and before["供水"]

    await rebuild_index()

    assert {q: await _found(world, who, q) for who, q in queries} == before


async def test_results_rank_by_relevance_then_recency_and_page(world: World) -> None:
    for i in range(8):  # a word most tickets hold weighs nothing: a corpus like a real one
        await world.create(title="咨询", content=f"第{i}次咨询社保卡办理需要哪些材料。")
    older = await world.create(title="噪音", content="工地噪音，噪音，还是噪音，夜里噪音不停。")
    plain = [
        (await world.create(title="夜间扰民", content=f"第{i}次反映：工地夜间噪音。"))["number"]
        for i in range(3)
    ]
    found = await _found(world, "op", "噪音")
    assert found[0] == older["number"]  # named most often, though oldest
    assert found[1:] == plain[::-1]  # equally relevant: newest first
    r = await world.client.get(
        "/api/v1/tickets", params={"q": "噪音", "per_page": 2, "page": 2},
        headers=world.headers["op"],
    )  # fmt: skip
    body = r.json()
    assert body["total"] == 4 and body["total_capped"] is False
    assert [t["number"] for t in body["items"]] == found[2:]
    # Other filters narrow the hits; a ticket number is still found as one.
    assert await _found(world, "op", "噪音", status="received") == found
    assert await _found(world, "op", plain[0]) == [plain[0]]


async def test_a_common_word_ranks_only_the_newest_matches_and_says_so(world: World) -> None:
    numbers = [
        (await world.create(title="噪音扰民", content=f"第{i}次反映夜间噪音。"))["number"]
        for i in range(5)
    ]
    operator = Principal(1, "op", "op", "operator", None, None)
    found = await ticket_search.search(principal=operator, text="噪音", cap=3)
    assert found.hits.capped and found.hits.total == 3
    ids = await Ticket.filter(number__in=numbers[-3:]).values_list("id", flat=True)
    assert sorted(found.hits.ids) == sorted(ids)  # the newest three of five
    every = await ticket_search.search(principal=operator, text="噪音")
    assert not every.hits.capped and every.hits.total == 5


@pytest.mark.parametrize("small_unit", [0, 5000], ids=["per-match", "by-ids"])
async def test_a_unit_finds_exactly_the_tickets_it_holds_either_way(
    world: World, monkeypatch: pytest.MonkeyPatch, small_unit: int
) -> None:
    """A small unit is searched through its ids on PostgreSQL, a large one per match: the
    same tickets either way, and never one taken from it by a 改派."""
    monkeypatch.setattr(ticket_search, "SMALL_UNIT", small_unit)
    held, moved, other = [
        (await world.create(title=f"夜间噪音扰民{i}", content="工地夜里施工，噪音很大。"))["number"]
        for i in range(3)
    ]
    await world.act(held, "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(moved, "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(moved, "redispatch", "op", {"lead_unit": "RSJ"})
    await world.act(other, "dispatch", "op", {"lead_unit": "RSJ"})
    assert await _found(world, "zjj", "噪音") == [held]
    assert set(await _found(world, "rsj", "噪音")) == {moved, other}
    assert await _found(world, "zjj", "量子纠缠") == []
