"""The knowledge base in a real browser: a supervisor writes an entry, an operator typing a call
sees it suggested with the call's words marked, 「用此答复」 fills 当场答复, 直接办结 records the
entry and its use count goes up (issue #20's done-when). Screenshots in tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_pages_browser import Person, browser_site, pytestmark  # noqa: F401

ANSWER = "计划停水会提前公告；临时停水请拨打供水公司抢修电话，应急送水车会到小区门口。"


@pytest.fixture
def site(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> Iterator[str]:
    """A real server with an operator and a supervisor."""
    accounts = [("wang", "operator", []), ("li", "supervisor", [])]
    yield from browser_site(tmp_path, migrated_sqlite("kb.db"), accounts)


def test_suggestion_use_this_answer_and_close_at_once(site: str, browser: object) -> None:
    sup = Person(browser, site)
    sup.sign_in("li")
    sup.page.goto(f"{site}/kb")
    sup.page.click("#kb-new")
    form = sup.page
    form.get_by_label("标题").fill("停水期间如何取水")
    form.get_by_label("市民的其他问法（一行一种）").fill("小区停水了怎么办\n什么时候恢复供水")
    form.get_by_label("答复口径").fill(ANSWER)
    form.select_option("#k-category", "城乡建设")
    form.select_option("#k-unit", "ZJJ")
    form.select_option("#k-status", "published")
    form.click("#kb-form button[type=submit]")
    form.wait_for_url(re.compile(r"/kb/\d+$"))
    entry_path = form.url.split(site, 1)[1]
    assert "已保存知识「停水期间如何取水」（已发布）" in form.inner_text("main")
    sup.shot("kb-01-entry")
    assert sup.overflow() <= 0

    op = Person(browser, site)
    op.sign_in("wang")
    page = op.page
    page.get_by_label("来电号码").fill("13907311846")
    page.select_option("#f-kind", "咨询")
    page.get_by_label("标题").fill("停水咨询")
    page.get_by_label("诉求内容").fill(
        "我家住枫林小区，今天早上突然停水了，也没看到通知，想问问什么时候恢复供水。"
    )
    page.wait_for_selector("#kb-items .kb-item", timeout=15000)
    item = page.locator("#kb-items .kb-item").first
    assert "停水期间如何取水" in item.inner_text() and "A市住房和城乡建设局" in item.inner_text()
    marked = page.locator("#kb-items .kb-item mark").all_inner_texts()
    assert any("恢复供水" in m for m in marked)
    assert "已用 0 次" in item.inner_text()
    op.shot("kb-02-console-suggestion")
    assert op.overflow() <= 0

    item.get_by_role("button", name="用此答复").click()
    assert page.get_by_label("当场答复（仅直接办结时填写）").input_value() == ANSWER
    assert page.input_value("#f-kb_entry") == entry_path.rsplit("/", 1)[1]
    op.shot("kb-03-answer-filled")
    # The console is already at /operator: wait for the navigation itself, not for the address.
    with page.expect_navigation(url=re.compile(r"/operator$")):
        page.keyboard.press("Alt+D")
    assert "已受理并直接办结" in page.inner_text("main")

    page.goto(f"{site}{entry_path}")
    assert page.inner_text("#kb-uses") == "1"
    op.shot("kb-04-entry-used")
    sup.page.goto(f"{site}/kb?q=停水")
    assert "停水期间如何取水" in sup.page.inner_text("#kb-entries")
    sup.shot("kb-05-list")
    assert sup.overflow() <= 0
    assert not op.errors, op.errors
    assert not sup.errors, sup.errors
