"""`python main.py anonymise` as an operator runs it (the work itself: tests/api/test_retention)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.clirunner import run_cli

REPO = Path(__file__).resolve().parents[2]


def anonymise(db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli({**os.environ, "DATABASE_URL": f"sqlite://{db}", **env}, "anonymise", cwd=REPO)


def test_anonymise_says_what_it_did_and_refuses_a_bad_retention(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    db = migrated_sqlite("a.db")
    done = anonymise(db)
    assert done.returncode == 0
    assert done.stdout.strip() == "没有需要脱敏的工单（办结超过 365 天的工单均已脱敏）"
    bad = anonymise(db, RETENTION_DAYS="一年")
    assert bad.returncode == 2
    assert (
        bad.stderr.strip()
        == "启动失败：环境变量 RETENTION_DAYS 必须是正整数（天数），现在是「一年」"
    )
