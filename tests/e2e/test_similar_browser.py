"""重复件 in a real browser: the second caller about one outage sees the open ticket while the
call is typed; recorded anyway, the call waits in 疑似重复 and is merged (并单) from there;
a third caller's call is merged in one click from the panel (并入此单)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_pages_browser import Person, browser_site, pytestmark  # noqa: F401

TITLE = "板桥小区停水"
CONTENT = "A7县星沙镇板桥小区从昨天晚上开始停水，到现在还没有来水，也没有任何通知。"


@pytest.fixture
def site(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> Iterator[str]:
    """A real server with one operator."""
    yield from browser_site(tmp_path, migrated_sqlite("similar.db"), [("wang", "operator", [])])


def _type_call(page: object, phone: str, title: str, content: str) -> None:
    page.get_by_label("来电号码").fill(phone)  # type: ignore[attr-defined]
    page.get_by_label("标题").fill(title)  # type: ignore[attr-defined]
    page.get_by_label("诉求内容").fill(content)  # type: ignore[attr-defined]


def test_a_repeat_waits_in_the_queue_and_is_merged(site: str, browser: object) -> None:
    op = Person(browser, site)
    op.sign_in("wang")
    page = op.page
    _type_call(page, "13907310001", TITLE, CONTENT)
    page.keyboard.press("Alt+S")
    page.wait_for_url(re.compile(r"/operator\?created=\d{8}-\d{5}$"))
    first = page.url.rsplit("=", 1)[1]

    # The second caller: the open ticket shows beside the form as the call is typed.
    _type_call(
        page,
        "13907310002",
        "板桥小区又停水",
        "板桥小区停水一天了还没来水，也没有通知，请尽快恢复供水。",
    )
    page.wait_for_selector(f"#similar li[data-number='{first}']", timeout=15000)
    item = page.inner_text(f"#similar li[data-number='{first}']")
    assert "同一小区（板桥小区）" in item and "内容相似度" in item
    op.shot("similar-01-panel-while-typing")
    assert op.overflow() <= 0

    # Recorded anyway (受理): it waits in 疑似重复 instead of going to a unit a second time.
    with page.expect_navigation():
        page.keyboard.press("Alt+S")
    page.wait_for_url(re.compile(r"/operator\?created=\d{8}-\d{5}$"))
    second = page.url.rsplit("=", 1)[1]
    assert second != first
    assert "疑似重复：与近期在办的工单很可能是同一件事，未派单" in page.inner_text("main")
    row = page.locator(f"#repeats tr[data-number='{second}']")
    row.wait_for(timeout=15000)
    assert first in row.inner_text() and "同一小区（板桥小区）" in row.inner_text()
    row.scroll_into_view_if_needed()
    op.shot("similar-02-queue")
    assert op.overflow() <= 0
    row.get_by_role("button", name=f"并单到 {first}").click()
    page.wait_for_load_state()
    page.wait_for_selector("#queues section.queue")
    assert page.locator(f"#repeats tr[data-number='{second}']").count() == 0
    # Empty, the 疑似重复 group is gone; 待派单 leads the queues again.
    assert page.locator("#repeats").count() == 0
    op.shot("similar-02b-queue-empty")
    page.goto(f"{site}/tickets/{second}")
    assert "已并单" in page.inner_text(".facts")
    assert first in page.inner_text("main")

    # A third caller: merged from the panel in one click, never a ticket of its own to dispatch.
    page.goto(f"{site}/operator")
    _type_call(page, "13907310003", "板桥小区停水", "我家板桥小区也停水了，什么时候来水？")
    button = page.locator(f"#similar li[data-number='{first}'] button.merge-into")
    button.wait_for(timeout=15000)
    with page.expect_navigation():
        button.click()
    page.wait_for_url(re.compile(r"/operator\?created=\d{8}-\d{5}$"))
    assert f"并已并入工单 {first}" in page.inner_text("main")
    op.shot("similar-03-merged-from-panel")
    assert not [e for e in op.errors if "Content Security Policy" in e], op.errors
