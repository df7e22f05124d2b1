"""The console's similar tickets: the panel while a call is typed, 并单 of the call in one click,
and the 疑似重复 queue — a web-form repeat waits undispatched until merged or released."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hotline.domain.lifecycle import Status
from hotline.domain.models import Ticket
from hotline.domain.schemas import TicketCreate
from hotline.domain.timefmt import utcnow
from hotline.services import web_intake
from tests.pages.conftest import Site, csrf_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FIRST = {
    "title": "板桥小区停水",
    "content": "A7县星沙镇板桥小区从昨天晚上开始停水，到现在还没有来水，"
    "也没有任何通知，生活很不方便。",
}
AGAIN = {
    "title": "板桥小区停水一天了",
    "content": "板桥小区又停水了，昨晚到现在一直没水，没有任何通知，生活很不方便，请尽快恢复供水。",
}


async def _web_form(site: Site, tmp_path: Path, body: dict[str, Any], key: str) -> Ticket:
    """A citizen's web-form submission, as the form's service records it (auto-dispatch on)."""
    data = TicketCreate.model_validate(
        {"channel": "web", "kind": "投诉", "complainant": {"phone": "13500001111"}, **body}
    )
    record = await web_intake.submit(
        data=data,
        photos=[],
        key=key,
        values=body,
        upload_dir=tmp_path,
        now=utcnow(),
        deployment=site.app.state.deployment,
        auto_dispatch=True,
    )
    return record.ticket


async def test_a_web_form_repeat_waits_and_is_merged_from_the_queue(
    site: Site, tmp_path: Path
) -> None:
    first = await _web_form(site, tmp_path, FIRST, "k1")
    repeat = await _web_form(site, tmp_path, AGAIN, "k2")
    assert first.status == Status.DISPATCHED.value  # confident and alone: dispatched at once
    assert repeat.status == Status.RECEIVED.value  # a likely repeat: not dispatched

    op = await site.login("op")
    queue = (await op.get("/operator/queue")).text
    assert "疑似重复（未自动派单）" in queue
    row = queue.split(f'<tr data-number="{repeat.number}">')[1].split("</tr>")[0]
    assert first.number in row and "同一小区（板桥小区）" in row
    # Not in 待派单, where 按建议派单 would send it to a unit a second time.
    review = queue.split("待派单（需人工核对）")[1].split("</section>")[0]
    assert repeat.number not in review
    r = await op.post(
        f"/tickets/{repeat.number}/act/merge",
        data={"csrf_token": csrf_of(queue), "into": first.number, "next": "/operator"},
    )
    assert r.status_code == 303, r.text
    merged = await Ticket.get(id=repeat.id)
    assert merged.status == Status.MERGED.value and merged.merged_into_id == first.id
    after = (await op.get("/operator/queue")).text
    assert f'<tr data-number="{repeat.number}">' not in after
    # Empty, the group is not shown at all (it would sit at the top of the queues).
    assert "疑似重复（未自动派单）" not in after


async def test_a_held_ticket_dispatched_from_its_page_leaves_the_queue(
    site: Site, tmp_path: Path
) -> None:
    """From its page the operator chooses the unit on purpose: the dispatch ends the hold."""
    await _web_form(site, tmp_path, FIRST, "k1")
    repeat = await _web_form(site, tmp_path, AGAIN, "k2")
    op = await site.login("op")
    page = (await op.get(f"/tickets/{repeat.number}")).text
    r = await op.post(
        f"/tickets/{repeat.number}/act/dispatch",
        data={
            "csrf_token": csrf_of(page),
            "expected_version": str(repeat.version),
            "lead_unit": "ZJJ",
            "next": "/operator",
        },
    )
    assert r.status_code == 303, r.text
    assert (await Ticket.get(id=repeat.id)).status == Status.DISPATCHED.value
    queue = (await op.get("/operator/queue")).text
    assert f'<tr data-number="{repeat.number}">' not in queue
    assert "疑似重复（未自动派单）" not in queue


async def test_releasing_a_held_ticket_dispatches_it(site: Site, tmp_path: Path) -> None:
    await _web_form(site, tmp_path, FIRST, "k1")
    repeat = await _web_form(site, tmp_path, AGAIN, "k2")
    op = await site.login("op")
    queue = (await op.get("/operator/queue")).text
    r = await op.post(
        f"/operator/repeats/{repeat.number}/release", data={"csrf_token": csrf_of(queue)}
    )
    assert r.status_code == 303
    page = (await op.get("/operator")).text
    assert "已确认不是重复，并已按系统建议派单" in page
    assert (await Ticket.get(id=repeat.id)).status == Status.DISPATCHED.value
    after = (await op.get("/operator/queue")).text
    assert f'<tr data-number="{repeat.number}">' not in after
    assert "疑似重复（未自动派单）" not in after
    # Released twice (another operator's stale page): said, nothing changes.
    r = await op.post(
        f"/operator/repeats/{repeat.number}/release", data={"csrf_token": csrf_of(queue)}
    )
    assert "不在疑似重复队列中" in (await op.get("/operator")).text


async def test_the_panel_lists_candidates_and_merges_the_call_in_one_click(
    site: Site, tmp_path: Path
) -> None:
    first = await _web_form(site, tmp_path, FIRST, "k1")
    op = await site.login("op")
    console = (await op.get("/operator")).text
    assert 'id="similar"' in console and "相似工单" in console
    panel = (await op.get("/operator/similar", params=AGAIN)).text
    assert first.number in panel and "同一小区（板桥小区）" in panel and "并入此单" in panel
    empty = (await op.get("/operator/similar", params={"title": "咨询社保卡补办"})).text
    assert "没有找到近期在办的相似工单" in empty

    r = await op.post(
        "/operator/merge",
        data={
            "csrf_token": csrf_of(console),
            "phone": "13600002222",
            "kind": "投诉",
            "urgency": "一般",
            "channel": "phone",
            **AGAIN,
            "into": first.number,
        },
    )
    assert r.status_code == 303, r.text
    call = await Ticket.filter(complainant_phone="13600002222").get()
    assert call.status == Status.MERGED.value and call.merged_into_id == first.id
    assert f"并已并入工单 {first.number}" in (await op.get("/operator")).text
