"""A 举报 (or a confidential ticket) reaches a unit only as a text a person confirmed.

It is never dispatched automatically, from any channel: it waits in the operator's queue
with the masked proposal. Once confirmed, the unit's API, pages, print view, workbench,
search and mail carry the confirmed text and nothing derived from the original.
"""

from __future__ import annotations

import dataclasses
import json
import re
from contextlib import aclosing
from typing import Any

import httpx
import pytest

from hotline.domain.models import Ticket, TicketEvent
from hotline.domain.timefmt import utcnow
from hotline.mail.outbox import mail_content
from hotline.outbox.models import OutboxMessage
from hotline.runtime.config import load_settings
from hotline.runtime.deployment import Deployment
from hotline.services.users import create_user, issue_token
from hotline.web.app import create_app
from tests.pages.conftest import PASSWORD, Site, csrf_of
from tests.pages.test_submit import Citizen, receipt
from tests.wechatpeer import AES_KEY, APPID, TOKEN, Peer

CONTENT = (
    "我叫李建国，身份证430104199001011234，手机13973112345，住在含浦街道枫林小区3栋2单元501室。"
    "我举报市住建局工作人员王五在小区违建查处中收受好处费，请纪委调查。"
)
REPORT = {
    "kind": "举报",
    "category": "城乡建设",
    "title": "李建国举报王五收受好处费",
    "content": CONTENT,
    "location": {
        "address": "含浦街道枫林小区3栋2单元501室",
        "latitude": 28.1234,
        "longitude": 112.9876,
    },
    "complainant": {"name": "李建国", "phone": "13973112345"},
    "attachments": [{"name": "李建国身份证.jpg", "url": "https://files.example.cn/430104.jpg"}],
    "auto_dispatch": True,
}
# A confidential complaint (not a 举报) is held to the same rule.
CONFIDENTIAL = {
    **REPORT,
    "kind": "投诉",
    "complainant": {**REPORT["complainant"], "confidential": True},
}
# What a citizen writes on the web form or WeChat: a matter the router is sure of.
ONLINE = (
    "我叫李建国，身份证430104199001011234，手机13973112345，住在含浦街道枫林小区3栋2单元501室。"
    "我举报小区门口超市销售过期食品，价格欺诈，商家不给退货。"
)
OPEN311_KEY = "cityapp-key-0123456789abcdef"
SECRETS = ("李建国", "430104", "13973112345", "枫林小区3栋")
TITLE = "群众举报有关工作人员违规"
TEXT = "群众举报：市住建局一名工作人员在含浦街道某小区违建查处中收受好处费，请依法核查。"


def leaks(text: str) -> list[str]:
    """The reporter's details found in `text`."""
    return [s for s in SECRETS if s in text]


async def unit_account(site: Site) -> str:
    """A RSJ staff member with a mail address (so the dispatch mail has a recipient)."""
    await create_user(
        username="rsj2",
        role="unit",
        password=PASSWORD,
        now=utcnow(),
        unit_code="RSJ",
        email="rsj2@test.example",
    )
    site.tokens["rsj2"] = await issue_token(username="rsj2", now=utcnow())
    return "rsj2"


async def api(site: Site, method: str, path: str, who: str, **kw: Any) -> httpx.Response:
    async with site.client() as c:
        return await c.request(method, path, headers=site.bearer(who), **kw)


async def test_a_report_filed_with_auto_dispatch_waits_for_a_confirmed_text(site: Site) -> None:
    r = await api(site, "POST", "/api/v1/tickets", "op", json=REPORT)
    assert r.status_code == 201, r.text
    ticket = r.json()
    number = ticket["number"]
    # The router would dispatch it at once; the rule holds it in the queue with a proposal.
    assert ticket["routing"]["lead_unit"] and not ticket["routing"]["needs_review"]
    assert ticket["status"] == "received" and ticket["awaiting_confirmation"]
    assert "【来电人】" in ticket["dispatch_text"] and "13973112345" not in ticket["dispatch_text"]
    assert ticket["content"] == CONTENT  # the operator reads the original beside it
    refused = await api(site, "POST", f"/api/v1/tickets/{number}/dispatch", "op", json={})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "dispatch_text_unconfirmed"
    assert "确认转办内容" in refused.json()["error"]["message"]


