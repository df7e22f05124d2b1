"""The citizen in the loop from the tracking page: 补充说明 (text and photos) shown to the unit
holding the ticket, and 催一催 once the promised reply time has passed, once a day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from hotline.domain.models import Ticket, TicketClock, TicketEvent
from hotline.domain.timefmt import utcnow
from hotline.runtime.deployment import Deployment
from tests.pages.conftest import Site
from tests.pages.test_submit import jpeg

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MORE = "今天早上电梯又困人了，物业说配件还没到，请尽快督促维修。"


async def _handling(site: Site, **overrides: Any) -> dict[str, Any]:
    t = await site.create(**overrides)
    if t["kind"] == "举报":
        text = {"title": "举报物业违规收费", "dispatch_text": "群众举报物业违规收费，请核查。"}
        await site.act(t["number"], "confirm-dispatch-text", "op", text)
    await site.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(t["number"], "sign", "zjj")
    return t


def _ids(t: dict[str, Any]) -> dict[str, str]:
    return {"number": t["number"], "code": t["query_code"]}


async def _overdue(number: str) -> None:
    """The promised reply time has passed (the feedback clock's due time an hour ago)."""
    ticket = await Ticket.get(number=number)
    await TicketClock.filter(ticket_id=ticket.id, kind="feedback", current=True).update(
        due_at=utcnow() - timedelta(hours=1)
    )


async def test_a_supplement_with_a_photo_reaches_the_unit(site: Site) -> None:
    t = await _handling(site)
    async with site.client() as c:
        page = (await c.get("/track", params=_ids(t))).text
        assert 'action="/track/supplement"' in page and 'enctype="multipart/form-data"' in page
        r = await c.post(
            "/track/supplement",
            data={**_ids(t), "supplement": MORE},
            files=[("photos", ("我家门口.jpg", jpeg(), "image/jpeg"))],
        )
        assert r.status_code == 303, r.text
        shown = (await c.get(r.headers["location"])).text
    assert "已收到您的补充说明" in shown and "市民补充说明" in shown
    ticket = await Ticket.get(number=t["number"])
    photo = ticket.attachments[-1]
    assert photo["name"] == "照片1.jpg" and photo["photo"]  # never the citizen's file name
    event = await TicketEvent.get(ticket_id=ticket.id, action="supplement")
    assert event.payload == {"supplement": MORE, "photos": 1} and event.actor_role == "citizen"
    zjj = await site.login("zjj")
    unit_page = (await zjj.get(f"/tickets/{t['number']}")).text
    assert MORE in unit_page and "市民补充" in unit_page


async def test_a_reports_supplement_stays_with_the_centre(site: Site) -> None:
    t = await _handling(site, kind="举报", complainant={"name": "李四", "phone": "13912345678"})
    text = "我是住在三栋的李四，昨天又看到他们收钱了。"
    async with site.client() as c:
        r = await c.post("/track/supplement", data={**_ids(t), "supplement": text})
    assert r.status_code == 303
    zjj = await site.login("zjj")
    unit_page = (await zjj.get(f"/tickets/{t['number']}")).text
    assert "市民补充说明" in unit_page and "李四" not in unit_page and text not in unit_page
    op = await site.login("op")
    assert text in (await op.get(f"/tickets/{t['number']}")).text


async def test_a_short_supplement_is_refused_with_the_text_kept(site: Site) -> None:
    t = await _handling(site)
    async with site.client() as c:
        r = await c.post("/track/supplement", data={**_ids(t), "supplement": "快点"})
        assert r.status_code == 422
        assert (
            "补充说明未提交" in r.text and "5 到 2000 字" in r.text and ">快点</textarea>" in r.text
        )
        # a wrong code opens nothing and adds nothing
        r = await c.post(
            "/track/supplement", data={"number": t["number"], "code": "ZZZZZZ", "supplement": MORE}
        )
        assert r.status_code == 404
    assert not await TicketEvent.filter(action="supplement").exists()


async def test_no_supplement_once_answered(site: Site) -> None:
    t = await _handling(site)
    await site.act(t["number"], "reply", "zjj", {"result": "solved", "text": "电梯已修复。"})
    async with site.client() as c:
        page = (await c.get("/track", params=_ids(t))).text
        assert 'action="/track/supplement"' not in page
        r = await c.post("/track/supplement", data={**_ids(t), "supplement": MORE})
    assert r.status_code == 409 and "已答复或已办结，不能再补充说明" in r.text


async def test_urging_waits_for_the_promised_time_then_once_a_day(site: Site) -> None:
    t = await _handling(site)
    async with site.client() as c:
        page = (await c.get("/track", params=_ids(t))).text
        assert 'action="/track/urge"' not in page  # not due yet: no button
        r = await c.post("/track/urge", data=_ids(t))
        assert r.status_code == 409 and "还没到承诺的答复时间" in r.text
        await _overdue(t["number"])
        page = (await c.get("/track", params=_ids(t))).text
        assert 'action="/track/urge"' in page
        r = await c.post("/track/urge", data=_ids(t))
        assert r.status_code == 303
        shown = (await c.get(r.headers["location"])).text
        assert "已催办" in shown and 'action="/track/urge"' not in shown
        assert "今天已催办" in shown
        r = await c.post("/track/urge", data=_ids(t))
        assert r.status_code == 409 and "今天已经催过了" in r.text
    [event] = await TicketEvent.filter(action="urge")
    assert event.actor_role == "citizen" and "市民在进度查询页催办" in event.payload["reason"]


async def test_another_site_cannot_post_for_the_citizen(site: Site) -> None:
    t = await _handling(site)
    await _overdue(t["number"])
    async with site.client() as c:
        evil = {"Origin": "https://evil.example"}
        r = await c.post("/track/urge", data=_ids(t), headers=evil)
        assert r.status_code == 403
        r = await c.post("/track/supplement", data={**_ids(t), "supplement": MORE}, headers=evil)
        assert r.status_code == 403
    assert not await TicketEvent.filter(action__in=["urge", "supplement"]).exists()


async def test_the_api_does_not_take_a_supplement_from_staff(site: Site) -> None:
    t = await _handling(site)
    async with site.client() as c:
        r: httpx.Response = await c.post(
            f"/api/v1/tickets/{t['number']}/supplement",
            json={"text": MORE, "photos": [{"photo": "../../etc/passwd"}]},
            headers=site.bearer("op"),
        )
    assert r.status_code in (403, 409, 422)
    assert not await TicketEvent.filter(action="supplement").exists()


@pytest.mark.parametrize("beijing_hour", [1, 7, 12, 23])
async def test_once_a_day_holds_at_every_hour_of_the_beijing_day(
    site: Site, deployment: Deployment, beijing_hour: int
) -> None:
    """Between 00:00 and 08:00 Beijing time the UTC date is still yesterday's: the day's bounds
    must be compared as stored (UTC), or an urge made then is not seen and a second one passes."""
    from datetime import datetime, timezone

    from hotline.domain.timefmt import SHANGHAI
    from hotline.services import citizen_followup
    from hotline.services import tickets as ticket_service

    t = await _handling(site)
    ticket = await ticket_service.track_ticket(number=t["number"], code=t["query_code"])
    day = utcnow().astimezone(SHANGHAI).date() + timedelta(days=3)
    urged_at = datetime(day.year, day.month, day.day, beijing_hour, tzinfo=SHANGHAI)
    await TicketClock.filter(ticket_id=ticket.id, kind="feedback", current=True).update(
        due_at=urged_at.astimezone(timezone.utc) - timedelta(hours=1)
    )
    now = urged_at.astimezone(timezone.utc)
    await citizen_followup.urge(ticket=ticket, now=now, deployment=deployment)
    refused = await citizen_followup.urge_refusal(ticket, now=now + timedelta(minutes=30))
    assert refused is not None and refused.code == "urged_today"
    # the next Beijing day the citizen may urge again
    tomorrow = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(days=1, hours=1)
    assert await citizen_followup.urge_refusal(ticket, now=tomorrow) is None
