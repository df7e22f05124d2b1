"""The incoming call in a real browser: a script playing the switch posts Zammad's Generic CTI
events to a real server; the console of the operator who answered fills the caller's number
and shows their history, without a reload; the call is logged, a missed one returned."""

from __future__ import annotations

import json
import re
import time

import httpx
from playwright.sync_api import expect

from tests.e2e.test_pages_browser import CTI_TOKEN, Person, pytestmark, site

__all__ = ["pytestmark", "site"]  # the fixture and the skip, shared

CALLER = "13907311846"


class Switch:
    """What a PBX configured for Zammad's Generic CTI sends: form posts, user[] repeated."""

    def __init__(self, site: str) -> None:
        self.url = f"{site}/api/v1/cti/{CTI_TOKEN}"

    def send(self, event: str, call_id: str, **fields: str) -> None:
        data = {"event": event, "from": CALLER, "to": "12345", "direction": "in",
                "callId": call_id, **fields}  # fmt: skip
        r = httpx.post(self.url, data=data, timeout=5)
        assert r.status_code == 200 and r.json() == {}, r.text


def test_an_answered_call_pops_on_the_console_and_is_logged(site: str, browser: object) -> None:
    op = Person(browser, site)
    op.sign_in("wang")
    page = op.page
    assert page.url.endswith("/operator")
    switch = Switch(site)
    switch.send("newCall", "call-1", queue="热线", **{"user[]": "wang"})
    started = time.monotonic()
    switch.send("answer", "call-1", answeringNumber="wang")
    expect(page.locator("#f-phone")).to_have_value(CALLER, timeout=10000)
    print(f"pop after answer: {time.monotonic() - started:.2f} s")
    assert "正在通话：" + CALLER in page.inner_text("#incoming")
    assert page.input_value("#f-call_id") == "call-1"
    # the caller's history box loads for the number (htmx, on the input event)
    expect(page.locator("#caller")).not_to_contain_text("输入来电号码后显示", timeout=10000)
    op.shot("30-cti-pop")
    page.get_by_label("标题").fill("小区夜间施工噪音扰民")
    page.get_by_label("诉求内容").fill("小区旁工地每天夜里施工到凌晨，噪音很大，请尽快处理。")
    page.keyboard.press("Alt+S")
    page.wait_for_url(re.compile(r"/operator\?created=\d{8}-\d{5}$"))
    number = page.url.rsplit("=", 1)[1]
    switch.send("hangup", "call-1", cause="normalClearing", answeringNumber="wang")
    ticket = json.loads(page.context.request.get(f"{site}/api/v1/tickets/{number}").text())
    assert ticket["call_id"] == "call-1" and ticket["complainant"]["phone"] == CALLER
    # the reloaded console does not pop the same call again
    page.wait_for_timeout(1500)
    assert page.input_value("#f-phone") == "" and page.is_hidden("#incoming")

    # a call nobody answered is a missed call, returned from the call log
    switch.send("newCall", "call-2")
    switch.send("hangup", "call-2", cause="cancel")
    page.goto(f"{site}/calls?missed=1")
    row = page.locator("#calls tr.call-missed").first
    assert "来电人挂断" in row.inner_text()
    op.shot("31-call-log-missed")
    row.get_by_role("button", name="记为已回拨").click()
    page.wait_for_load_state()
    assert "已记录回拨" in page.inner_text("main")
    page.goto(f"{site}/calls")
    text = page.inner_text("#calls")
    assert "已结束" in text and "已回拨" in text
    assert not op.errors, op.errors
