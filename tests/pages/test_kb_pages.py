"""The knowledge base pages: list and search, the edit form with its history, the console's
suggestions and 直接办结 with an entry."""

from __future__ import annotations

from typing import Any

from tests.pages.conftest import Site, csrf_of

ENTRY = {
    "title": "停水期间如何取水",
    "questions": "小区停水了怎么办\n什么时候恢复供水",
    "answer": "计划停水会提前公告；临时停水请拨打供水公司抢修电话，应急送水车会到小区门口。",
    "category": "城乡建设",
    "unit_code": "ZJJ",
    "source_name": "A市城市供水管理办法",
    "status": "published",
}


async def _new_entry(site: Site, sup: Any = None, **overrides: Any) -> str:
    """An entry saved through the form; returns its page's path."""
    sup = sup or await site.login("sup")
    token = csrf_of((await sup.get("/kb/new")).text)
    r = await sup.post("/kb", data={"csrf_token": token, **ENTRY, **overrides})
    assert r.status_code == 303, r.text
    return r.headers["location"]


async def test_supervisor_writes_an_entry_and_its_edits_are_in_the_history(site: Site) -> None:
    sup = await site.login("sup")
    path = await _new_entry(site, sup, status="draft")
    page = await sup.get(path)
    assert "已保存知识「停水期间如何取水」（草稿）" in page.text
    assert 'id="kb-form"' in page.text and "修改记录" in page.text and "新建" in page.text
    token = csrf_of(page.text)
    r = await sup.post(
        path,
        data={
            "csrf_token": token,
            **ENTRY,
            "answer": ENTRY["answer"] + "送水车每天 9 点到。",
            "expected_version": "1",
        },
    )
    assert r.status_code == 303
    page = await sup.get(path)
    history = page.text.split('id="kb-history"')[1]
    assert "sup 显示名" in history and "修改" in history
    assert "<b>状态</b>：<del>草稿</del> → 已发布" in history
    assert "送水车每天 9 点到" in history
    # A mistake is said beside its field, and nothing typed is lost.
    r = await sup.post(
        path,
        data={"csrf_token": token, **ENTRY, "source_url": "ftp://x", "expected_version": "2"},
    )
    assert r.status_code == 422 and "依据链接必须以 http:// 或 https:// 开头" in r.text
    assert "未保存" in r.text and ENTRY["answer"] in r.text
    # An edit on an old version is refused with what to do.
    r = await sup.post(path, data={"csrf_token": token, **ENTRY, "expected_version": "1"})
    assert r.status_code == 409 and "刷新" in r.text


async def test_list_search_and_who_sees_what(site: Site) -> None:
    await _new_entry(site)
    await _new_entry(
        site,
        title="燃气报修",
        questions="",
        answer="燃气泄漏请立即关闭阀门并拨打燃气抢修电话。",
        status="draft",
        source_name="",
    )
    op = await site.login("op")
    page = await op.get("/kb?q=供水")
    assert "停水期间如何取水" in page.text and "燃气报修" not in page.text
    assert 'href="/kb">知识库' in page.text  # the nav link
    assert "新建条目" not in page.text  # operators read only
    assert (await op.get("/kb/new")).status_code == 403
    zjj = await site.login("zjj")
    page = await zjj.get("/kb")
    assert "停水期间如何取水" in page.text and "燃气报修" not in page.text  # no drafts for units
    page = await zjj.get("/kb?q=不存在的词")
    assert "没有符合条件的条目" in page.text


async def test_console_suggests_entries_and_answer_records_the_entry(site: Site) -> None:
    path = await _new_entry(site)
    entry_id = path.rsplit("/", 1)[1]
    op = await site.login("op")
    console = await op.get("/operator")
    assert 'id="kb-suggest"' in console.text and 'name="kb_entry"' in console.text
    r = await op.get(
        "/operator/kb-suggest",
        params={"title": "停水咨询", "content": "今天早上突然停水了，想问什么时候恢复供水"},
    )
    assert "停水期间如何取水" in r.text and "<mark>" in r.text and "用此答复" in r.text
    assert "A市住房和城乡建设局" in r.text and "已用 0 次" in r.text
    r = await op.post(
        "/operator/tickets",
        data={
            "csrf_token": csrf_of(console.text),
            "do": "answer",
            "phone": "13900001111",
            "kind": "咨询",
            "urgency": "一般",
            "channel": "phone",
            "title": "停水咨询",
            "content": "今天早上突然停水了，想问什么时候恢复供水。",
            "answer": ENTRY["answer"],
            "kb_entry": entry_id,
        },
    )
    assert r.status_code == 303
    page = await op.get(path)
    assert 'id="kb-uses">1<' in page.text
    r = await op.get(
        "/operator/kb-suggest", params={"title": "停水", "content": "什么时候恢复供水"}
    )
    assert "已用 1 次，最近" in r.text


