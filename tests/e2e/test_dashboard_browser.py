"""The supervisor dashboard and the administration pages in a real browser (Playwright +
Debian's chromium) against a real server.

Tickets are handled and called back through the API; the supervisor signs in, reads the
rates, urges an overdue ticket from the overdue list and downloads the Excel export; the
admin disables a user and reloads the rules (a broken file first: refused, then fixed).
Screenshots at 1366×768 go to tests/artifacts/. Skips without /usr/bin/chromium.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_pages_browser import PASSWORD, Person
from tests.e2e.test_server import (
    MAIN,
    _cli,
    _data_dir,
    _env,
    _free_port,
    _needs_model,
    _stop,
    _wait_healthy,
)

# CI (CI=true) installs chromium and must run these, so there a missing browser fails them.
pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and not os.environ.get("CI"),
    reason=f"browser tests need {CHROMIUM} (apt-get install chromium)",
)
ACCOUNTS = (
    ("wang", "operator", []),
    ("zjj01", "unit", ["--unit", "ZJJ"]),
    ("rsj01", "unit", ["--unit", "RSJ"]),
    ("chen", "supervisor", []),
    ("root", "admin", []),
)


@dataclass
class Site:
    url: str
    db: Path
    data: Path
    tokens: dict[str, str]

    def act(self, number: str, action: str, who: str, body: dict | None = None) -> dict:
        r = httpx.post(
            f"{self.url}/api/v1/tickets/{number}/{action}",
            json=body or {},
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def create(self, title: str, content: str) -> str:
        r = httpx.post(
            f"{self.url}/api/v1/tickets",
            json={
                "kind": "投诉",
                "category": "城乡建设",
                "title": title,
                "content": content,
                "location": {"address": "A3区含浦街道"},
                "complainant": {"name": "张先生", "phone": "13812345678"},
                "auto_dispatch": False,
            },
            headers={"Authorization": f"Bearer {self.tokens['wang']}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["number"])


@pytest.fixture
def site(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> Iterator[Site]:
    """A real server on a fresh SQLite file and a copy of data/ (the reload edits it)."""
    _needs_model()
    data = tmp_path / "data"
    data.mkdir()
    source = _data_dir()
    for name in ("units.toml", "places.toml", "routing.toml", "sla.toml", "vocabulary.toml"):
        shutil.copy(source / name, data / name)
    shutil.copytree(source / "holidays", data / "holidays")
    for name in ("stopwords.txt", "userdict.txt"):
        if (source / name).exists():
            shutil.copy(source / name, data / name)
    db = migrated_sqlite("dash.db")
    env = _env(
        f"sqlite://{db}",
        AUTO_DISPATCH="false",
        SECRET_KEY="e2e-secret",
        HOTLINE_DATA_DIR=str(data),
        HOTLINE_MODEL_DIR=str(source / "model"),
    )
    tokens = {}
    for username, role, extra in ACCOUNTS:
        added = _cli(
            env, "users", "add", "--username", username, "--role", role, *extra,
            stdin=f"{PASSWORD}\n", cwd=tmp_path,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        token = _cli(env, "users", "token", username, cwd=tmp_path)
        assert token.returncode == 0, token.stderr
        tokens[username] = token.stdout.strip().splitlines()[-1]
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
        yield Site(url, db, data, tokens)
    finally:
        _stop(proc)


def _make_overdue(db: Path, number: str, hours: int) -> None:
    """Move a ticket's earliest deadline into the past (as if the unit had let it run out)."""
    with sqlite3.connect(db) as conn:
        when = datetime.now(UTC) - timedelta(hours=hours)
        conn.execute(
            "UPDATE ticket SET next_due_at = ? WHERE number = ?",
            (when.isoformat(sep=" "), number),
        )


