"""`python main.py search-index rebuild`: the index rebuilt from the tickets, with progress."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.clirunner import run_cli

REPO = Path(__file__).resolve().parents[2]
INSERT = (
    "INSERT INTO ticket (number, query_code, channel, kind, urgency, title, content, address,"
    " district, street, complainant_name, complainant_phone, complainant_email,"
    " complainant_openid, anonymous, confidential, sms_opt_out, no_contact, attachments, status,"
    " routing, needs_review, created_at, updated_at, version) VALUES (?, 'ABCDEF', 'phone',"
    " '投诉', '一般', ?, ?, '', '', '', '', '', '', '', 0, 0, 0, 0, '[]', 'received', '{}', 0,"
    " '2026-01-05 01:00:00+00:00', '2026-01-05 01:00:00+00:00', 1)"
)


def _hits(db: Path, words: str) -> list[int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?", (words,)
        ).fetchall()
    return [r[0] for r in rows]


def test_rebuild_indexes_rows_written_behind_the_services_back(
    migrated_sqlite: Callable[[str], Path],
) -> None:
    db = migrated_sqlite("s.db")
    # Rows written by another program (an import, a restore): the index knows nothing of them.
    with sqlite3.connect(db) as conn:
        conn.execute(INSERT, ("20260105-00001", "楼下噪音", "楼下烧烤店每晚噪音扰民。"))
        conn.execute(INSERT, ("20260105-00002", "停水", "枫林小区停水两天。"))
    assert _hits(db, '"噪音"') == []

    done = run_cli({**os.environ, "DATABASE_URL": f"sqlite://{db}"}, "search-index", "rebuild")

    assert done.returncode == 0, done.stderr
    assert "全文检索索引：2/2 张工单（100%）" in done.stderr
    assert done.stdout.startswith("已重新生成全文检索索引：2 张工单")
    assert _hits(db, '"噪音"') == [1]
    assert _hits(db, '"枫林 林小 小区"') == [2]


def test_search_index_without_a_subcommand_says_how_to_call_it(
    migrated_sqlite: Callable[[str], Path],
) -> None:
    db = migrated_sqlite("s.db")
    done = run_cli({**os.environ, "DATABASE_URL": f"sqlite://{db}"}, "search-index")
    assert done.returncode == 2
    assert "python main.py search-index rebuild" in done.stderr
