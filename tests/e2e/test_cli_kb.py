"""`python main.py kb import FILE` / `kb export FILE`: Excel and CSV both ways, bad rows listed."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook

from tests.clirunner import run_cli

HEADER = "编号 标题 问法 答复口径 分类 责任单位 政策依据 依据链接 生效日期 失效日期 状态".split()
ROWS = [
    ["", "停水期间如何取水", "小区停水了怎么办；什么时候恢复供水",
     "计划停水会提前公告；临时停水请拨打供水公司抢修电话。", "城乡建设", "A市住房和城乡建设局",
     "A市城市供水管理办法", "https://a.gov.example/water", "2026-01-01", "", "已发布"],
    ["", "社保卡补办", "社保卡丢了怎么办", "携带身份证到社保经办网点申请补卡。", "劳动和社会保障",
     "RSJ", "", "", "", "", "已发布"],
    ["", "燃气报修", "", "燃气泄漏请立即关闭阀门。", "城建", "", "", "", "", "", "已发布"],
    ["", "公积金提取", "", "凭购房合同到公积金中心办理提取。", "", "", "", "", "2026-13-01",
     "", ""],
    ["", "短", "", "答", "", "", "", "", "", "", ""],
]  # fmt: skip


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)


def test_import_keeps_good_rows_lists_bad_ones_and_round_trips(
    migrated_sqlite: Callable[[str], Path], tmp_path: Path
) -> None:
    db = migrated_sqlite("kb.db")
    env = {**os.environ, "DATABASE_URL": f"sqlite://{db}"}
    source = tmp_path / "kb.csv"
    _write_csv(source, ROWS)

    done = run_cli(env, "kb", "import", str(source))

    assert done.returncode == 0, done.stderr
    assert "共 5 行：新建 2 条，修改 0 条，未变 0 条，无法导入 3 行" in done.stdout
    # Each bad row with its line (the header is line 1) and what is wrong in it.
    assert "第 4 行未导入：分类「城建」不在分类表中" in done.stderr
    assert "第 5 行未导入：生效日期「2026-13-01」不是日期" in done.stderr
    assert "第 6 行未导入：" in done.stderr and "标题" in done.stderr
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "SELECT title, unit_code, status FROM kb_entry ORDER BY id"
        ).fetchall()
        actions = conn.execute("SELECT action, actor FROM kb_history").fetchall()
    assert stored == [("停水期间如何取水", "ZJJ", "published"), ("社保卡补办", "RSJ", "published")]
    assert actions == [("import", "命令行导入")] * 2

    # Exported, read back unchanged, then one answer edited in Excel and imported again.
    book_path = tmp_path / "out.xlsx"
    done = run_cli(env, "kb", "export", str(book_path))
    assert done.returncode == 0 and "已导出 2 条知识" in done.stdout
    done = run_cli(env, "kb", "import", str(book_path))
    assert "新建 0 条，修改 0 条，未变 2 条，无法导入 0 行" in done.stdout, done.stderr
    book = load_workbook(book_path)
    sheet = book.active
    assert [c.value for c in sheet[1]][:11] == HEADER
    assert sheet["B2"].value == "停水期间如何取水" and sheet["F2"].value == "A市住房和城乡建设局"
    assert sheet["C2"].value == "小区停水了怎么办\n什么时候恢复供水"
    sheet["D2"] = "计划停水会提前三天公告；临时停水请拨打供水公司抢修电话。"
    book.save(book_path)
    done = run_cli(env, "kb", "import", str(book_path))
    assert "新建 0 条，修改 1 条，未变 1 条" in done.stdout, done.stderr
    with sqlite3.connect(db) as conn:
        answer, version = conn.execute(
            "SELECT answer, version FROM kb_entry WHERE id = 1"
        ).fetchone()
        last = conn.execute("SELECT action, after FROM kb_history ORDER BY id DESC").fetchone()
    assert answer.startswith("计划停水会提前三天公告") and version == 2
    assert last[0] == "import" and "提前三天" in json.loads(last[1])["answer"]

    # CSV export reads back the same.
    done = run_cli(env, "kb", "export", str(tmp_path / "out.csv"))
    assert done.returncode == 0
    done = run_cli(env, "kb", "import", str(tmp_path / "out.csv"))
    assert "未变 2 条，无法导入 0 行" in done.stdout, done.stderr


def test_a_file_without_the_needed_columns_says_so(
    migrated_sqlite: Callable[[str], Path], tmp_path: Path
) -> None:
    db = migrated_sqlite("kb.db")
    bad = tmp_path / "bad.csv"
    bad.write_text("名称,内容\n停水,请等待\n", encoding="utf-8")
    done = run_cli({**os.environ, "DATABASE_URL": f"sqlite://{db}"}, "kb", "import", str(bad))
    assert done.returncode == 1
    assert "缺少列 标题、答复口径" in done.stderr and "kb export" in done.stderr
