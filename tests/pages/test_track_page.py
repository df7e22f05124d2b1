"""The citizens' tracking page over ASGI: progress by number and code, the same answer for a
wrong code and a missing ticket, the shared guessing limits, and the rating that is the
callback (回访)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hotline.domain.models import Ticket, TicketEvent
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.outbox.models import OutboxMessage
from hotline.services.ratelimit import TrackLimiter
from tests.pages.conftest import Site

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

REPLY = "已督促物业更换电梯配件，电梯已恢复运行。"
UNIT_NAME = "A市住房和城乡建设局"


async def replied(site: Site) -> dict[str, Any]:
    """A ticket dispatched to 住建局, signed and replied: ready to be rated."""
    t = await site.create()
    await site.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(t["number"], "sign", "zjj")
    await site.act(t["number"], "reply", "zjj", {"result": "solved", "text": REPLY})
    return t


def _wrong(code: str) -> str:
    return "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"


async def _page(c: httpx.AsyncClient, number: str, code: str) -> httpx.Response:
    return await c.get("/track", params={"number": number, "code": code})


async def _rate(c: httpx.AsyncClient, number: str, code: str, **fields: str) -> httpx.Response:
    data = {"number": number, "code": code, "satisfaction": "满意", "solved": "yes", **fields}
    return await c.post("/track/rating", data=data)


def _text(html: str) -> str:
    """The page's words, without tags (for assertions about what a person reads)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_empty_form_prefills_from_the_query_string(site: Site) -> None:
    async with site.client() as c:
        r = await c.get("/track")
        assert r.status_code == 200
        assert '<link rel="stylesheet" href="/static/track.css">' in r.text
        assert 'name="number"' in r.text and 'name="code"' in r.text
        assert "<script" not in r.text and " style=" not in r.text  # the CSP allows neither
        assert (await c.get("/static/track.css")).status_code == 200
        # The link in a text message has the number only: filled in, the code asked for
        # kindly (no error, nothing counted against the guessing limits).
        r = await c.get("/track", params={"number": "20261122-00001"})
        assert r.status_code == 200 and 'value="20261122-00001"' in r.text
        assert "请输入受理短信或回执上的 6 位查询码" in r.text and 'role="alert"' not in r.text
        r = await c.get("/track", params={"number": "2026-1", "code": "ABCDEF"})
        assert r.status_code == 422 and "工单号格式不对" in r.text
        # The form's address opened by hand (a bookmark): back to the lookup, not a 405.
        r = await c.get("/track/rating")
        assert r.status_code == 303 and r.headers["location"] == "/track"


async def test_the_right_code_shows_status_steps_and_the_reply(site: Site) -> None:
    t = await replied(site)
    async with site.client() as c:
        r = await _page(c, t["number"], t["query_code"].lower())  # any case
    assert r.status_code == 200, r.text
    words = _text(r.text)
    assert "已答复，请您评价" in words and "已回复待回访" in words
    assert t["number"] in words and "小区物业不作为" in words  # the citizen's own title
    assert UNIT_NAME in words and REPLY in words and "已解决" in words
    steps = re.findall(r'<span class="step-label">([^<]+)</span> <time datetime="([^"]+)">', r.text)
    assert [label for label, _ in steps] == ["受理", "派单", "签收", "回复"]
    local_day = utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d")
    assert all(at.endswith("+08:00") for _, at in steps) and local_day in words
    # No personal data: not the complainant's name or phone, not the unit's staff.
    assert "张先生" not in r.text and "13812345678" not in r.text and "zjj" not in r.text
    # Replied: the rating form, with the number and code it needs.
    assert 'action="/track/rating"' in r.text
    assert all(f'value="{s}"' in r.text for s in ("满意", "基本满意", "不满意"))
    assert f'name="code" value="{t["query_code"]}"' in r.text


async def test_while_handling_the_promised_date_shows_and_rating_is_refused(site: Site) -> None:
    t = await site.create()
    await site.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(t["number"], "sign", "zjj")
    async with site.client() as c:
        r = await _page(c, t["number"], t["query_code"])
        assert r.status_code == 200
        assert "办理中" in r.text and "承诺答复" in r.text and re.search(r"\d+年\d+月\d+日", r.text)
        assert 'action="/track/rating"' not in r.text
        refused = await _rate(c, t["number"], t["query_code"])
    assert refused.status_code == 409
    assert "承办单位还没有答复，答复后才能评价" in refused.text
    ticket = await Ticket.get(number=t["number"])
    assert ticket.status == "handling" and ticket.satisfaction is None


