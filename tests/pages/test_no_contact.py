"""Staff pages keep a reporter's wish not to be contacted in sight, and the callback to 未联系."""

from __future__ import annotations

from typing import Any

from hotline.domain.models import Ticket, TicketEvent
from tests.pages.conftest import Site, csrf_of

NOTICE = "举报人要求不被联系：请勿致电或发短信，回访记为未联系"
PHONE = "13912345678"


async def _replied(site: Site, *, no_contact: bool = True) -> str:
    t = await site.create(
        kind="举报",
        title="举报工地夜间违规施工",
        content="某工地每晚十一点后仍在浇筑混凝土，噪音很大，请查处。",
        complainant={"name": "李四", "phone": PHONE, "no_contact": no_contact},
    )
    confirmed = {"title": "举报工地违规施工", "dispatch_text": "群众举报工地违规施工，请核查。"}
    await site.act(t["number"], "confirm-dispatch-text", "op", confirmed)
    await site.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(t["number"], "sign", "zjj")
    await site.act(t["number"], "reply", "zjj", {"result": "solved", "text": "已责令停工整改。"})
    return t["number"]


def _row(html: str, number: str) -> str:
    section = html[html.index("已回复待回访") :]  # the last queue on the console
    start = section.index(f'<a href="/tickets/{number}">')
    return section[start : section.index("</tr>", start)]


async def test_the_ticket_page_says_so_and_offers_only_not_contacted(site: Site) -> None:
    number = await _replied(site)
    op = await site.login("op")
    page = (await op.get(f"/tickets/{number}")).text
    assert NOTICE in page
    callback = page[page.index('id="act-callback"') :]
    callback = callback[: callback.index("</form>")]
    assert "记录回访：未联系（市民要求不联系）" in callback
    assert 'name="contacted"' not in callback and 'name="satisfaction"' not in callback
    zjj = await site.login("zjj")
    unit_page = (await zjj.get(f"/tickets/{number}")).text
    assert NOTICE in unit_page and PHONE not in unit_page and "李四" not in unit_page


async def test_the_callback_queue_hides_the_phone_and_records_not_contacted(site: Site) -> None:
    quiet, plain = await _replied(site), await _replied(site, no_contact=False)
    op = await site.login("op")
    queue = (await op.get("/operator/queue", headers={"HX-Request": "true"})).text
    row = _row(queue, quiet)
    assert NOTICE in row and PHONE not in row and 'name="contacted"' not in row
    assert "未联系（市民要求不联系）" in row
    other = _row(queue, plain)
    assert PHONE in other and NOTICE not in other and 'name="contacted"' in other
    # The inline form posts without the 「已联系上市民」 box: 未联系, no JS needed.
    r = await op.post(
        f"/tickets/{quiet}/act/callback",
        data={"csrf_token": csrf_of(queue), "next": "/operator"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/operator"
    event = await TicketEvent.get(action="callback")
    assert event.payload["contacted"] is False
    assert (await Ticket.get(number=quiet)).status == "called_back"


async def test_a_forged_contacted_callback_is_refused_in_chinese(site: Site) -> None:
    number = await _replied(site)
    op = await site.login("op")
    token = csrf_of((await op.get(f"/tickets/{number}")).text)
    r = await op.post(
        f"/tickets/{number}/act/callback",
        data={"csrf_token": token, "contacted": "on", "satisfaction": "满意"},
    )
    assert r.status_code == 303
    page = (await op.get(r.headers["location"])).text
    assert "要求不被联系，不能记录为已联系" in page
    assert (await Ticket.get(number=number)).status == "replied"


async def _intake(site: Site, **fields: Any) -> Ticket:
    op = await site.login("op")
    token = csrf_of((await op.get("/operator")).text)
    data = {
        "csrf_token": token,
        "phone": "13900002222",
        "urgency": "一般",
        "channel": "phone",
        "title": "举报餐馆使用地沟油",
        "content": "某餐馆后厨使用回收油，请市场监管部门查处。",
        **fields,
    }
    r = await op.post("/operator/tickets", data=data)
    assert r.status_code == 303, r.text
    number = r.headers["location"].rsplit("=", 1)[-1]
    return await Ticket.get(number=number)


async def test_the_operator_records_the_wish_of_a_phone_report(site: Site) -> None:
    op = await site.login("op")
    form = (await op.get("/operator")).text
    assert 'name="no_contact"' in form and "举报人要求不被联系" in form
    ticket = await _intake(site, kind="举报", no_contact="on")
    assert ticket.no_contact and ticket.confidential
    # A box left ticked after switching to another kind does not count.
    ticket = await _intake(site, kind="投诉", no_contact="on")
    assert not ticket.no_contact
