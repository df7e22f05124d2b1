"""The 热点雷达 page: clusters listed, 批量派单 and 并单 from a cluster with every ticket's
outcome in Chinese, the dashboard's 热点预警, and units kept out."""

from __future__ import annotations

import re
from typing import Any

from hotline.domain.radar import load_radar_config
from hotline.domain.timefmt import utcnow
from hotline.services.radar import radar_sweep
from tests.pages.conftest import Site, csrf_of

TEXTS = [
    "板桥小区停水一整天了，自来水公司没有任何通知",
    "板桥小区又停水，自来水水压很低",
    "板桥小区停水，自来水的管道好像爆了",
]


async def outage(site: Site) -> tuple[list[str], str]:
    numbers = [
        (
            await site.create(
                title="小区停水",
                content=t,
                location={"address": "板桥小区"},
                complainant={"name": f"居民{i}", "phone": f"1390000000{i}"},
            )
        )["number"]
        for i, t in enumerate(TEXTS)
    ]
    report = await site.create(
        kind="举报",
        title="举报停水期间物业乱收费",
        location={"address": "板桥小区"},
        content="举报板桥小区物业在停水期间收取自来水加压费",
        complainant={"name": "李秀英"},
    )
    return numbers, report["number"]


async def test_the_page_lists_the_cluster_and_dispatches_it_to_one_unit(site: Site) -> None:
    numbers, report = await outage(site)
    c = await site.login("sup")
    page = await c.get("/radar")
    assert page.status_code == 200
    assert "板桥小区·城乡建设：停水" in page.text and "批量派单" in page.text
    for n in numbers:
        assert f'href="/tickets/{n}"' in page.text
    assert "李秀英" not in page.text
    members = re.search(r'name="tickets" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    # The report joins the batch by hand: it cannot go before its text is confirmed.
    r = await c.post(
        "/radar/dispatch",
        data={
            "csrf_token": csrf_of(page.text),
            "tickets": f"{members},{report}",
            "lead_unit": "ZJJ",
            "next": "/radar",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/radar"
    after = (await c.get("/radar")).text
    assert f"已派单 3 张：{'、'.join(sorted(numbers))}。" in after
    assert f"{report} 未能派单：" in after and "转办内容" in after


async def test_merge_from_the_cluster_keeps_the_chosen_ticket(site: Site) -> None:
    numbers, _ = await outage(site)
    c = await site.login("sup")
    page = await c.get("/radar")
    await c.post(
        "/radar/merge",
        data={
            "csrf_token": csrf_of(page.text),
            "tickets": ",".join(numbers),
            "into": numbers[1],
            "next": "/radar",
        },
    )
    after = (await c.get("/radar")).text
    assert f"已并入 {numbers[1]} 2 张" in after
    assert "板桥小区·城乡建设" not in after.split('id="clusters"')[1]


async def test_an_alert_shows_on_the_dashboard_and_units_cannot_open_the_radar(
    site: Site, deployment: Any
) -> None:
    numbers, _ = await outage(site)
    for i, t in enumerate(TEXTS[:2], 5):
        numbers.append(
            (
                await site.create(
                    title="停水",
                    content=t,
                    location={"address": "板桥小区"},
                    complainant={"name": f"居民{i}", "phone": f"1390000000{i}"},
                )
            )["number"]
        )
    await radar_sweep(
        now=utcnow(),
        config=load_radar_config(deployment.data_dir),
        gazetteer=deployment.router.routing.gazetteer,
        link_base="http://test",
    )
    sup = await site.login("sup")
    board = (await sup.get("/supervisor")).text
    assert "热点预警" in board and "板桥小区·城乡建设：停水" in board and "5 件" in board
    assert 'href="/radar"' in board
    unit = await site.login("zjj")
    assert (await unit.get("/radar")).status_code == 403
    op = await site.login("op")
    assert (await op.get("/radar")).status_code == 403


async def test_a_batch_without_a_unit_or_with_an_outside_main_ticket_is_refused(
    site: Site,
) -> None:
    numbers, report = await outage(site)
    c = await site.login("sup")
    page = await c.get("/radar")
    token = csrf_of(page.text)
    await c.post(
        "/radar/dispatch",
        data={"csrf_token": token, "tickets": ",".join(numbers), "lead_unit": "", "next": "/radar"},
    )
    await c.post(
        "/radar/merge",
        data={"csrf_token": token, "tickets": ",".join(numbers), "into": report, "next": "/radar"},
    )
    after = (await c.get("/radar")).text
    assert "未派单：请选择承办单位后再批量派单" in after
    assert "未并单：保留的主工单须是本组工单之一" in after
    for n in numbers:  # nothing moved
        r = await c.get(f"/api/v1/tickets/{n}", headers=site.bearer("sup"))
        assert r.json()["status"] == "received"