@pytest.mark.parametrize("filed", [REPORT, CONFIDENTIAL], ids=["report", "confidential"])
async def test_a_unit_reads_only_the_confirmed_text_everywhere(
    site: Site, filed: dict[str, Any]
) -> None:
    who = await unit_account(site)
    ticket = await site.create(**{**filed, "auto_dispatch": False})
    number = ticket["number"]
    # A first confirmation that said too much, corrected before dispatch: the earlier text
    # stays in the event log for the centre, never in what a unit reads.
    await site.act(
        number, "confirm-dispatch-text", "op", {"title": TITLE, "dispatch_text": f"李建国{TEXT}"}
    )
    await site.act(number, "confirm-dispatch-text", "op", {"title": TITLE, "dispatch_text": TEXT})
    confirm = await TicketEvent.filter(ticket__number=number, action="confirm-dispatch-text")
    assert [e.actor_name for e in confirm] == ["op 显示名", "op 显示名"]
    assert confirm[-1].payload["dispatch_text"] == TEXT and confirm[-1].actor_role == "operator"
    stored = await Ticket.get(number=number)
    assert stored.dispatch_confirmed_at == confirm[-1].created_at
    out = await site.act(number, "dispatch", "op", {"lead_unit": "RSJ"})
    assert out["status"] == "dispatched" and out["dispatch_confirmed_at"]

    # The API: the ticket, the list and an action's answer.
    seen = (await api(site, "GET", f"/api/v1/tickets/{number}", who)).json()
    assert (seen["title"], seen["content"], seen["dispatch_text"]) == (TITLE, TEXT, TEXT)
    assert seen["location"]["address"] == "" and seen["location"]["latitude"] is None
    assert seen["attachments"] == [] and seen["complainant"]["name"] == "（保密）"
    assert leaks(json.dumps(seen, ensure_ascii=False)) == []
    listed = (await api(site, "GET", "/api/v1/tickets", who)).json()
    assert listed["total"] == 1 and leaks(json.dumps(listed, ensure_ascii=False)) == []
    signed = await api(site, "POST", f"/api/v1/tickets/{number}/sign", who, json={})
    assert signed.status_code == 200 and leaks(signed.text) == []

    # Search matches only what the unit reads: not the name, the address nor the title.
    for q, hits in (("李建国", 0), ("枫林小区", 0), ("王五", 0), ("依法核查", 1), (TITLE, 1)):
        found = (await api(site, "GET", "/api/v1/tickets", who, params={"q": q})).json()
        assert found["total"] == hits, q
    centre = (await api(site, "GET", "/api/v1/tickets", "op", params={"q": "王五"})).json()
    assert centre["total"] == 1  # the centre searches the original title

    # Pages: ticket, print view, workbench and search.
    browser = await site.login(who)
    async with aclosing(browser):
        pages = {
            "ticket": await browser.get(f"/tickets/{number}"),
            "print": await browser.get(f"/tickets/{number}/print"),
            "workbench": await browser.get("/unit"),
            "search": await browser.get("/tickets", params={"q": "依法核查"}),
        }
        for name, page in pages.items():
            assert page.status_code == 200, name
            assert number in page.text, name
            assert leaks(page.text) == [], name
        assert TEXT in pages["ticket"].text and TEXT in pages["print"].text
        for q in ("李建国", "王五"):
            assert number not in (await browser.get("/tickets", params={"q": q})).text, q
        # Units export nothing: the figures are the centre's.
        export = await browser.get("/api/v1/stats/rates", params={"format": "xlsx"})
        assert export.status_code in (401, 403)

    # The dispatch mail, as rendered into the outbox.
    mails = await OutboxMessage.filter(transport="mail", ticket_number=number, reason="dispatch")
    assert len(mails) == 1
    for mail in mails:
        # Rendered by the sender from the values queued with it.
        sent = mail_content(mail)
        assert TITLE in sent.subject and TEXT in sent.text
        assert leaks(f"{sent.subject}\n{sent.text}\n{sent.html}\n{mail.params}") == []


