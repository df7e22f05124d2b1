"""The pages of the hierarchy: opinions on the ticket and the workbench, the 下派 forms,
the reply draft, and extension days asked in the policy's own unit."""

from __future__ import annotations

import re

from hotline.domain.timefmt import utcnow
from hotline.services.users import create_user, issue_token
from tests.pages.conftest import PASSWORD, Site, csrf_of

MORE = [("sjj", "SJJ"), ("jyj", "JYJ"), ("hanpu", "HANPU"), ("xtp", "HANPU_XTP")]


async def _accounts(site: Site) -> None:
    for username, unit in MORE:
        await create_user(
            username=username, role="unit", password=PASSWORD, now=utcnow(), unit_code=unit
        )
        site.tokens[username] = await issue_token(username=username, now=utcnow())


def _form(html: str, action: str) -> str:
    start = html.index(f'id="act-{action}"')
    return html[start : html.index("</details>", start)]


async def test_the_lead_sees_opinions_and_which_are_missing(site: Site) -> None:
    await _accounts(site)
    t = await site.create()
    n = t["number"]
    await site.act(n, "dispatch", "op", {"lead_unit": "ZJJ", "assisting_units": ["SJJ", "JYJ"]})
    await site.act(n, "sign", "zjj")
    # The assisting unit's page offers its one action and the workbench its own deadline.
    sjj = await site.login("sjj")
    bench = (await sjj.get("/unit")).text
    assert "协办件" in bench and "协办：意见未回" in bench and "剩余" in bench
    page = await sjj.get(f"/tickets/{n}")
    assert 'id="act-assist-opinion"' in page.text and 'id="act-reply"' not in page.text
    r = await sjj.post(
        f"/tickets/{n}/act/assist-opinion",
        data={
            "csrf_token": csrf_of(page.text),
            "text": "该商户证照齐全，已责令整改。",
            "done": "on",
        },
    )
    assert r.status_code == 303
    zjj = await site.login("zjj")
    page = (await zjj.get(f"/tickets/{n}")).text
    assert "协办意见" in page and "1/2 已回" in page and "该商户证照齐全" in page
    reply = _form(page, "reply")
    assert "协办意见已回 1/2" in reply and "A市教育局" in reply
    bench = (await zjj.get("/unit")).text
    assert "1/2 协办意见已回" in bench


async def test_subdispatch_forms_and_the_reply_draft(site: Site) -> None:
    await _accounts(site)
    t = await site.create()
    n = t["number"]
    await site.act(n, "dispatch", "op", {"lead_unit": "HANPU"})
    await site.act(n, "sign", "hanpu")
    hanpu = await site.login("hanpu")
    page = (await hanpu.get(f"/tickets/{n}")).text
    form = _form(page, "subdispatch")
    # Only the street's own communities are offered.
    assert "学堂坡社区" in form and "枫香园社区" in form and "湘堤社区" not in form
    r = await hanpu.post(
        f"/tickets/{n}/act/subdispatch",
        data={"csrf_token": csrf_of(page), "unit": "HANPU_XTP", "limit": "2wd"},
    )
    assert r.status_code == 303
    xtp = await site.login("xtp")
    bench = (await xtp.get("/unit")).text
    assert "下派件" in bench and n in bench and "请签收" in bench
    await site.act(n, "sub-sign", "xtp")
    await site.act(n, "sub-reply", "xtp", {"result": "solved", "text": "社区已上门处理完毕。"})
    bench = (await hanpu.get("/unit")).text
    assert "下派待审核" in bench and "下级已答复，待审核" in bench
    await site.act(n, "sub-approve", "hanpu")
    page = (await hanpu.get(f"/tickets/{n}")).text
    reply = _form(page, "reply")
    assert "社区已上门处理完毕。" in reply  # the approved answer is the reply's draft
    assert (await xtp.get(f"/tickets/{n}")).status_code == 404
    # The community's own figures show its part (the street's rates are its own).
    own = (await xtp.get("/unit")).text
    assert "本月本单位：下派件 1 件，已答复 1 件，按时 1 件" in own


async def test_extension_days_are_asked_in_the_policys_unit(site: Site) -> None:
    t = await site.create()  # 一般诉求: 7d feedback, extension 7 calendar days
    n = t["number"]
    await site.act(n, "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(n, "sign", "zjj")
    zjj = await site.login("zjj")
    form = _form((await zjj.get(f"/tickets/{n}")).text, "request-extension")
    assert "自然日" in form and "工作日" not in form
    assert "最多 7 个" in form and re.search(r'name="days"[^>]*max="7"', form)
    page = (await zjj.get(f"/tickets/{n}")).text
    r = await zjj.post(
        f"/tickets/{n}/act/request-extension",
        data={"csrf_token": csrf_of(page), "reason": "需要协调物业公司", "days": "3"},
    )
    assert r.status_code == 303
    timeline = (await zjj.get(f"/tickets/{n}")).text
    assert "3 个自然日" in timeline  # shown in the unit it was asked in
