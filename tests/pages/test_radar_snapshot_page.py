"""The 热点雷达 page from the background worker's stored window: when it was computed, a new
ticket after the next refresh, a stale result labelled, no result yet computed on the spot,
a chosen window computed after the page shows 「正在计算，请稍候」."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from hotline.domain.radar import load_radar_config
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.services.radar_snapshot import refresh_snapshot
from tests.pages.conftest import Site, csrf_of
from tests.pages.test_radar_page import TEXTS, outage


async def refresh(deployment: Any, *, minutes: float = 0) -> Any:
    now = utcnow() + timedelta(minutes=minutes)
    await refresh_snapshot(
        now=now,
        config=load_radar_config(deployment.data_dir),
        gazetteer=deployment.router.routing.gazetteer,
        owner="test",
    )
    return now


def clusters(html: str) -> str:
    return html.split('id="clusters"')[1]


async def test_the_page_shows_the_stored_window_and_when_it_was_computed(
    site: Site, deployment: Any
) -> None:
    numbers, _ = await outage(site)
    at = await refresh(deployment)
    c = await site.login("sup")
    page = (await c.get("/radar")).text
    assert f"数据更新于 {at.astimezone(SHANGHAI):%H:%M}（每 5 分钟更新）" in page
    assert "板桥小区·城乡建设：停水" in clusters(page)
    assert "后台任务可能未运行" not in page
    late = await site.create(
        title="小区停水",
        content=TEXTS[0],
        location={"address": "板桥小区"},
        complainant={"name": "居民8", "phone": "13900000008"},
    )
    assert late["number"] not in (await c.get("/radar")).text  # not before the next refresh
    later = await refresh(deployment, minutes=5)
    page = (await c.get("/radar")).text
    assert f'href="/tickets/{late["number"]}"' in clusters(page)
    assert f"数据更新于 {later.astimezone(SHANGHAI):%H:%M}" in page


async def test_a_member_merged_since_the_snapshot_is_marked_and_reported(
    site: Site, deployment: Any
) -> None:
    numbers, _ = await outage(site)
    await refresh(deployment)
    await site.act(numbers[2], "merge", "sup", {"into": numbers[0]})
    c = await site.login("sup")
    page = await c.get("/radar")
    assert f'href="/tickets/{numbers[2]}">{numbers[2]}</a><small class="gone">（已并单）' in (
        page.text
    )
    members = re.search(r'name="tickets" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    await c.post(
        "/radar/dispatch",
        data={"csrf_token": csrf_of(page.text), "tickets": members, "lead_unit": "ZJJ"},
    )
    after = (await c.get("/radar")).text
    assert f"已派单 2 张：{numbers[0]}、{numbers[1]}。" in after
    assert f"{numbers[2]} 未能派单：" in after


async def test_a_stale_result_is_labelled(site: Site, deployment: Any) -> None:
    await outage(site)
    await refresh(deployment, minutes=-20)
    c = await site.login("sup")
    page = (await c.get("/radar")).text
    assert "数据已超过 15 分钟未更新，后台任务可能未运行" in page
    assert "按最近 24 小时立即计算" in page


async def test_without_a_stored_result_the_page_computes_and_says_so(site: Site) -> None:
    await outage(site)
    c = await site.login("sup")
    page = (await c.get("/radar")).text
    assert "后台任务尚未计算过热点，本页为打开时现场计算" in page
    assert "板桥小区·城乡建设：停水" in clusters(page)


async def test_a_chosen_window_is_computed_after_the_page_shows(
    site: Site, deployment: Any
) -> None:
    await outage(site)
    await refresh(deployment)
    today = utcnow().astimezone(SHANGHAI).date().isoformat()
    c = await site.login("sup")
    page = (await c.get(f"/radar?from={today}&to={today}")).text
    assert "正在计算，请稍候" in page and "板桥小区·城乡建设" not in page
    fragment = re.search(r'hx-get="([^"]+)"', clusters(page)).group(1)  # type: ignore[union-attr]
    assert fragment == f"/radar/window?from={today}&amp;to={today}"
    part = await c.get(fragment.replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert "<html" not in part.text and "板桥小区·城乡建设：停水" in part.text
    assert "按所选时间段现场计算于" in part.text
    # Without scripts the link opens the whole page, computed.
    whole = (await c.get(fragment.replace("&amp;", "&"))).text
    assert "<html" in whole and "板桥小区·城乡建设：停水" in clusters(whole)