async def test_dispatch_cannot_slip_an_unconfirmed_text_past_the_confirmation(
    site: Site,
) -> None:
    ticket = await site.create(**{**REPORT, "auto_dispatch": False})
    number = ticket["number"]
    await site.act(number, "confirm-dispatch-text", "op", {"title": TITLE, "dispatch_text": TEXT})
    r = await api(
        site,
        "POST",
        f"/api/v1/tickets/{number}/dispatch",
        "op",
        json={"lead_unit": "RSJ", "dispatch_text": CONTENT},
    )
    assert r.status_code == 422 and "确认转办内容" in r.json()["error"]["message"]
    # An ordinary complaint is dispatched as before, no confirmation needed.
    plain = await site.create(auto_dispatch=False)
    assert not plain["awaiting_confirmation"]
    await site.act(plain["number"], "dispatch", "op", {"lead_unit": "ZJJ"})


async def test_the_operator_confirms_in_one_keystroke_from_the_queue(site: Site) -> None:
    ticket = await site.create(**REPORT)
    number = ticket["number"]
    op = await site.login("op")
    async with aclosing(op):
        queue = (await op.get("/operator/queue")).text
        row = queue[queue.index(number) :][:1500]
        assert "待确认转办内容" in row and f"/tickets/{number}#act-confirm-dispatch-text" in row
        assert f"/tickets/{number}/act/dispatch" not in row  # no 按建议派单 for it
        page = (await op.get(f"/tickets/{number}")).text
        form = page[page.index('id="act-confirm-dispatch-text"') :]
        form = form[: form.index("</form>")]
        assert re.search(r'<details class="action" open\s+id="act-confirm-dispatch-text"', page)
        # The proposal is prefilled, the cursor in it: Ctrl+Enter confirms it as it is.
        textarea = re.search(r"<textarea[^>]*name=\"dispatch_text\"[^>]*>([^<]*)<", form)
        assert textarea and "autofocus" in textarea.group(0)
        assert textarea.group(1) == ticket["dispatch_text"]
        assert f'value="{ticket["dispatch_title"]}"' in form
        r = await op.post(
            f"/tickets/{number}/act/confirm-dispatch-text",
            data={
                "csrf_token": csrf_of(page),
                "title": ticket["dispatch_title"],
                "dispatch_text": textarea.group(1),
            },
        )
        assert r.status_code == 303
        after = (await op.get(f"/tickets/{number}")).text
        assert "待确认转办内容" not in after and "确认</small>" in after
    stored = await Ticket.get(number=number)
    assert stored.dispatch_confirmed_at is not None
    assert stored.dispatch_text == ticket["dispatch_text"]


async def test_web_form_wechat_and_open311_reports_wait_in_the_review_queue(
    site: Site, deployment: Deployment
) -> None:
    citizen = Citizen(site.app)
    r = await citizen.post(kind="举报", content=ONLINE, name="李建国", phone="13973112345")
    assert r.status_code == 200, r.text[:500]
    web_number, _ = receipt(r)

    keys = {"wechat_token": TOKEN, "wechat_appid": APPID, "wechat_aes_key": AES_KEY}
    settings = dataclasses.replace(
        load_settings(), **keys, open311_api_keys=(("cityapp", OPEN311_KEY),)
    )
    app = create_app(settings, deployment=deployment, manage_db=False, background=False)
    peer = Peer()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as wx:
        params, body = peer.safe(peer.text("oReporter_0123456789abcdef", ONLINE))
        reply = await wx.post(
            "/wechat", params=params, content=body, headers={"Content-Type": "text/xml"}
        )
        assert reply.status_code == 200
        filed = await wx.post(
            "/open311/v2/requests.json",
            data={
                "api_key": OPEN311_KEY,
                "service_code": "商贸旅游",
                "address_string": "含浦街道枫林小区门口",
                "description": ONLINE,
                "attribute[kind]": "report",
                "first_name": "建国",
                "last_name": "李",
                "phone": "13973112345",
            },
        )
        assert filed.status_code == 201, filed.text
        open311_number = filed.json()[0]["service_request_id"]
    wechat = await Ticket.get(complainant_openid="oReporter_0123456789abcdef")

    for number in (web_number, wechat.number, open311_number):
        t = await Ticket.get(number=number)
        # Confident routing that would have dispatched it at once.
        assert t.kind == "举报" and t.routing.get("lead_unit") and not t.needs_review
        assert t.status == "received" and t.lead_unit_id is None
    assert await OutboxMessage.filter(transport="mail", reason="dispatch").count() == 0
    op = await site.login("op")
    async with aclosing(op):
        queue = (await op.get("/operator/queue")).text
    assert web_number in queue and wechat.number in queue and open311_number in queue
    assert queue.count("待确认转办内容") >= 3


