"""The hot-issue radar over HTTP and in the sweeper: clusters, who may read them, alerts once,
and acting on a cluster (批量派单, 并单)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.domain.auth import Principal
from hotline.domain.models import RadarAlert, Ticket, User
from hotline.domain.radar import load_radar_config
from hotline.domain.timefmt import utcnow
from hotline.outbox.models import OutboxMessage
from hotline.services.radar import radar_sweep
from hotline.services.radar_actions import batch_dispatch, batch_merge
from tests.api.conftest import World

# The window read and the baseline's GROUP BY are SQL of their own: both databases.
pytestmark = pytest.mark.backends

OUTAGE = [
    "板桥小区停水一整天了，自来水公司没有任何通知",
    "板桥小区又停水，自来水水压很低，老人做不了饭",
    "板桥小区停水，自来水的管道好像爆了",
    "我家在板桥小区，从早上开始停水，自来水公司电话打不通",
    "板桥小区停水到现在还没来水，自来水什么时候恢复",
]


async def make_outage(world: World) -> list[str]:
    numbers = []
    for i, text in enumerate(OUTAGE):
        # Five different callers: one caller ringing five times would be no burst.
        t = await world.create(
            title="小区停水",
            content=text,
            location={"address": "板桥小区"},
            complainant={"name": f"居民{i}", "phone": f"1390000000{i}"},
        )
        numbers.append(t["number"])
    # Same place, another matter; and a report (举报) naming its reporter.
    await world.create(title="广场舞噪音", content="板桥小区广场舞音响太吵，晚上十点还在跳")
    await world.create(
        kind="举报",
        title="举报停水期间物业乱收费",
        location={"address": "板桥小区"},
        content="我是李秀英，举报板桥小区物业停水期间收取自来水加压费",
        complainant={"name": "李秀英", "phone": "13912345678"},
    )
    return numbers


async def radar(world: World, who: str = "sup", **params: Any) -> Any:
    return await world.client.get("/api/v1/radar", params=params, headers=world.headers[who])


async def test_the_outage_is_the_hottest_cluster_and_names_no_reporter(world: World) -> None:
    numbers = await make_outage(world)
    r = await radar(world)
    assert r.status_code == 200, r.text
    body = r.json()
    top = body["clusters"][0]
    assert top["place"] == "板桥小区" and top["category"] == "城乡建设"
    assert sorted(top["tickets"]) == sorted(numbers)
    assert (
        top["count"] == top["callers"] == 5 and "停水" in top["terms"] and "自来水" in top["terms"]
    )
    assert top["title"].startswith("板桥小区·城乡建设：停水")
    assert top["heat"] > 0 and top["growth"] > 5 and top["first_at"].endswith("+08:00")
    assert "李秀英" not in r.text and "13912345678" not in r.text
    # The same members give the same id: an alert raised for it is not raised again.
    again = (await radar(world)).json()["clusters"][0]
    assert again["id"] == top["id"]


async def test_operators_read_units_do_not_and_bad_windows_are_explained(world: World) -> None:
    await make_outage(world)
    assert (await radar(world, "op")).status_code == 200
    unit = await radar(world, "zjj")
    assert (
        unit.status_code == 403
        and "承办单位账号不能查看热点雷达" in unit.json()["error"]["message"]
    )
    bad = await radar(world, **{"from": "昨天"})
    assert bad.status_code == 422 and "2026-12-06" in bad.json()["error"]["message"]
    wide = await radar(world, **{"from": "2026-01-01", "to": "2026-12-31"})
    assert wide.status_code == 422 and "最长 31 天" in wide.json()["error"]["message"]
    empty = await radar(world, **{"from": "2020-01-01", "to": "2020-01-02"})
    assert empty.json() | {"from": None, "to": None, "computed_at": None} == {
        "from": None,
        "to": None,
        "tickets": 0,
        "clusters": [],
        "computed_at": None,
        "stored": False,  # no stored result: computed for this request
        "stale": False,
    }


async def test_a_burst_alerts_once_however_many_sweeps(world: World, deployment: Any) -> None:
    await make_outage(world)
    config = load_radar_config(deployment.data_dir)
    gazetteer = deployment.router.routing.gazetteer
    first = await radar_sweep(
        now=utcnow(), config=config, gazetteer=gazetteer, link_base="http://x"
    )
    second = await radar_sweep(
        now=utcnow(), config=config, gazetteer=gazetteer, link_base="http://x"
    )
    assert len(first) == 1 and second == []
    assert await RadarAlert.all().count() == 1
    mails = await OutboxMessage.filter(reason="radar")
    assert len(mails) == 1
    assert mails[0].recipients == ["sup@test.example"]
    assert "热点预警：板桥小区·城乡建设" in mails[0].subject and "http://x/radar" in mails[0].body
    assert "李秀英" not in mails[0].body


async def _principal(username: str) -> Principal:
    user = await User.get(username=username)
    return Principal(user.id, user.username, user.display_name, user.role, None, None)


async def test_batch_dispatch_reports_the_report_waiting_for_its_text(
    world: World, deployment: Any
) -> None:
    numbers = await make_outage(world)
    report = await Ticket.get(kind="举报")
    outcome = await batch_dispatch(
        numbers=[*numbers, report.number],
        lead_unit="ZJJ",
        principal=await _principal("sup"),
        deployment=deployment,
    )
    assert outcome.done == numbers
    assert list(outcome.refused) == [report.number]
    assert "转办内容" in outcome.refused[report.number]
    for n in numbers:
        assert (
            await world.client.get(f"/api/v1/tickets/{n}", headers=world.headers["zjj"])
        ).status_code == 200
    # Already dispatched: said so, nothing dispatched twice.
    again = await batch_dispatch(
        numbers=numbers[:1],
        lead_unit="ZJJ",
        principal=await _principal("sup"),
        deployment=deployment,
    )
    assert again.done == [] and numbers[0] in again.refused


async def test_batch_merge_folds_the_cluster_into_one(world: World, deployment: Any) -> None:
    numbers = await make_outage(world)
    outcome = await batch_merge(
        numbers=numbers,
        into=numbers[0],
        principal=await _principal("sup"),
        deployment=deployment,
    )
    assert outcome.done == numbers[1:] and outcome.refused == {}
    for n in numbers[1:]:
        r = await world.client.get(f"/api/v1/tickets/{n}", headers=world.headers["sup"])
        assert r.json()["status"] == "merged"
    # Merged tickets leave the radar: the outage is no longer a cluster.
    places = [c["place"] for c in (await radar(world)).json()["clusters"]]
    assert "板桥小区" not in places


async def test_two_sweepers_at_once_alert_once(world: World, deployment: Any) -> None:
    import asyncio

    await make_outage(world)
    config = load_radar_config(deployment.data_dir)
    gazetteer = deployment.router.routing.gazetteer
    now = utcnow()
    results = await asyncio.gather(
        *(
            radar_sweep(now=now, config=config, gazetteer=gazetteer, link_base="http://x")
            for _ in range(2)
        )
    )
    assert sorted(len(r) for r in results) == [0, 1]
    assert await RadarAlert.all().count() == 1
    assert await OutboxMessage.filter(reason="radar").count() == 1
