"""The search page: keywords in content and address found, the matched words marked."""

from __future__ import annotations

import re

from tests.pages.conftest import Site


def _marked(html: str) -> list[str]:
    return re.findall(r"<mark>([^<]*)</mark>", html)


async def test_the_search_page_finds_words_in_the_content_and_marks_them(site: Site) -> None:
    t = await site.create(
        title="夜间施工扰民",
        content="枫林小区旁边的工地每天夜里施工到凌晨两点，噪音很大，<b>无法</b>休息。",
    )
    await site.create(title="路灯不亮", content="路口路灯坏了一个月，晚上出行不便。")
    op = await site.login("op")
    page = await op.get("/tickets", params={"q": "枫林小区 噪音"})
    assert page.status_code == 200
    assert t["number"] in page.text and "路灯不亮" not in page.text
    assert "共 1 张工单" in page.text
    assert _marked(page.text) == ["枫林小区", "噪音"]
    # The snippet is the ticket's own text, escaped like everything else on the page.
    assert "&lt;b&gt;无法&lt;/b&gt;" in page.text and "<b>无法" not in page.text


async def test_a_unit_sees_its_dispatch_text_marked_never_the_original(site: Site) -> None:
    t = await site.create(
        kind="举报",
        title="李建国举报王某受贿",
        content="我叫李建国，电话13912345678，举报某局工作人员王某收受贿赂。",
        complainant={"name": "李建国", "phone": "13912345678"},
    )
    n = t["number"]
    confirmed = {"title": "举报工作人员违规", "dispatch_text": "群众举报有关人员违规，请依法核查。"}
    await site.act(n, "confirm-dispatch-text", "op", confirmed)
    await site.act(n, "dispatch", "op", {"lead_unit": "ZJJ"})
    zjj = await site.login("zjj")
    page = await zjj.get("/tickets", params={"q": "违规"})
    assert n in page.text
    assert _marked(page.text) == ["违规", "违规"]  # in the confirmed title and text
    assert "李建国" not in page.text and "受贿" not in page.text
    for words in ("李建国", "受贿"):
        page = await zjj.get("/tickets", params={"q": words})
        assert n not in page.text and "共 0 张工单" in page.text
