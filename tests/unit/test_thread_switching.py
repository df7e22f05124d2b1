"""With SQLite, the database thread gets the GIL back within 0.5 ms, not the default 5 ms."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from hotline.runtime.threads import SQLITE_SWITCH_INTERVAL, tune_thread_switching


@pytest.fixture
def interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # CPython's default
    yield
    sys.setswitchinterval(before)


def test_sqlite_shortens_the_switch_interval(interval: None) -> None:
    assert tune_thread_switching("sqlite://db.sqlite3") == pytest.approx(SQLITE_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == pytest.approx(0.0005)


def test_postgresql_keeps_the_default(interval: None) -> None:
    assert tune_thread_switching("postgres://u@127.0.0.1:5432/db") == pytest.approx(0.005)
