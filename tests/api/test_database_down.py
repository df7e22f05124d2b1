"""A database that does not answer is a 503 with Retry-After, logged once — not a 500.

Pages answer a Chinese page, the API its JSON error, /healthz its status; the log says the
outage started in one line without a traceback, however many requests it refused.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tortoise.context import TortoiseContext

from hotline.runtime.config import load_settings
from hotline.runtime.db import tortoise_config
from hotline.runtime.deployment import Deployment
from hotline.web.app import create_app


async def _ask(deployment: Deployment, *paths: str) -> httpx.Response:
    """GET each path (the API's ticket list by default) of a fresh app; the last answer."""
    app = create_app(load_settings(), deployment=deployment, manage_db=False, background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in paths or ("/api/v1/tickets",):
            r = await client.get(path, headers={"Authorization": "Bearer some-token"})
        return r


def _assert_503(r: httpx.Response, caplog: pytest.LogCaptureFixture) -> None:
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["message"] == "数据库暂时不可用，请稍后重试"
    _assert_logged_once(caplog)


def _assert_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """One line saying the outage started, and no traceback (it said nothing more)."""
    lines = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.WARNING]
    outage = [m for m in lines if m.startswith("database unavailable (outage starts)")]
    assert len(outage) == 1, lines
    assert not [rec for rec in caplog.records if rec.exc_info], lines


@pytest.fixture
async def gone() -> AsyncIterator[None]:
    """An active database nobody answers for: nothing listens on port 9."""
    async with TortoiseContext() as ctx:
        await ctx.init(
            config=tortoise_config("postgres://postgres@127.0.0.1:9/test", connection="pg")
        )
        yield


async def test_sqlite_file_gone_is_503(
    tmp_path: Path, deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    async with TortoiseContext() as ctx:
        # Connections open at the first query; by then the file's folder is gone.
        await ctx.init(config=tortoise_config(f"sqlite://{folder / 'hotline.sqlite3'}"))
        shutil.rmtree(folder)
        with caplog.at_level(logging.INFO):
            r = await _ask(deployment)
    _assert_503(r, caplog)


async def test_sqlite_locked_by_another_process_is_503(
    tmp_path: Path, deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    file = tmp_path / "hotline.sqlite3"
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(f"sqlite://{file}"))
        await ctx.generate_schemas()
        # Another process (a backup, a stuck admin shell) holds the file's write lock: a
        # write (tracking counts each try) waits SQLite's busy timeout (5 s), then "database
        # is locked". Readers go on under WAL.
        holder = sqlite3.connect(file, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with caplog.at_level(logging.INFO):
                r = await _ask(deployment, "/api/v1/track/20261122-00001?code=ABCDEF")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    _assert_503(r, caplog)
    assert any("database is locked" in rec.getMessage() for rec in caplog.records)


async def test_postgres_not_listening_is_503(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 9: connecting is refused at the first query.
    async with TortoiseContext() as ctx:
        await ctx.init(
            config=tortoise_config("postgres://postgres@127.0.0.1:9/test", connection="pg")
        )
        with caplog.at_level(logging.INFO):
            r = await _ask(deployment)
    _assert_503(r, caplog)


async def test_unexpected_error_is_500_logged_once(
    db: TortoiseContext,
    deployment: Deployment,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hotline.web import http

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(http, "principal_for_token", broken)
    with caplog.at_level(logging.INFO):
        r = await _ask(deployment)
    assert r.status_code == 500
    assert r.json()["error"]["message"] == "服务器内部错误，请稍后重试"
    assert "boom" not in r.text
    assert len([rec for rec in caplog.records if rec.exc_info]) == 1


async def test_pages_answer_a_chinese_page_with_retry_after(
    gone: None, deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    path = "/track?number=20261122-00001&code=ABCDEF"  # a citizen's tracking page
    with caplog.at_level(logging.INFO):
        r = await _ask(deployment, path, path, path)
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert r.headers["content-type"].startswith("text/html")
    assert "系统繁忙" in r.text and "秒后刷新本页重试" in r.text and "12345" in r.text
    # The citizens' layout (我要反映, 进度查询), not the staff's sign-in bar.
    assert "进度查询" in r.text and "登录" not in r.text
    assert "internal_error" not in r.text and "{" not in r.text.split("<body")[1][:200]
    _assert_logged_once(caplog)


async def test_open311_answers_its_own_error_list_with_retry_after(
    gone: None, deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        r = await _ask(deployment, *["/open311/v2/requests.json"] * 3)
    assert r.status_code == 503
    assert int(r.headers["Retry-After"]) > 0
    assert r.json() == [{"code": 503, "description": "数据库暂时不可用，请稍后重试"}]
    _assert_logged_once(caplog)


async def test_healthz_says_when_to_ask_again_and_logs_once(
    gone: None, deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    # A load balancer probes every few seconds: one line for the outage, not one per probe.
    with caplog.at_level(logging.INFO):
        r = await _ask(deployment, "/healthz", "/healthz", "/healthz", "/api/v1/tickets")
    assert r.status_code == 503
    with caplog.at_level(logging.INFO):
        r = await _ask(deployment, "/healthz")
    assert r.status_code == 503
    assert r.json() == {"status": "error", "database": "error"}
    assert int(r.headers["Retry-After"]) > 0
    assert not [rec for rec in caplog.records if rec.exc_info]


async def test_unexpected_error_on_a_page_is_a_chinese_page(
    db: TortoiseContext,
    deployment: Deployment,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hotline.web.pages import track

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(track, "render", broken)
    with caplog.at_level(logging.INFO):
        r = await _ask(deployment, "/track")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("text/html")
    assert "服务器内部错误" in r.text and "拨打 12345" in r.text and "boom" not in r.text
    assert len([rec for rec in caplog.records if rec.exc_info]) == 1
