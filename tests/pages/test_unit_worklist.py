"""The unit's worklist at any size: bounded groups with 「查看更多」, counts, empty groups
left out, a poll that answers 204 while nothing changed, and the links' copy of each ticket
(what the lists read) equal to a recomputation after every kind of action."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.domain.models import TicketUnit
from hotline.services import worklist
from hotline.web.pages import unit as unit_page
from tests.pages.conftest import Site


def section(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"')[1].split("</section>")[0]


async def dispatched(site: Site, n: int, unit: str = "ZJJ") -> list[str]:
    numbers = []
    for i in range(n):
        number = str((await site.create(title=f"待签收工单{i}"))["number"])
        await site.act(number, "dispatch", "op", {"lead_unit": unit})
        numbers.append(number)
    return numbers


async def test_groups_show_their_first_rows_and_a_paged_list_of_the_rest(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    zjj = await site.login("zjj")
    empty = (await zjj.get("/unit")).text
    assert "本单位暂无待办工单" in empty and 'id="g-sign"' not in empty
    numbers = await dispatched(site, 5)
    monkeypatch.setattr(unit_page, "ROWS", 2)
    monkeypatch.setattr(unit_page, "PAGE_ROWS", 2)
    html = (await zjj.get("/unit")).text
    sign = section(html, "g-sign")
    shown = [n for n in numbers if n in sign]
    assert len(shown) == 2 and '<span class="count">5</span>' in sign
    assert 'href="/unit/group/sign"' in sign and "查看更多（共 5 件" in sign
    # Groups with nothing in them are not shown at all (nor in the group bar).
    for empty_group in ("g-handling", "g-supervised", "g-reopened", "g-assist", "g-sub"):
        assert f'id="{empty_group}"' not in html and f'class="has {empty_group}"' not in html
    # The full list pages through every ticket of the group, each once.
    seen: list[str] = []
    page = 1
    while True:
        r = await zjj.get("/unit/group/sign", params={"page": page})
        assert r.status_code == 200 and "待签收" in r.text
        seen += [n for n in numbers if n in r.text]
        if "下一页" not in r.text:
            break
        page += 1
    assert page == 3 and sorted(seen) == sorted(numbers)
    assert (await zjj.get("/unit/group/nosuch")).status_code == 404
    r = await zjj.get("/unit/group/sign", params={"page": "x"})
    assert r.status_code == 422 and "页码必须是 1 到 1000 之间的整数" in r.text
    # Beyond the count cap the count says so.
    monkeypatch.setattr(worklist, "COUNT_CAP", 3)
    html = (await zjj.get("/unit")).text
    assert "待签收 <b>3+</b>" in html


async def test_the_poll_answers_204_until_something_changes(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One fixed minute: the version also turns with the clock (time left is shown).
    fixed = datetime.now(UTC).replace(second=10)
    monkeypatch.setattr(unit_page, "utcnow", lambda: fixed)
    a, b = await dispatched(site, 2)
    zjj = await site.login("zjj")
    html = (await zjj.get("/unit")).text
    poll = re.search(r'hx-get="(/unit/list\?v=[^"]+)"', html)
    assert poll is not None
    url = poll.group(1).replace("&amp;", "&")
    assert (await zjj.get(url)).status_code == 204
    await site.act(a, "sign", "zjj")
    r = await zjj.get(url)
    assert r.status_code == 200 and a in section(r.text, "g-handling")
    fresh = re.search(r'hx-get="(/unit/list\?v=[^"]+)"', r.text)
    assert fresh is not None and (await zjj.get(fresh.group(1))).status_code == 204
    # Without a version (a first poll) the groups come back whole.
    assert b in (await zjj.get("/unit/list")).text


async def test_the_unit_api_lists_its_current_tickets_newest_first(site: Site) -> None:
    a, b, c = await dispatched(site, 3)
    await site.act(b, "sign", "zjj")
    await site.act(c, "reject", "zjj", {"reason": "不属于本单位职责"})
    await site.act(c, "redispatch", "op", {"lead_unit": "RSJ"})
    async with site.client() as client:
        r = await client.get(
            "/api/v1/tickets",
            params={"status": "dispatched,handling", "per_page": 1},
            headers=site.bearer("zjj"),
        )
        body = r.json()
        assert r.status_code == 200 and body["total"] == 2
        assert [t["number"] for t in body["items"]] == [b]  # newest first
        r = await client.get(
            "/api/v1/tickets", params={"status": "dispatched"}, headers=site.bearer("rsj")
        )
        assert [t["number"] for t in r.json()["items"]] == [c]
        r = await client.get(
            "/api/v1/tickets", params={"status": "nosuch"}, headers=site.bearer("zjj")
        )
        assert r.status_code == 422 and "参数 status 取值「nosuch」无效" in r.text


async def assert_copies_right() -> None:
    links = await TicketUnit.all().values_list(
        "ticket_id", "status", "next_due_at", "ticket_created_at", "supervised", "reopened",
        "answered",
    )  # fmt: skip
    expected = await worklist.recomputed(sorted({link[0] for link in links}))
    for ticket_id, *copy in links:
        status, due, created, marks = expected[ticket_id]
        assert tuple(copy) == (
            status, due, created, marks.supervised, marks.reopened, marks.answered
        ), ticket_id  # fmt: skip


REPLY = {"result": "solved", "text": "已处理完毕请查收"}


def lives(target: str) -> dict[str, list[tuple[str, str, Any]]]:
    """Each ticket's steps; the tickets advance interleaved in a random order."""
    return {
        "extended": [
            ("dispatch", "op", {"lead_unit": "ZJJ"}),
            ("sign", "zjj", None),
            ("request-extension", "zjj", {"reason": "需要协调供水公司排查", "days": 3}),
            ("approve-extension", "op", None),
            ("urge", "op", {"reason": "市民再次来电"}),
            ("reply", "zjj", REPLY),
            ("callback", "op", {"contacted": True, "satisfaction": "不满意"}),
            ("reopen", "op", {"reason": "市民不满意"}),
            ("reply", "zjj", REPLY),
        ],
        "disputed": [
            ("dispatch", "op", {"lead_unit": "ZJJ", "assisting_units": ["RSJ"]}),
            ("reject", "zjj", {"reason": "不属于本单位职责"}),
            ("redispatch", "op", {"lead_unit": "RSJ"}),
            ("sign", "rsj", None),
            ("supervise", "sup", {"reason": "市领导批示"}),
            ("reply", "rsj", REPLY),
            ("callback", "op", {"contacted": True, "satisfaction": "基本满意"}),
            ("close", "op", None),
        ],
        "merged": [
            ("dispatch", "op", {"lead_unit": "ZJJ"}),
            ("merge", "op", {"into": target}),
        ],
    }


@pytest.mark.backends
@pytest.mark.parametrize("seed", [1, 2])
async def test_the_links_copy_stays_right_across_every_kind_of_action(
    site: Site, seed: int
) -> None:
    target = str((await site.create(title="并单目标"))["number"])
    await site.act(target, "dispatch", "op", {"lead_unit": "ZJJ"})
    steps = lives(target)
    numbers = {name: str((await site.create(title=name))["number"]) for name in steps}
    rng = random.Random(seed)
    while any(steps.values()):
        name = rng.choice([k for k, v in steps.items() if v])
        action, who, body = steps[name].pop(0)
        await site.act(numbers[name], action, who, body)
        await assert_copies_right()
    # The walk went where it should: the lists read what the copy says.
    async with site.client() as client:
        r = await client.get(
            "/api/v1/tickets", params={"status": "handling"}, headers=site.bearer("zjj")
        )
        assert [t["number"] for t in r.json()["items"]] == []
        r = await client.get(
            "/api/v1/tickets", params={"status": "replied"}, headers=site.bearer("zjj")
        )
        assert [t["number"] for t in r.json()["items"]] == [numbers["extended"]]
