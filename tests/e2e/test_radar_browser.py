"""The 热点雷达 page in a real browser against a real server: a supervisor finds the burst of
停水 calls at one compound and dispatches the cluster to one unit (批量派单). Screenshots at
1366×768 go to tests/artifacts/. Skips without /usr/bin/chromium."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.domain.timefmt import SHANGHAI
from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_cli_radar import INSERT
from tests.e2e.test_pages_browser import Person, browser_site

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and not os.environ.get("CI"),
    reason=f"browser tests need {CHROMIUM} (apt-get install chromium)",
)
CALLS = [
    "板桥小区停水一整天了，自来水公司没有任何通知",
    "板桥小区又停水，自来水水压很低，老人做不了饭",
    "板桥小区停水，自来水的管道好像爆了",
    "我家在板桥小区，从早上开始停水，自来水公司电话打不通",
    "板桥小区停水到现在还没来水，自来水什么时候恢复",
]


def test_a_supervisor_dispatches_a_burst_from_the_radar(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path], browser: object
) -> None:
    db = migrated_sqlite("radar.db")
    now = datetime.now(UTC)
    day = now.strftime("%Y%m%d")
    with sqlite3.connect(db) as conn:
        for i, text in enumerate(CALLS, 1):
            at = str(now - timedelta(minutes=60 - 10 * i))
            conn.execute(INSERT, (f"{day}-{i:05d}", "投诉", "小区停水", text, f"居民{i}", at, at))
    accounts = [("chen", "supervisor", [])]
    site = browser_site(tmp_path, db, accounts)
    url = next(site)
    try:
        chen = Person(browser, url)
        chen.sign_in("chen")
        chen.page.goto(f"{url}/radar")
        row = chen.page.locator("#radar-clusters tbody tr").first
        assert "板桥小区·城乡建设：停水" in row.inner_text()
        assert "预警" in row.inner_text()  # five callers within an hour: a burst
        assert chen.overflow() == 0
        chen.shot("radar")
        # A window of one's own: the page shows at once, the clusters fill in when computed.
        since = (now - timedelta(hours=3)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
        chen.page.fill("#r-from", since)
        chen.page.click("#radar-window button[type=submit]")
        chen.page.wait_for_load_state()
        row = chen.page.locator("#radar-clusters tbody tr").first
        assert "板桥小区·城乡建设：停水" in row.inner_text()
        assert "按所选时间段现场计算于" in chen.page.locator("#radar-freshness").inner_text()
        row.locator("form.cluster-dispatch select").select_option("ZJJ")
        row.locator("form.cluster-dispatch button").click()
        chen.page.wait_for_load_state()
        flash = chen.page.locator(".flash.ok").first.inner_text()
        assert flash.startswith("已派单 5 张：")
        chen.shot("radar-dispatched")
        assert chen.errors == []
    finally:
        site.close()