async def test_a_unit_proposes_its_reply_and_a_supervisor_publishes_it(site: Site) -> None:
    ticket = await site.create(
        kind="咨询", title="住房公积金提取条件", content="想咨询买二手房能不能提取住房公积金。"
    )
    number = ticket["number"]
    await site.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    zjj = await site.login("zjj")
    page = await zjj.get(f"/tickets/{number}")
    assert "建议加入知识库" not in page.text  # nothing to propose before the reply
    await site.act(number, "sign", "zjj")
    reply = "购买二手房可凭网签合同和完税证明申请提取，详询 13812345678 或到公积金中心窗口办理。"
    await site.act(number, "reply", "zjj", {"result": "solved", "text": reply})
    page = await zjj.get(f"/tickets/{number}")
    assert 'id="kb-propose"' in page.text
    r = await zjj.post(f"/tickets/{number}/kb-propose", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    page = await zjj.get(f"/tickets/{number}")
    assert "已建议加入知识库（草稿）" in page.text
    # Proposing twice makes no second draft.
    await zjj.post(f"/tickets/{number}/kb-propose", data={"csrf_token": csrf_of(page.text)})

    sup = await site.login("sup")
    listing = await sup.get("/kb?status=draft")
    assert listing.text.count("住房公积金提取条件") == 1 and "单位建议" in listing.text
    entry = await sup.get("/kb/1")
    assert "网签合同" in entry.text and "13812345678" not in entry.text  # the number masked
    assert f"/tickets/{number}" in entry.text and "单位建议" in entry.text
    form = {
        "csrf_token": csrf_of(entry.text),
        "title": "二手房能否提取住房公积金",
        "answer": "购买二手房可凭网签合同和完税证明到公积金中心申请提取。",
        "unit_code": "ZJJ",
        "status": "published",
        "expected_version": "1",
    }
    assert (await sup.post("/kb/1", data=form)).status_code == 303
    op = await site.login("op")
    r = await op.get(
        "/operator/kb-suggest", params={"title": "公积金", "content": "买二手房可以提取公积金吗"}
    )
    assert "二手房能否提取住房公积金" in r.text


async def test_a_report_is_never_proposed(site: Site) -> None:
    ticket = await site.create(
        kind="举报",
        title="举报工作人员违规",
        content="举报某窗口工作人员收取好处费，我是当事人李某。",
        complainant={"name": "李某", "phone": "13812345678"},
    )
    number = ticket["number"]
    await site.act(
        number,
        "confirm-dispatch-text",
        "op",
        {"title": "举报工作人员违规", "dispatch_text": "群众举报有关工作人员违规，请依法核查。"},
    )
    await site.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(number, "sign", "zjj")
    await site.act(number, "reply", "zjj", {"result": "solved", "text": "经核查已依规处理。"})
    zjj = await site.login("zjj")
    page = await zjj.get(f"/tickets/{number}")
    assert page.status_code == 200 and "建议加入知识库" not in page.text
    r = await zjj.post(f"/tickets/{number}/kb-propose", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 403 and "举报件和保密件的答复不能建议加入知识库" in r.text
    async with site.client() as c:
        r = await c.get("/api/v1/kb", headers=site.bearer("sup"))
    assert r.json()["total"] == 0


async def test_an_entry_expired_meanwhile_is_not_recorded_and_the_answer_stands(
    site: Site,
) -> None:
    sup = await site.login("sup")
    path = await _new_entry(site, sup)
    entry_id = path.rsplit("/", 1)[1]
    page = await sup.get(path)
    expired = {**ENTRY, "status": "expired", "expected_version": "1"}
    assert (
        await sup.post(path, data={"csrf_token": csrf_of(page.text), **expired})
    ).status_code == 303
    op = await site.login("op")
    r = await op.get(
        "/operator/kb-suggest", params={"title": "停水", "content": "什么时候恢复供水"}
    )
    assert "停水期间如何取水" not in r.text and "没有相近的条目" in r.text
    console = await op.get("/operator")
    r = await op.post(
        "/operator/tickets",
        data={
            "csrf_token": csrf_of(console.text),
            "do": "answer",
            "kind": "咨询",
            "urgency": "一般",
            "channel": "phone",
            "title": "停水咨询",
            "content": "今天早上突然停水了，想问什么时候恢复供水。",
            "answer": ENTRY["answer"],
            "kb_entry": entry_id,  # chosen before it expired
        },
    )
    assert r.status_code == 303
    assert "已受理并直接办结" in (await op.get("/operator")).text
    assert 'id="kb-uses">0<' in (await op.get(path)).text