async def test_a_wrong_code_answers_exactly_like_a_missing_ticket(site: Site) -> None:
    t = await replied(site)
    missing = "20000101-00001"
    async with site.client() as c:
        wrong = await _page(c, t["number"], _wrong(t["query_code"]))
        absent = await _page(c, missing, "ABCDEF")
        wrong_post = await _rate(c, t["number"], _wrong(t["query_code"]))
        absent_post = await _rate(c, missing, "ABCDEF")
    assert wrong.status_code == absent.status_code == 404
    assert wrong_post.status_code == absent_post.status_code == 404
    # Only the typed values differ (they are put back into the form).
    for a, b in ((wrong, absent), (wrong_post, absent_post)):
        a_body = a.text.replace(t["number"], "N").replace(_wrong(t["query_code"]), "C")
        assert a_body == b.text.replace(missing, "N").replace("ABCDEF", "C")
    assert "工单号或查询码不正确" in wrong.text and "12345" in wrong.text
    assert (await Ticket.get(number=t["number"])).status == "replied"


async def test_the_page_and_the_api_share_the_guessing_limits(site: Site) -> None:
    now = [1_800_000_000.0]
    site.app.state.track_limiter = TrackLimiter(clock=lambda: now[0])
    t = await replied(site)
    wrong = _wrong(t["query_code"])
    async with site.client("203.0.113.9") as c:
        for _ in range(5):
            assert (await _page(c, t["number"], wrong)).status_code == 404
            api = await c.get(f"/api/v1/track/{t['number']}", params={"code": wrong})
            assert api.status_code == 404
        now[0] += 15
        r = await _page(c, t["number"], t["query_code"])  # the right code too: no oracle
        assert r.status_code == 429 and r.headers["retry-after"] == "45"
        assert "查询码错误次数过多，请 45 秒后再试" in r.text and "12345" in r.text
        assert 'value="' + t["number"] + '"' in r.text  # the form stays filled
        posted = await _rate(c, t["number"], t["query_code"])
        assert posted.status_code == 429
        assert (await Ticket.get(number=t["number"])).status == "replied"
        api = await c.get(f"/api/v1/track/{t['number']}", params={"code": t["query_code"]})
        assert api.status_code == 429
        now[0] += 45
        assert (await _page(c, t["number"], t["query_code"])).status_code == 200


async def test_rating_is_the_callback_and_counts_in_the_rates(site: Site) -> None:
    t = await replied(site)
    async with site.client() as c:
        page = await _page(c, t["number"], t["query_code"])
        assert page.status_code == 200
        r = await _rate(
            c, t["number"], t["query_code"], satisfaction="基本满意", solved="no", comment="还行"
        )
        assert r.status_code == 303, r.text
        target = urlsplit(r.headers["location"])
        assert target.path == "/track" and not target.fragment
        assert parse_qs(target.query) == {"number": [t["number"]], "code": [t["query_code"]]}
        thanks = await c.get(r.headers["location"])
    assert thanks.status_code == 200
    assert "感谢您的评价（基本满意，问题未解决），已记入回访。" in thanks.text
    assert "已回访" in thanks.text and 'action="/track/rating"' not in thanks.text
    ticket = await Ticket.get(number=t["number"])
    assert (ticket.status, ticket.satisfaction) == ("called_back", "基本满意")
    event = await TicketEvent.filter(ticket_id=ticket.id, action="callback").get()
    actor = (event.actor_name, event.actor_role, event.actor_id)
    assert actor == ("市民自评（网上）", "citizen", None)
    assert event.payload == {
        "contacted": True,
        "satisfaction": "基本满意",
        "solved": False,
        "note": "还行",
    }
    # The supervisors' figures count it like an operator's callback.
    day = utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d")
    async with site.client() as c:
        rates = await c.get(
            "/api/v1/stats/rates",
            params={"from": day, "to": day, "unit": "ZJJ"},
            headers=site.bearer("sup"),
        )
    zjj = rates.json()["units"][0]
    assert (zjj["callbacks"], zjj["contacted"], zjj["solved"]) == (1, 1, 0)
    assert (zjj["satisfied"], zjj["basically_satisfied"], zjj["unsatisfied"]) == (0, 1, 0)
    assert zjj["satisfaction_rate"] == 0.9 and zjj["response_rate"] == 1.0
    # The centre carries on from there: the operator closes the ticket.
    await site.act(t["number"], "close", "op")


