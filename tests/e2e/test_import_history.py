"""python main.py import-history: a city's past tickets from its old platform's export, as
closed tickets with their original times, classified and placed; the same file twice adds
nothing; unreadable rows are listed with their line and reason."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.clirunner import run_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "wangshang.csv"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "raw"
RAW = SHARED / "tipdm2020_messages_with_replies.csv"


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite://{db}", "RUN_SWEEPER": "false"}
    return run_cli(env, *args)


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_wangshang_export_is_imported_once_with_its_bad_rows_listed(
    migrated_sqlite: Callable[[str], Path],
) -> None:
    db = migrated_sqlite("h.db")
    first = cli(db, "import-history", str(FIXTURE))
    assert first.returncode == 0, first.stderr
    assert "共 6 行：已导入 3 张，此前已导入 0 张，无法导入 3 行" in first.stdout
    # each refusal names its line in the file (the first record spans lines 2–4) and why
    assert "第 6 行未导入：留言主题为空或太短" in first.stderr
    assert "第 7 行未导入：留言时间「下周二」不是可识别的时间" in first.stderr
    assert "第 8 行未导入：编号 9001 与第 4 行重复" in first.stderr
    tickets = rows(
        db,
        "SELECT external_id, status, channel, kind, district, street, created_at, closed_at,"
        " title FROM ticket ORDER BY external_id",
    )
    assert [t[0] for t in tickets] == ["9001", "9002", "9005"]
    noise, social, lamp = tickets
    assert noise[1:6] == ("closed", "web", "投诉", "A3区", "含浦街道")
    assert noise[6].startswith("2019-04-25 01:32:09") and noise[7].startswith("2019-05-10 06:56:53")
    assert social[3] == "咨询" and social[6].startswith("2019-04-08 00:37:20")  # Excel serial
    assert social[7] == social[6]  # no reply: closed when received
    # the reply is the lead unit's, at its time; the tabs and newlines of the export are gone
    events = rows(
        db,
        "SELECT e.action, e.actor_role, e.payload FROM ticket_event e JOIN ticket t"
        " ON t.id = e.ticket_id WHERE t.external_id = '9001' ORDER BY e.id",
    )
    assert [(a, r) for a, r, _ in events] == [
        ("create", "system"),
        ("reply", "unit"),
        ("close", "system"),
    ]
    assert "已责令施工单位停止夜间施工" in json.loads(str(events[1][2]))["text"]
    content = rows(db, "SELECT content FROM ticket WHERE external_id = '9001'")[0][0]
    assert "\t" not in content and content.startswith("含浦街道枫林小区旁工地")
    # no rate rows: the old platform's work is not the centre's to be audited for
    assert rows(db, "SELECT COUNT(*) FROM rate_assignment") == [(0,)]

    again = cli(db, "import-history", str(FIXTURE))
    assert "已导入 0 张，此前已导入 3 张" in again.stdout
    assert rows(db, "SELECT COUNT(*) FROM ticket") == [(3,)]


def test_an_xlsx_export_with_a_column_map_and_a_dry_run(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["工单编号", "标题", "来电时间", "诉求内容", "处理结果", "办结时间"])
    sheet.append(
        [
            "GD-2020-0001",
            "A2区某路段路灯不亮",
            "2020-03-02 20:15:00",
            "A2区某路段路灯连续一周不亮，晚上行人很不安全。",
            "已安排维修。",
            "2020-03-03 10:00:00",
        ]
    )
    export = tmp_path / "old.xlsx"
    book.save(export)
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        'channel = "phone"\n[columns]\nexternal_id = "工单编号"\ntitle = "标题"\n'
        'created_at = "来电时间"\ncontent = "诉求内容"\nreply = "处理结果"\n'
        'replied_at = "办结时间"\n',
        encoding="utf-8",
    )
    db = migrated_sqlite("h.db")
    dry = cli(db, "import-history", str(export), "--map", str(mapping), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "可导入 1 张" in dry.stdout and "试运行" in dry.stdout
    assert rows(db, "SELECT COUNT(*) FROM ticket") == [(0,)]
    done = cli(db, "import-history", str(export), "--map", str(mapping))
    assert "已导入 1 张" in done.stdout
    assert rows(db, "SELECT external_id, channel, district FROM ticket") == [
        ("GD-2020-0001", "phone", "A2区")
    ]
    # without the map the columns are named: nothing is imported
    plain = cli(db, "import-history", str(export))
    assert plain.returncode == 1 and "缺少列 留言编号、留言主题、留言时间、留言详情" in plain.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nsubject = "标题"\n', encoding="utf-8")
    refused = cli(db, "import-history", str(export), "--map", str(bad))
    assert refused.returncode == 1 and "columns.subject 不是可导入的字段" in refused.stderr
    other = tmp_path / "notes.txt"
    other.write_text("x", encoding="utf-8")
    assert "只能导入 .xlsx 或 .csv 文件" in cli(db, "import-history", str(other)).stderr


@pytest.mark.skipif(not RAW.is_file(), reason="needs ../shared/data (the shared raw messages)")
def test_real_exported_messages_import_whole(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    # The first 300 real messages as exported (stray tabs, an Excel serial date, long replies),
    # copied at test time: the shared data is not part of the repository.
    with RAW.open(encoding="utf-8-sig", newline="") as source:
        records = list(csv.reader(source))[:301]
    sample = tmp_path / "sample.csv"
    with sample.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(records)
    db = migrated_sqlite("h.db")
    done = cli(db, "import-history", str(sample))
    assert done.returncode == 0, done.stderr
    assert "共 300 行：已导入 300 张，此前已导入 0 张，无法导入 0 行" in done.stdout
    placed = rows(db, "SELECT COUNT(*) FROM ticket WHERE district <> ''")[0][0]
    assert isinstance(placed, int) and placed > 60  # the router finds a district for many