async def test_supervisors_see_the_same_on_api_page_and_print(site: Site) -> None:
    ticket = await site.create(**{**REPORT, "auto_dispatch": False})
    number = ticket["number"]
    await site.act(number, "confirm-dispatch-text", "op", {"title": TITLE, "dispatch_text": TEXT})
    seen = (await api(site, "GET", f"/api/v1/tickets/{number}", "sup")).json()
    # The reporter's name (to audit the centre's work), numbers and house numbers masked.
    assert seen["complainant"]["name"] == "李建国"
    assert seen["complainant"]["phone"] == "139****2345"
    assert seen["dispatch_text"] == TEXT and seen["dispatch_title"] == TITLE
    hidden = ("430104199001011234", "13973112345", "3栋2单元501室")
    assert not [s for s in hidden if s in json.dumps(seen, ensure_ascii=False)]
    sup = await site.login("sup")
    async with aclosing(sup):
        for path in (f"/tickets/{number}", f"/tickets/{number}/print"):
            html = (await sup.get(path)).text
            assert "李建国" in html and "139****2345" in html and TEXT in html, path
            assert not [s for s in hidden if s in html], path
            assert seen["content"] in html, path


async def test_a_report_dispatched_before_the_rule_shows_units_a_notice_until_confirmed(
    site: Site,
) -> None:
    ticket = await site.create(**{**REPORT, "auto_dispatch": False})
    number = ticket["number"]
    await site.act(number, "confirm-dispatch-text", "op", {"title": TITLE, "dispatch_text": TEXT})
    await site.act(number, "dispatch", "op", {"lead_unit": "RSJ"})
    # As an upgraded database holds it: dispatched with the masked text, never confirmed.
    await Ticket.filter(number=number).update(
        dispatch_confirmed_at=None, dispatch_title=None, dispatch_text=ticket["dispatch_text"]
    )
    seen = (await api(site, "GET", f"/api/v1/tickets/{number}", "rsj")).json()
    assert seen["title"] == seen["content"] == "（转办内容待热线中心确认，请联系热线中心）"
    assert leaks(json.dumps(seen, ensure_ascii=False)) == []
    # The centre confirms it while the unit holds it.
    await site.act(number, "confirm-dispatch-text", "op", {"title": TITLE, "dispatch_text": TEXT})
    seen = (await api(site, "GET", f"/api/v1/tickets/{number}", "rsj")).json()
    assert (seen["title"], seen["content"]) == (TITLE, TEXT)


async def test_a_units_reply_form_does_not_claim_it_reached_a_confidential_reporter(
    site: Site,
) -> None:
    """A unit never sees a 举报 reporter's number: 已联系上市民 starts unticked (it counts in the
    response rate); for an ordinary complaint it starts ticked as before."""
    unit = await unit_account(site)
    numbers = {}
    for kind, body in (("report", REPORT), ("complaint", {**REPORT, "kind": "投诉"})):
        r = await api(site, "POST", "/api/v1/tickets", "op", json={**body, "auto_dispatch": False})
        number = r.json()["number"]
        if r.json()["awaiting_confirmation"]:
            confirm = {"title": TITLE, "dispatch_text": TEXT}
            await api(
                site, "POST", f"/api/v1/tickets/{number}/confirm-dispatch-text", "op", json=confirm
            )
        dispatched = await api(
            site, "POST", f"/api/v1/tickets/{number}/dispatch", "op", json={"lead_unit": "RSJ"}
        )
        assert dispatched.status_code == 200, dispatched.text
        signed = await api(site, "POST", f"/api/v1/tickets/{number}/sign", unit, json={})
        assert signed.status_code == 200, signed.text
        numbers[kind] = number
    c = await site.login(unit)
    async with aclosing(c):
        report = (await c.get(f"/tickets/{numbers['report']}")).text
        complaint = (await c.get(f"/tickets/{numbers['complaint']}")).text
    box = re.compile(r'<input type="checkbox" id="[^"]*" name="contacted" ?(checked)?>')
    assert [m.group(1) for m in box.finditer(report)] == [None]
    assert [m.group(1) for m in box.finditer(complaint)] == ["checked"]
