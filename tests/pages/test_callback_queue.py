"""The console's 已回复待回访 queue works by the callback clock: overdue first, then the
soonest due, each with its deadline; its form takes a 回访备注 that the ticket's history
shows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hotline.domain.models import TicketClock
from hotline.domain.timefmt import utcnow
from tests.pages.conftest import Site, csrf_of


async def replied(site: Site, title: str) -> str:
    number = str((await site.create(title=title))["number"])
    await site.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(number, "sign", "zjj")
    await site.act(number, "reply", "zjj", {"result": "solved", "text": f"{title}已处理"})
    return number


def section(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"')[1].split("</section>")[0]


@pytest.mark.backends  # the raw claim and the queue's join, on both databases
async def test_the_callback_queue_is_sorted_by_its_deadline_and_keeps_a_note(site: Site) -> None:
    first = await replied(site, "楼道灯长期不亮")
    soon = await replied(site, "路面井盖松动")
    late = await replied(site, "小区垃圾无人清运")
    now = utcnow()
    await TicketClock.filter(kind="callback", ticket__number=soon).update(
        due_at=now + timedelta(hours=2)
    )
    await TicketClock.filter(kind="callback", ticket__number=late).update(
        due_at=now - timedelta(hours=5)
    )

    op = await site.login("op")
    html = (await op.get("/operator/queue", headers={"HX-Request": "true"})).text
    queue = section(html, "callbacks")
    order = re.findall(r'href="/tickets/([^"#]+)">\1</a>', queue)
    assert order == [late, soon, first]  # overdue first, then the soonest due
    overdue_row = queue.split(f"/tickets/{late}/act/callback")[0].rsplit("<tr>", 1)[1]
    assert "已超回访时限" in overdue_row and queue.count("已超回访时限") == 1
    assert "回访时限" in queue
    assert "回访备注" in queue and f'id="cb-{first}-note"' in queue

    r = await op.post(
        f"/tickets/{first}/act/callback",
        data={
            "csrf_token": csrf_of(html),
            "next": "/operator",
            "contacted": "on",
            "satisfaction": "满意",
            "note": "市民说晚上再去看一次电梯",
        },
    )
    assert r.status_code == 303, r.text
    page = (await op.get(f"/tickets/{first}")).text
    assert "回访备注" in page and "市民说晚上再去看一次电梯" in page
    left = section(
        (await op.get("/operator/queue", headers={"HX-Request": "true"})).text, "callbacks"
    )
    assert first not in left and late in left
