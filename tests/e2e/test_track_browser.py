"""The citizens' tracking page on a phone-sized browser (360×740, WeChat's user agent) against
a real server: look up a replied ticket, read the reply, rate it, see the thank-you.

Screenshots go to tests/artifacts/track-*.png (git-ignored) for a person to look at.
Skips without /usr/bin/chromium unless CI is set, like the other browser tests.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e import test_pages_browser as staff_pages
from tests.e2e.test_server import MAIN, _cli, _env, _free_port, _needs_model, _stop, _wait_healthy

# The staff pages' skip rule (no chromium, unless CI).
pytestmark = staff_pages.pytestmark
ARTIFACTS = staff_pages.ARTIFACTS

PASSWORD = "track-pass-12"
# WeChat's built-in browser on Android announces itself like this.
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2049A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 NetType/WIFI "
    "Language/zh_CN"
)
REPLY = (
    "您好！关于您反映的小区三号楼电梯长期故障问题，我局已于当日约谈物业服务企业，"
    "责令其更换曳引机配件并完成安全检测，电梯已于次日恢复运行。后续我局将持续跟踪，"
    "如再次出现故障请拨打物业值班电话或 12345 热线。"
)


# A 1×1 blue PNG stands in for the citizen's photos: serving them is the web form's route.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgqP8PAAKAAb+cRkXvAAAAAElFTkSuQmCC"
)


@dataclass
class Site:
    """A real server with an operator's and a 住建局 clerk's API tokens."""

    url: str
    tokens: dict[str, str]
    log: Path
    database: Path

    def add_photos(self, number: str) -> None:
        """Attachments as the web form stores them: two photos and a HEIC one."""
        photos = [
            {"name": f"p{i}.jpg", "content_type": "image/jpeg", "size": 9, "photo": f"{i}.jpg"}
            for i in range(2)
        ] + [{"name": "p.heic", "content_type": "image/heic", "size": 9, "photo": "h.heic"}]
        with sqlite3.connect(self.database) as db:
            db.execute(
                "UPDATE ticket SET attachments = ? WHERE number = ?", (json.dumps(photos), number)
            )

    def call(self, who: str, method: str, path: str, body: object = None) -> dict[str, object]:
        r = httpx.request(
            method,
            f"{self.url}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
        )
        assert r.status_code in (200, 201), r.text
        return r.json()  # type: ignore[no-any-return]

    def ticket(self, title: str, *, reply: bool) -> dict[str, object]:
        t = self.call(
            "op",
            "POST",
            "/tickets",
            {
                "kind": "投诉",
                "category": "城乡建设",
                "title": title,
                "content": "三号楼电梯坏了两个多星期，物业一直不修，老人上下楼很困难。",
                "complainant": {"name": "刘女士", "phone": "13907311846"},
                "auto_dispatch": False,
            },
        )
        number = t["number"]
        self.call("op", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "ZJJ"})
        self.call("zjj", "POST", f"/tickets/{number}/sign", {})
        if reply:
            body = {"result": "solved", "text": REPLY}
            self.call("zjj", "POST", f"/tickets/{number}/reply", body)
        return t


@pytest.fixture
def site(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> Iterator[Site]:
    """A server on a fresh SQLite file; accounts and tokens made with the CLI."""
    _needs_model()
    database = migrated_sqlite("track.db")
    env = _env(f"sqlite://{database}", AUTO_DISPATCH="false", SECRET_KEY="e2e")
    tokens = {}
    for username, role, extra in (("op", "operator", []), ("zjj", "unit", ["--unit", "ZJJ"])):
        added = _cli(
            env, "users", "add", "--username", username, "--role", role, *extra,
            stdin=f"{PASSWORD}\n", cwd=tmp_path,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        issued = _cli(env, "users", "token", username, cwd=tmp_path)
        assert issued.returncode == 0, issued.stderr
        tokens[username] = issued.stdout.strip().splitlines()[-1]
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(MAIN), "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(proc, url, log)
        yield Site(url=url, tokens=tokens, log=log, database=database)
    finally:
        _stop(proc)


class Phone:
    """A 360×740 phone in WeChat; collects console errors (CSP violations included)."""

    def __init__(self, browser: object) -> None:
        self.context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": 360, "height": 740},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            user_agent=WECHAT_UA,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"track-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    def scroll_width(self) -> int:
        return int(self.page.evaluate("document.documentElement.scrollWidth"))


def test_look_up_read_the_reply_and_rate_on_a_phone(site: Site, browser: object) -> None:
    t = site.ticket("小区三号楼电梯长期故障无人维修，老人上下楼困难", reply=True)
    number, code = str(t["number"]), str(t["query_code"])
    waiting = site.ticket("楼下餐馆油烟直排扰民", reply=False)
    phone = Phone(browser)
    page = phone.page

    # The empty form, then a typo in the code: told what to do, the form stays filled.
    page.goto(f"{site.url}/track")
    phone.shot("01-form")
    assert phone.scroll_width() <= 360
    page.get_by_label("工单号").fill(number)
    page.get_by_label("查询码（6 位）").fill("ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY")
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert "工单号或查询码不正确" in page.inner_text("main")
    assert page.get_by_label("工单号").input_value() == number
    phone.shot("02-wrong-code")
    assert phone.scroll_width() <= 360

    # The link on the submit page's success screen.
    page.goto(f"{site.url}/track?number={number}&code={code.lower()}")
    main = page.inner_text("main")
    assert "已答复，请您评价" in main and "A市住房和城乡建设局" in main and "恢复运行" in main
    assert "刘女士" not in main and "13907311846" not in main
    phone.shot("03-replied")
    assert phone.scroll_width() <= 360

    # Only 未解决 chosen: the page (not the browser's English tooltip) asks for the rest.
    page.get_by_label("未解决").check()
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_load_state()
    main = page.inner_text("main")
    assert "评价未提交：请选择 您对办理结果是否满意。" in main
    assert "请选择满意、基本满意或不满意" in main
    assert page.get_by_label("未解决").is_checked()

    # Rate it: radio buttons big enough for a thumb, an optional comment.
    page.get_by_label("基本满意").check()
    page.get_by_label("已解决").check()
    assert page.get_by_label("不满意").bounding_box()["height"] >= 20  # type: ignore[index]
    assert page.locator("label.choice").first.bounding_box()["height"] >= 44  # type: ignore[index]
    page.locator("form#rating").screenshot(path=str(ARTIFACTS / "track-03-rating-form.png"))
    page.get_by_label("意见或建议（可不填，最多 500 字）").fill(
        "电梯修好了，希望物业以后及时维护。"
    )
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{site.url}/track?number=")
    main = page.inner_text("main")
    assert "感谢您的评价（基本满意，问题已解决），已记入回访。" in main
    assert "已回访" in main and page.locator("form#rating").count() == 0
    phone.shot("04-thanks")
    assert phone.scroll_width() <= 360

    # A ticket still being handled: the promised reply date, no rating form, the photos.
    site.add_photos(str(waiting["number"]))
    page.route("**/photos/*", lambda route: route.fulfill(body=PIXEL, content_type="image/png"))
    page.goto(f"{site.url}/track?number={waiting['number']}&code={waiting['query_code']}")
    main = page.inner_text("main")
    assert "办理中" in main and "承诺答复" in main and page.locator("form#rating").count() == 0
    assert page.locator(".photo-grid img").count() == 2 and "HEIC" in main
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    phone.shot("05-handling")
    assert phone.scroll_width() <= 360

    # The supervisors see the rating as a callback of 住建局.
    staff = site.call("op", "GET", f"/tickets/{number}")
    assert staff["status"] == "called_back" and staff["satisfaction"] == "基本满意"
    # The wrong-code page answers 404 and the incomplete rating 422 on purpose; anything else
    # (a CSP violation) fails.
    expected = ("status of 404", "status of 422")
    assert [e for e in phone.errors if not any(x in e for x in expected)] == [], phone.errors
    assert len(phone.errors) <= 2, phone.errors
    # The real access log has the requests, never the query codes.
    log = site.log.read_text()
    assert "GET /track?number=" in log and "code=***" in log
    assert code not in log and code.lower() not in log and str(waiting["query_code"]) not in log