async def test_rating_twice_is_refused_and_changes_nothing(site: Site) -> None:
    t = await replied(site)
    async with site.client() as c:
        assert (await _rate(c, t["number"], t["query_code"])).status_code == 303
        ticket = await Ticket.get(number=t["number"])
        events = await TicketEvent.filter(ticket_id=ticket.id).count()
        again = await _rate(c, t["number"], t["query_code"], satisfaction="不满意", solved="no")
    assert again.status_code == 409
    assert "这张工单已评价或已回访（满意），不能重复评价" in again.text
    after = await Ticket.get(number=t["number"])
    assert (after.version, after.satisfaction) == (ticket.version, "满意")
    assert await TicketEvent.filter(ticket_id=ticket.id).count() == events


async def test_an_incomplete_rating_keeps_what_was_chosen(site: Site) -> None:
    t = await replied(site)
    async with site.client() as c:
        r = await c.post(
            "/track/rating",
            data={"number": t["number"], "code": t["query_code"], "solved": "yes", "comment": "快"},
        )
        long = await _rate(c, t["number"], t["query_code"], comment="很" * 501)
    assert r.status_code == 422
    assert 'id="rating" novalidate' in r.text  # no English browser tooltip: the page answers
    assert "评价未提交：请选择 您对办理结果是否满意。" in r.text
    assert "请选择满意、基本满意或不满意" in r.text and "请选择一项" not in r.text
    assert 'value="yes" required checked' in r.text and ">快</textarea>" in r.text
    assert long.status_code == 422 and "最多 500 个字" in long.text
    assert (await Ticket.get(number=t["number"])).status == "replied"


async def test_a_rating_posted_from_another_site_is_refused(site: Site) -> None:
    t = await replied(site)
    async with site.client() as c:
        for header in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Referer": "https://evil.example/track"},
        ):
            data = {"number": t["number"], "code": t["query_code"], "satisfaction": "满意"}
            r = await c.post("/track/rating", data={**data, "solved": "yes"}, headers=header)
            assert r.status_code == 403 and "请求来源不符" in r.text, header
        assert (await Ticket.get(number=t["number"])).status == "replied"
        # From our own page (the browser's Origin matches the Host) it is recorded.
        ok = await _rate(c, t["number"], t["query_code"])
        assert ok.status_code == 303
    async with site.client() as c:
        t2 = await replied(site)
        r = await c.post(
            "/track/rating",
            data={"number": t2["number"], "code": t2["query_code"], "satisfaction": "满意"}
            | {"solved": "yes"},
            headers={"Origin": "http://test", "Referer": "http://test/track"},
        )
        assert r.status_code == 303


async def test_photos_show_as_thumbnails_and_heic_as_a_download(site: Site) -> None:
    t = await site.create()
    await Ticket.filter(number=t["number"]).update(
        attachments=[
            {"name": "合同.pdf", "content_type": "application/pdf", "size": 10, "url": ""},
            {"name": "a.jpg", "content_type": "image/jpeg", "size": 9, "photo": "ab.jpg"},
            {"name": "b.heic", "content_type": "image/heic", "size": 9, "photo": "cd.heic"},
        ]
    )
    async with site.client() as c:
        r = await _page(c, t["number"], t["query_code"])
        api = await c.get(f"/api/v1/track/{t['number']}", params={"code": t["query_code"]})
    src = f"/track/{t['number']}/photos/1?code={t['query_code']}"
    assert f'<img src="{src}" loading="lazy" alt="照片 1">' in r.text
    assert f'href="/track/{t["number"]}/photos/2?code={t["query_code"]}" download' in r.text
    assert "HEIC" in r.text and "合同.pdf" not in r.text and "photos/0" not in r.text
    assert [(p["index"], p["content_type"]) for p in api.json()["photos"]] == [
        (1, "image/jpeg"),
        (2, "image/heic"),
    ]


async def test_a_merged_repeat_points_to_its_main_ticket(site: Site) -> None:
    main = await replied(site)
    repeat = await site.create(title="小区电梯又坏了")
    await site.act(repeat["number"], "merge", "op", {"into": main["number"]})
    async with site.client() as c:
        r = await _page(c, repeat["number"], repeat["query_code"])
    assert r.status_code == 200
    words = _text(r.text)
    assert "已合并办理" in words and main["number"] in words and REPLY in words
    assert 'action="/track/rating"' not in r.text


