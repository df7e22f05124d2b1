"""`python main.py migrate`, and start-up against a database whose schema is behind."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.service.test_migrations import MIGRATIONS

REPO = Path(__file__).resolve().parents[2]
LEGACY_SQL = REPO / "tests" / "fixtures" / "legacy" / "schema_sqlite.sql"
BEHIND = (
    f"启动失败：数据库结构不是最新（有 {len(MIGRATIONS)} 个未执行的迁移），"
    "请先运行 python main.py migrate"
)


def main_py(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite://{db}", "RUN_SWEEPER": "false"}
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def legacy_db(path: Path) -> Path:
    """A SQLite file as the first release left it: its schema, a unit and an open clock."""
    with sqlite3.connect(path) as conn:
        conn.executescript(LEGACY_SQL.read_text(encoding="utf-8"))
        conn.executescript(
            """
            INSERT INTO unit (code, name, kind, parent_code, email, active)
                VALUES ('ZJJ', '住建局', 'bureau', '', '', 1);
            INSERT INTO ticket (number, query_code, channel, kind, urgency, title, content,
                address, district, street, complainant_name, complainant_phone,
                complainant_email, complainant_openid, anonymous, confidential, attachments,
                status, routing, needs_review, created_at, updated_at, version)
                VALUES ('20260105-00001', 'K7PQ2M', 'phone', '投诉', '一般', '噪音', '夜间施工',
                '', '', '', '', '', '', '', 0, 0, '[]', 'dispatched', '{}', 0,
                '2026-01-05 01:00:00+00:00', '2026-01-05 01:00:00+00:00', 1);
            INSERT INTO ticket_clock (ticket_id, kind, generation, current, state, "limit",
                started_at, provisional, warned, breached, met_at, detail)
                VALUES (1, 'receipt', 1, 1, 'running', '2h', '2026-01-05 01:00:00+00:00',
                0, 0, 0, NULL, '{}'),
                (1, 'feedback', 1, 1, 'met', '7d', '2026-01-05 01:00:00+00:00',
                0, 0, 0, '2026-01-05 02:00:00+00:00', '{}');
            """
        )
    conn.close()
    return path


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_start_up_on_a_behind_database_names_the_command(tmp_path: Path) -> None:
    db = legacy_db(tmp_path / "old.db")
    before = dump(db)
    for args in (["check"], ["--port", "1"], ["sweeper"]):
        run = main_py(db, *args)
        assert run.returncode == 2, (args, run.stderr)
        assert run.stderr.splitlines() == [BEHIND], args
    assert dump(db) == before


def test_migrate_upgrades_then_says_up_to_date_and_changes_nothing(tmp_path: Path) -> None:
    db = legacy_db(tmp_path / "old.db")
    first = main_py(db, "migrate")
    assert first.returncode == 0, first.stderr
    assert "0001_initial 的结构已经存在，记为已执行" in first.stdout
    assert "已执行迁移 0002_ticket_clock_is_open" in first.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT kind, is_open FROM ticket_clock ORDER BY id").fetchall() == [
            ("receipt", 1),
            ("feedback", 0),
        ]
    conn.close()

    before = dump(db)
    again = main_py(db, "migrate")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "数据库结构已是最新，没有需要执行的迁移"
    assert dump(db) == before

    check = main_py(db, "check")
    assert check.returncode == 0, check.stderr
    assert "配置和数据库检查通过" in check.stdout


def test_migrate_creates_an_empty_database(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    run = main_py(db, "migrate")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [f"已执行迁移 {name}" for name in MIGRATIONS]
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM tortoise_migrations ORDER BY id")]
    conn.close()
    assert names == MIGRATIONS


def test_readme_first_command_on_an_empty_database(tmp_path: Path) -> None:
    """`python main.py demo` needs no migrate step: start-up builds an empty database."""
    db = tmp_path / "demo.db"
    run = main_py(db, "demo", "--no-serve", "--tickets", "3")
    assert run.returncode == 0, run.stderr
    assert "演示账号" in run.stdout
    # The citizens' way in is printed beside the staff's, with the default host and port.
    assert "市民入口：http://127.0.0.1:8000/submit" in run.stdout
    assert main_py(db, "check").returncode == 0


def _rate_rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT ticket_id, ordinal, unit, dispatched_at, dispatched, signed, replied,"
            " replied_on_time FROM rate_assignment ORDER BY id"
        ).fetchall()
    conn.close()
    return rows


def test_migrate_fills_the_rate_rows_of_an_old_event_log(tmp_path: Path) -> None:
    """The rates are sums of rows the old release never wrote: upgrading must fill them,
    or last year's figures would read as zeros."""
    db = legacy_db(tmp_path / "old.db")
    with sqlite3.connect(db) as conn:
        conn.executescript(
            """
            INSERT INTO ticket_event (ticket_id, action, actor_name, actor_role, from_status,
                to_status, payload, public, created_at) VALUES
                (1, 'dispatch', '王', 'operator', 'received', 'dispatched',
                 '{"lead_unit": "ZJJ"}', 1, '2026-01-05 01:00:00+00:00'),
                (1, 'reply', '住建局', 'unit', 'handling', 'replied', '{}', 1,
                 '2026-01-05 02:00:00+00:00');
            """
        )
    conn.close()
    run = main_py(db, "migrate")
    assert run.returncode == 0, run.stderr
    assert "已按事件日志重新生成考核指标明细：派单/改派 1 条，回访 0 条" in run.stdout
    # Not signed (the receipt clock still runs); replied within the met feedback clock.
    expected = [(1, 1, "ZJJ", "2026-01-05 01:00:00+00:00", 1, 0, 1, 1)]
    assert _rate_rows(db) == expected
    again = main_py(db, "migrate")
    assert again.stdout.strip() == "数据库结构已是最新，没有需要执行的迁移"
    # After a rule change, the command recomputes every row from the log.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE rate_assignment SET replied = 0, unit = 'XXX'")
    conn.close()
    rebuilt = main_py(db, "rebuild-rates")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "派单/改派 1 条" in rebuilt.stdout
    assert _rate_rows(db) == expected
