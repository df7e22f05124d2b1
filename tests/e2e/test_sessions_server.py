"""Sign-out against a real `python main.py --workers 2`: a session ended by one worker is
refused by the other."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from hotline.web.session import COOKIE
from tests.e2e.test_server import _cli, _env
from tests.e2e.test_track_limits_server import _serve

KEY = "two-workers-share-this-key"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def two_workers(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> Iterator[str]:
    """Two uvicorn workers on one SQLite file, one shared SECRET_KEY, one operator account."""
    database = migrated_sqlite("limits.db")
    for url in _serve(tmp_path, database, "--workers", "2", SECRET_KEY=KEY):
        env = _env(f"sqlite://{database}", SECRET_KEY=KEY)
        added = _cli(
            env, "users", "add", "--username", "wang", "--role", "operator",
            stdin="long-enough-pass\n", cwd=tmp_path,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        yield url


def _get(base: str, cookie: str, path: str) -> httpx.Response:
    # A fresh connection per request, so both workers answer some of them.
    with httpx.Client(base_url=base, cookies={COOKIE: cookie}, timeout=30.0) as client:
        return client.get(path)


def test_a_sign_out_on_one_worker_holds_on_the_other(two_workers: str) -> None:
    with httpx.Client(base_url=two_workers, timeout=30.0) as browser:
        page = browser.get("/login")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        r = browser.post(
            "/login",
            data={"username": "wang", "password": "long-enough-pass", "csrf_token": token},
        )
        assert r.status_code == 303 and r.headers["location"] == "/operator"
        copy = browser.cookies[COOKIE]
        assert [_get(two_workers, copy, "/tickets").status_code for _ in range(6)] == [200] * 6
        token = CSRF.search(browser.get("/tickets").text).group(1)  # type: ignore[union-attr]
        assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
    after = [_get(two_workers, copy, "/tickets") for _ in range(6)]
    assert [(r.status_code, r.headers.get("location")) for r in after] == [
        (303, "/login?expired=revoked&next=/tickets")
    ] * 6
