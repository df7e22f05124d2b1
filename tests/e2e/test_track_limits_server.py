"""Guessing query codes against a real `python main.py`: forwarded headers and two workers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server import _env, _needs_model, running_server

WRONG = "ZZZZZZ"


def _serve(tmp: Path, database: Path, *args: str, **env_extra: str) -> Iterator[str]:
    _needs_model()
    # A migrated copy: two workers starting on a new file would each try to build it.
    env = _env(f"sqlite://{database}", **env_extra)
    with running_server(tmp, env, *args) as url:
        yield url


def _early_in_a_minute() -> None:
    """Limits count in fixed one-minute windows: start where none ends mid-test."""
    left = 60 - time.time() % 60
    if left < 30:
        time.sleep(left + 0.5)


@pytest.fixture
def two_workers(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> Iterator[str]:
    """Two uvicorn workers, FORWARDED_ALLOW_IPS unset (the default)."""
    database = migrated_sqlite("limits.db")
    yield from _serve(tmp_path, database, "--workers", "2", SECRET_KEY="two-workers-share-this-key")


@pytest.fixture
def behind_proxy(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> Iterator[str]:
    """One worker that trusts X-Forwarded-For from 127.0.0.1 (the proxy in this test)."""
    yield from _serve(tmp_path, migrated_sqlite("limits.db"), FORWARDED_ALLOW_IPS="127.0.0.1")


def test_spoofed_forwarded_headers_and_a_second_worker_do_not_add_guesses(
    two_workers: str,
) -> None:
    # A fresh connection per request, so the two workers both get some.
    _early_in_a_minute()
    statuses = []
    for i in range(14):
        with httpx.Client(base_url=two_workers, timeout=30.0) as client:
            r = client.get(
                "/api/v1/track/20260101-00001",
                params={"code": WRONG},
                headers={"X-Forwarded-For": f"10.0.{i}.1"},
            )
            statuses.append(r.status_code)
    assert statuses == [404] * 10 + [429] * 4
    assert int(r.headers["retry-after"]) >= 1


def test_a_configured_proxy_passes_on_each_clients_address(behind_proxy: str) -> None:
    _early_in_a_minute()
    with httpx.Client(base_url=behind_proxy, timeout=30.0) as client:
        one = [
            client.get(
                "/api/v1/track/20260101-00001",
                params={"code": WRONG},
                headers={"X-Forwarded-For": "203.0.113.1"},
            ).status_code
            for _ in range(11)
        ]
        other = client.get(
            "/api/v1/track/20260101-00002",
            params={"code": WRONG},
            headers={"X-Forwarded-For": "203.0.113.2"},
        )
    assert one == [404] * 10 + [429]
    assert other.status_code == 404  # another client behind the same proxy is not refused
