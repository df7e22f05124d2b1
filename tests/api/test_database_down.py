"""A database that does not answer is a 503 with Retry-After, logged once — not a 500."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import httpx
import pytest
from tortoise.context import TortoiseContext

from hotline.runtime.config import load_settings
from hotline.runtime.db import tortoise_config
from hotline.runtime.deployment import Deployment
from hotline.web.app import create_app


async def _ask(deployment: Deployment) -> httpx.Response:
    app = create_app(load_settings(), deployment=deployment, manage_db=False, background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/api/v1/tickets", headers={"Authorization": "Bearer some-token"})


def _assert_503(r: httpx.Response, caplog: pytest.LogCaptureFixture) -> None:
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["message"] == "数据库暂时不可用，请稍后重试"
    tracebacks = [rec for rec in caplog.records if rec.exc_info]
    assert len(tracebacks) == 1, [rec.getMessage() for rec in caplog.records]


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