def test_supervisor_and_admin_in_the_browser(site: Site, browser: object) -> None:
    # handled and called back: 住建局 ×2 (满意, 基本满意), 人社局 ×1 (不满意)
    for unit, who, satisfaction in (
        ("ZJJ", "zjj01", "满意"),
        ("ZJJ", "zjj01", "基本满意"),
        ("RSJ", "rsj01", "不满意"),
    ):
        n = site.create("小区电梯长期故障无人维修", "三号楼电梯坏了两个多星期，物业一直不修。")
        site.act(n, "dispatch", "wang", {"lead_unit": unit})
        site.act(n, "sign", who)
        reply = {"result": "solved", "text": "已督促物业更换配件，电梯已恢复运行。"}
        site.act(n, "reply", who, reply)
        site.act(
            n, "callback", "wang",
            {"contacted": True, "satisfaction": satisfaction, "solved": satisfaction != "不满意"},
        )  # fmt: skip
    late = site.create("路灯不亮三周无人修", "小区门口路灯坏了三周，晚上出行不安全。")
    site.act(late, "dispatch", "wang", {"lead_unit": "ZJJ"})
    _make_overdue(site.db, late, 50)

    sup = Person(browser, site.url)
    sup.sign_in("chen")
    assert sup.page.url.endswith("/supervisor")
    page = sup.page
    page.wait_for_selector("#chart-trend[data-drawn]", timeout=20000)
    page.wait_for_selector("#chart-category[data-drawn]")
    zjj = page.locator("tr[data-unit='ZJJ'] td[data-rate='satisfaction_rate']")
    assert zjj.inner_text() == "95%"  # (1 + 0.9) / 2
    rsj = page.locator("tr[data-unit='RSJ'] td[data-rate='satisfaction_rate']")
    assert rsj.inner_text() == "0%"
    assert "满意率 = （满意数 + 0.9 × 基本满意数）" in (
        page.locator("th[title^='满意率']").get_attribute("title") or ""
    )
    # ranked by 满意率: 住建局 first
    assert page.locator("table.rates tbody tr").first.get_attribute("data-unit") == "ZJJ"
    assert late in page.inner_text("#overdue")
    sup.shot("20-supervisor-dashboard")
    assert sup.overflow() <= 0

    # 催办 from the overdue list
    row = page.locator(f"#od-{late}")
    row.locator("input[name=reason]").fill("已超期两天，请今日内签收办理")
    row.locator("button", has_text="催办").click()
    page.wait_for_load_state()
    assert "/supervisor" in page.url
    assert f"工单 {late} 已催办。" in page.inner_text("main")
    page.wait_for_selector("#chart-trend[data-drawn]", timeout=20000)
    sup.shot("21-supervisor-urged")

    # the Excel export: the same number as on the page
    with page.expect_download() as info:
        page.click("#export-xlsx")
    download = info.value
    assert download.suggested_filename.startswith("单位考核指标_")
    book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    sheet = book["各单位"]
    header = [c.value for c in sheet[1]]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["ZJJ"][header.index("满意率")] == 0.95
    assert rows["ZJJ"][header.index("派单数")] == 3
    assert not sup.errors, sup.errors

    # the admin disables a user and reloads the rules
    adm = Person(browser, site.url)
    adm.sign_in("root")
    assert adm.page.url.endswith("/admin")
    a = adm.page
    a.locator("#user-rsj01 button", has_text="停用").click()
    a.wait_for_load_state()
    assert "已停用账号 rsj01。" in a.inner_text("main")
    assert "已停用" in a.inner_text("#user-rsj01")
    adm.shot("22-admin-users")
    assert adm.overflow() <= 0
    r = httpx.get(
        f"{site.url}/api/v1/units", headers={"Authorization": f"Bearer {site.tokens['rsj01']}"}
    )
    assert r.status_code == 401

    routing = site.data / "routing.toml"
    good = routing.read_text(encoding="utf-8")
    routing.write_text(good.replace('lead = "RSJ"', 'lead = "NOSUCH"', 1), encoding="utf-8")
    a.goto(f"{site.url}/admin/rules")
    a.click("#reload-rules")
    a.wait_for_load_state()
    text = a.inner_text("main")
    assert "重新加载失败" in text and "routing.toml:" in text and "NOSUCH" in text
    adm.shot("23-admin-reload-refused")
    routing.write_text(good, encoding="utf-8")
    a.click("#reload-rules")
    a.wait_for_load_state()
    assert "已重新加载" in a.inner_text("main")
    adm.shot("24-admin-rules")
    assert adm.overflow() <= 0
    # a mail the server refused for good, requeued from the outbox page
    with sqlite3.connect(site.db) as conn:
        (mail_id,) = conn.execute(
            "SELECT min(id) FROM outbox_message WHERE transport = 'mail'"
        ).fetchone()
        conn.execute(
            "UPDATE outbox_message SET status = 'failed', attempts = 1, "
            "last_error = '550 5.1.1 <rsj@a.gov.example>: 收件人不存在' WHERE id = ?",
            (mail_id,),
        )
    a.goto(f"{site.url}/admin/outbox")
    assert "收件人不存在" in a.inner_text("#failed")
    adm.shot("27-admin-outbox")
    a.locator(f"#mail-{mail_id} button", has_text="重新排队").click()
    a.wait_for_load_state()
    assert f"邮件 #{mail_id} 已重新排队" in a.inner_text("main")
    assert "没有发送失败的邮件" in a.inner_text("#failed")
    for path, name in (
        ("/admin/units", "25-admin-units"),
        ("/admin/holidays", "26-admin-holidays"),
    ):
        a.goto(f"{site.url}{path}")
        adm.shot(name)
        assert adm.overflow() <= 0, path
    # the server still takes calls after the reloads
    site.create("噪音扰民", "楼下商铺音响声音很大，影响休息。")
    assert not adm.errors, adm.errors
