"""A 举报 in a real browser: held as 待确认转办内容, confirmed with Ctrl+Enter, then the unit
reads only the confirmed text (Playwright + Debian's chromium against a real server)."""

from __future__ import annotations

import re

from tests.e2e.test_pages_browser import Person, open_created, pytestmark, site

__all__ = ["pytestmark", "site"]  # the fixture and the skip, shared

CONTENT = (
    "我叫李建国，身份证430104199001011234，手机13973112345，住在含浦街道枫林小区3栋2单元501室。"
    "我举报小区门口餐馆后厨使用过期食材，卫生条件很差。"
)
SECRETS = ("李建国", "430104", "13973112345", "枫林小区3栋")


def test_a_report_is_confirmed_in_one_keystroke_and_the_unit_reads_only_that(
    site: str, browser: object
) -> None:
    op = Person(browser, site)
    op.sign_in("wang")
    page = op.page
    page.get_by_label("来电号码").fill("13973112345")
    page.get_by_label("诉求人姓名").fill("李建国")
    page.get_by_label("诉求类型").select_option("举报")
    page.get_by_label("标题").fill("李建国举报餐馆使用过期食材")
    page.get_by_label("诉求内容").fill(CONTENT)
    page.keyboard.press("Alt+S")
    page.wait_for_url(re.compile(r"/operator\?created=\d{8}-\d{5}$"))
    assert "确认后再派单" in page.inner_text("main")  # the intake says what to do next
    number = open_created(page)
    assert "待确认转办内容" in page.inner_text(".facts")
    # The cursor waits in the proposal: the operator edits it and confirms with Ctrl+Enter.
    focused = page.evaluate("document.activeElement.id")
    assert focused == "confirm-dispatch-text-dispatch_text"
    proposal = page.input_value("#confirm-dispatch-text-dispatch_text")
    assert "【来电人】" in proposal and "13973112345" not in proposal
    page.keyboard.press("Control+A")
    page.keyboard.type("群众举报：含浦街道某小区门口一家餐馆后厨使用过期食材，请依法检查。")
    # A key press does not wait for the form's navigation (a click does): wait for the new page,
    # or the assertion below may read the old one.
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert "已确认转办内容" in page.inner_text("main")
    assert "待确认转办内容" not in page.inner_text(".facts")
    op.shot("20-report-confirmed")
    page.select_option("#dispatch-lead_unit", "ZJJ")
    page.click("#act-dispatch button[type=submit]")
    page.wait_for_load_state()
    assert "已派单待签收" in page.inner_text(".facts")

    unit = Person(browser, site)
    unit.sign_in("zjj01")
    unit.page.goto(f"{site}/tickets/{number}")
    text = unit.page.inner_text("main")
    assert "请依法检查" in text and [s for s in SECRETS if s in unit.page.content()] == []
    unit.shot("21-unit-reads-confirmed-text")
    assert not op.errors and not unit.errors, (op.errors, unit.errors)
