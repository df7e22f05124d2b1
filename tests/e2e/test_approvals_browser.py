"""挂起 in a real browser: the unit asks, the clock runs on, the request waits in the console's
approvals queue with its reason, and one click there pauses the ticket (Playwright + Debian's
chromium against a real server)."""

from __future__ import annotations

from tests.e2e.test_pages_browser import Person, open_created, pytestmark, site

__all__ = ["pytestmark", "site"]  # the fixture and the skip, shared

REASON = "市民外出，约定下周二上门核实"


def test_a_pause_request_is_approved_from_the_approvals_queue(site: str, browser: object) -> None:
    op = Person(browser, site)
    op.sign_in("wang")
    page = op.page
    page.get_by_label("来电号码").fill("13907311846")
    page.get_by_label("标题").fill("楼上漏水影响住户")
    page.get_by_label("诉求内容").fill("楼上住户卫生间漏水，已经渗到我家天花板，请尽快协调处理。")
    page.keyboard.press("Alt+S")
    number = open_created(page)
    page.select_option("#dispatch-lead_unit", "ZJJ")
    page.click("#act-dispatch button[type=submit]")
    page.wait_for_load_state()

    unit = Person(browser, site)
    unit.sign_in("zjj01")
    unit.page.goto(f"{site}/tickets/{number}")
    unit.page.click("#act-sign button[type=submit]")
    unit.page.wait_for_load_state()
    # 挂起申请: the unit writes why; the ticket waits for the centre, its clock running.
    unit.page.click("#act-pause summary")
    assert "中心同意后才暂停计时" in unit.page.inner_text("#act-pause")
    unit.page.fill("#pause-reason", REASON)
    unit.page.click("#act-pause button[type=submit]")
    unit.page.wait_for_load_state()
    facts = unit.page.inner_text(".facts")
    assert "挂起审核中" in facts
    unit.shot("30-unit-pause-requested")

    page.goto(f"{site}/operator")
    row = page.wait_for_selector(f"#approvals tr[data-number='{number}']")
    text = row.inner_text()
    assert "挂起申请" in text and REASON in text and "A市住房和城乡建设局" in text
    op.shot("31-approvals-queue")
    page.click(f"form[action='/tickets/{number}/act/approve-pause'] button[type=submit]")
    page.wait_for_load_state()
    assert f"工单 {number} 已同意挂起" in page.inner_text("main")
    page.wait_for_selector("#approvals")
    assert page.query_selector(f"#approvals tr[data-number='{number}']") is None
    page.goto(f"{site}/tickets/{number}")
    assert "已挂起" in page.inner_text(".facts")
    op.shot("32-ticket-paused")

    # The unit sees the answer on its workbench and can resume when the citizen is back.
    unit.page.goto(f"{site}/unit")
    assert "同意挂起" in unit.page.inner_text("#g-extension")
    assert not op.errors and not unit.errors, (op.errors, unit.errors)
