"""下派 two levels down on the pages: a street that signed its district's 下派 gets the 下派
form for its own communities, reviews the community's answer, and finds the approved text
in its own 下派答复 form; its workbench keeps the ticket while the community holds it."""

from __future__ import annotations

import re

from hotline.domain.timefmt import utcnow
from hotline.services.users import create_user, issue_token
from tests.pages.conftest import PASSWORD, Site, csrf_of

MORE = [("a3", "A3"), ("hanpu", "HANPU"), ("xtp", "HANPU_XTP")]


async def _accounts(site: Site) -> None:
    for username, unit in MORE:
        await create_user(
            username=username, role="unit", password=PASSWORD, now=utcnow(), unit_code=unit
        )
        site.tokens[username] = await issue_token(username=username, now=utcnow())


def _form(html: str, action: str) -> str:
    start = html.index(f'id="act-{action}"')
    return html[start : html.index("</details>", start)]


async def test_a_street_passes_its_subdispatch_on_and_reviews_it(site: Site) -> None:
    await _accounts(site)
    n = (await site.create())["number"]
    await site.act(n, "dispatch", "op", {"lead_unit": "A3"})
    await site.act(n, "sign", "a3")
    await site.act(n, "subdispatch", "a3", {"unit": "HANPU"})
    hanpu = await site.login("hanpu")
    page = (await hanpu.get(f"/tickets/{n}")).text
    assert 'id="act-subdispatch"' not in page and 'id="act-sub-sign"' in page
    await site.act(n, "sub-sign", "hanpu")
    page = (await hanpu.get(f"/tickets/{n}")).text
    form = _form(page, "subdispatch")
    options = re.findall(r'<option value="([^"]+)"', form)
    assert "HANPU_XTP" in options and "YANGHU_XT" not in options and "HANPU" not in options
    r = await hanpu.post(
        f"/tickets/{n}/act/subdispatch",
        data={"csrf_token": csrf_of(page), "unit": "HANPU_XTP", "limit": "1wd"},
    )
    assert r.status_code == 303, r.text
    bench = (await hanpu.get("/unit")).text
    assert n in bench and "学堂坡社区" in bench
    await site.act(n, "sub-sign", "xtp")
    await site.act(n, "sub-reply", "xtp", {"result": "solved", "text": "健身器材已报修拆除。"})
    page = (await hanpu.get(f"/tickets/{n}")).text
    assert 'id="act-sub-approve"' in page and 'id="act-sub-return"' in page
    a3 = await site.login("a3")
    assert 'id="act-sub-approve"' not in (await a3.get(f"/tickets/{n}")).text
    await site.act(n, "sub-approve", "hanpu")
    page = (await hanpu.get(f"/tickets/{n}")).text
    assert "健身器材已报修拆除。" in _form(page, "sub-reply")
