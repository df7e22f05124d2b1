"""`python main.py radar --from --to [--json]`: the clusters of a past window, hottest first."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.clirunner import run_cli

INSERT = (
    "INSERT INTO ticket (number, query_code, channel, kind, urgency, category, title, content,"
    " address, district, street, complainant_name, complainant_phone, complainant_email,"
    " complainant_openid, anonymous, confidential, sms_opt_out, no_contact, attachments, status,"
    " routing, needs_review, created_at, updated_at, version) VALUES (?, 'ABCDEF', 'phone',"
    " ?, '一般', '城乡建设', ?, ?, '', 'A1区', '', ?, '', '', '', 0, 0, 0, 0, '[]', 'received',"
    " '{}', 0, ?, ?, 1)"
)
ROWS = [
    (
        "20260105-00001",
        "投诉",
        "板桥小区停水",
        "板桥小区停水一天，自来水公司没有通知",
        "张三",
        "01:00",
    ),
    ("20260105-00002", "投诉", "停水", "板桥小区又停水了，自来水水压很低", "李四", "02:00"),
    ("20260105-00003", "投诉", "停水", "板桥小区停水，自来水的管道爆裂", "王五", "03:00"),
    (
        "20260105-00004",
        "举报",
        "举报",
        "我是赵六，举报板桥小区物业停水期间乱收自来水费",
        "赵六",
        "04:00",
    ),
    ("20260105-00005", "投诉", "噪音", "板桥小区广场舞音响太吵", "钱七", "05:00"),
]


def test_radar_json_lists_the_outage_and_nothing_of_the_reporter(
    migrated_sqlite: Callable[[str], Path],
) -> None:
    db = migrated_sqlite("r.db")
    with sqlite3.connect(db) as conn:
        for number, kind, title, content, name, hhmm in ROWS:
            at = f"2026-01-05 {hhmm}:00+00:00"
            conn.execute(INSERT, (number, kind, title, content, name, at, at))
    env = {**os.environ, "DATABASE_URL": f"sqlite://{db}"}

    done = run_cli(env, "radar", "--from", "2026-01-05", "--to", "2026-01-05", "--json")

    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["tickets"] == 5
    [cluster] = out["clusters"]
    assert cluster["tickets"] == ["20260105-00001", "20260105-00002", "20260105-00003"]
    assert cluster["title"] == "板桥小区·城乡建设：停水、自来水"
    assert cluster["first_at"] == "2026-01-05T09:00:00+08:00" and cluster["count"] == 3
    assert "赵六" not in done.stdout

    text = run_cli(env, "radar", "--from", "2026-01-05", "--to", "2026-01-05")
    assert "5 张工单，1 组热点" in text.stdout and "板桥小区·城乡建设：停水" in text.stdout

    bad = run_cli(env, "radar", "--from", "上周")
    assert bad.returncode == 1 and "时间「上周」无法识别" in bad.stderr
