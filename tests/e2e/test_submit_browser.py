"""The citizen web form on a 360 px phone screen (Playwright + Debian's chromium) against a
real server: a citizen makes a mistake, corrects it, attaches a photo and gets the ticket
number and query code. Screenshots go to tests/artifacts/ (git-ignored) for a person to look
at. Skips without /usr/bin/chromium (unless CI is set).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_pages_browser import ARTIFACTS
from tests.e2e.test_server import MAIN, _env, _free_port, _needs_model, _stop, _wait_healthy
from tests.pages.test_submit import jpeg, no_metadata

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and not os.environ.get("CI"),
    reason=f"browser tests need {CHROMIUM} (apt-get install chromium)",
)
PHONE_SCREEN = {"width": 360, "height": 740}


@pytest.fixture
def server(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> Iterator[tuple[str, Path]]:
    """A real server on a fresh SQLite file; photos under tmp_path/uploads."""
    _needs_model()
    uploads = tmp_path / "uploads"
    env = _env(
        f"sqlite://{migrated_sqlite('submit.db')}",
        SECRET_KEY="e2e-secret",
        UPLOAD_DIR=str(uploads),
    )
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
        yield url, uploads
    finally:
        _stop(proc)


def test_a_citizen_submits_on_a_phone(
    server: tuple[str, Path], tmp_path: Path, browser: object
) -> None:
    url, uploads = server
    photo = tmp_path / "路灯.jpg"
    photo.write_bytes(jpeg())  # with GPS EXIF, as a phone writes it
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport=PHONE_SCREEN,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        # WeChat's built-in browser on Android announces itself like this.
        user_agent=(
            "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.47"
        ),
    )
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def fits(name: str) -> None:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE_SCREEN["width"], f"{name}: {width}px wide"

        page.goto(f"{url}/submit")
        fits("submit-01-empty")
        assert page.locator("#no-contact").is_hidden()  # only for 举报 (script loaded)

        # a request for help without a way to answer, and too little said
        page.get_by_label("诉求类型").select_option("求助")
        page.get_by_label("具体情况").fill("路灯坏了")
        page.wait_for_timeout(3100)  # a person takes longer than the form's minimum
        page.get_by_role("button", name="提交").click()
        page.wait_for_load_state()
        assert "还不能提交" in page.inner_text("main")
        assert "至少 10 个字" in page.inner_text("main")
        assert "求助需要答复您" in page.inner_text("#e-phone")
        assert page.get_by_label("具体情况").input_value() == "路灯坏了"
        fits("submit-02-errors")

        page.get_by_label("具体情况").fill(
            "小区门口的路灯坏了一个多月，晚上很黑，老人出门容易摔倒，希望尽快修好。"
        )
        page.get_by_label("所在区县 / 街道").select_option("含浦街道")
        page.get_by_label("详细地址（小区、道路、门牌等）").fill("枫林小区东门")
        page.get_by_label("手机号").fill("13912345678")
        page.get_by_label("照片（可不传）").set_input_files(str(photo))
        page.get_by_role("button", name="提交").click()
        page.wait_for_load_state()
        number = page.inner_text("#number")
        code = page.inner_text("#code")
        assert re.fullmatch(r"\d{8}-\d{5,}", number) and re.fullmatch(r"[A-Z0-9]{6}", code)
        assert "承诺答复时间" in page.inner_text("main")
        fits("submit-03-done")
        # The form with errors is answered 422 on purpose; nothing else may fail (CSP).
        assert [e for e in errors if "(Unprocessable Entity)" not in e] == []
    finally:
        context.close()
    # the photo is on disk without its metadata and served back with the code
    [stored] = [p for p in uploads.rglob("*") if p.is_file()]
    r = httpx.get(f"{url}/track/{number}/photos/0", params={"code": code})
    assert r.status_code == 200 and r.content == stored.read_bytes()
    assert r.headers["content-type"] == "image/jpeg" and no_metadata(r.content)