async def test_odd_input_is_answered_in_chinese_never_5xx(site: Site) -> None:
    t = await replied(site)
    number, code = t["number"], t["query_code"]
    async with site.client() as c:
        for params in (
            {"number": "2026\x001122-00001", "code": "ABCDEF"},
            {"number": number, "code": "AB\x00DEF"},
            {"number": "1" * 5000, "code": "C" * 5000},
            {"number": "２０２６１１２２-００００１", "code": "ABCDEF"},  # full-width digits
        ):
            r = await c.get("/track", params=params)
            assert r.status_code == 422 and "请核对" in r.text, params
        posts = [
            b"number=" + number.encode() + b"&code=" + code.encode() + b"&satisfaction=%FF%FE",
            b"number=" + number.encode() + b"&code=" + code.encode() + b"&comment=%00&solved=yes",
            b"%%%&&&==",
        ]
        for body in posts:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            r = await c.post("/track/rating", content=body, headers=headers)
            assert r.status_code == 422 and "请" in r.text, body
        big = await c.post(
            "/track/rating",
            content=b"comment=" + b"x" * 2_000_000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert big.status_code == 413 and "请求体过大" in big.text and "重新查询" in big.text
        assert 'action="/track"' in big.text  # the citizen's page, with the lookup form
    assert (await Ticket.get(number=number)).status == "replied"


REPORTER = {"name": "李建国", "phone": "13973112345"}
REPORT_TITLE = "我要举报住建局王五受贿，我是李 建 国，电话139 7311 2345"


async def test_the_title_shown_to_whoever_holds_the_code_names_no_one(site: Site) -> None:
    # Ticket number and query code travel (a forwarded text, a shared screen): the title a
    # reporter typed must not tell the holder who reported, nor how to reach them.
    t = await site.create(
        kind="举报",
        title=REPORT_TITLE,
        content="我举报市住建局工作人员王五收受开发商好处，住在枫林小区3栋2单元501室。",
        complainant=REPORTER,
    )
    async with site.client() as c:
        page = await _page(c, t["number"], t["query_code"])
        api = await c.get(f"/api/v1/track/{t['number']}", params={"code": t["query_code"]})
    assert page.status_code == 200 and api.status_code == 200
    words = _text(page.text)
    assert "我要举报住建局王五受贿，我是【来电人】，电话【手机号】" in words
    assert api.json()["title"] == "我要举报住建局王五受贿，我是【来电人】，电话【手机号】"
    for seen in (words, str(api.json())):
        for leak in ("李建国", "李 建 国", "139 7311 2345", "13973112345"):
            assert leak not in seen, leak


async def test_the_texts_to_the_complainant_carry_nothing_of_the_title(site: Site) -> None:
    # The texts (受理, 答复, 办结) name the ticket by number and link to this page; what they
    # quote is the unit's reply, never the title the complainant typed.
    t = await site.create(title=REPORT_TITLE, complainant=REPORTER)
    await site.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(t["number"], "sign", "zjj")
    await site.act(t["number"], "reply", "zjj", {"result": "solved", "text": REPLY})
    async with site.client() as c:
        assert (await _rate(c, t["number"], t["query_code"])).status_code == 303
    await site.act(t["number"], "close", "op")
    texts = await OutboxMessage.filter(transport="sms", ticket_number=t["number"]).order_by("id")
    assert [s.template for s in texts] == ["created", "reply", "close"]
    for sms in texts:
        assert t["number"] in sms.body and REPLY[:10] in texts[1].body
        for leak in ("李建国", "李 建 国", "139 7311 2345", "13973112345", "王五受贿"):
            assert leak not in sms.body and leak not in str(sms.params), (sms.template, leak)


async def test_after_an_unsolved_rating_the_page_says_the_centre_reviews_it(site: Site) -> None:
    """Not 「工单即将办结」: the ticket waits on the centre, which may send it back (重办)."""
    t = await replied(site)
    async with site.client() as c:
        r = await _rate(c, t["number"], t["query_code"], satisfaction="不满意", solved="no")
        page = _text((await c.get(r.headers["location"])).text)
    assert "即将办结" not in page
    assert "已回访：问题未解决" in page and "工单暂不办结" in page
    assert "热线中心将复核承办单位的答复" in page and "重新办理（重办）" in page
    # What the page promised is what happens: the centre sends it back, the page says 办理中.
    await site.act(t["number"], "reopen", "op", {"reason": "市民反映问题未解决"})
    async with site.client() as c:
        page = _text((await _page(c, t["number"], t["query_code"])).text)
    assert "办理中" in page and "问题未解决" not in page


async def test_after_a_solved_rating_the_page_still_says_it_will_close(site: Site) -> None:
    t = await replied(site)
    async with site.client() as c:
        r = await _rate(c, t["number"], t["query_code"], satisfaction="满意", solved="yes")
        page = _text((await c.get(r.headers["location"])).text)
    assert "工单即将办结" in page and "问题未解决" not in page
