"""`python -m sla` through a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sla", *args], capture_output=True, text=True, cwd=REPO, timeout=60
    )


def test_due_over_national_day() -> None:
    out = run("due", "--start", "2026-09-30T16:00+08:00", "--limit", "3wd")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "2026-10-11T00:00:00+08:00"
    assert lines[1] == "即 2026年10月10日 24:00 截止"
    assert lines[2].startswith("正式")


def test_due_accepts_other_zones_and_prints_shanghai_time() -> None:
    out = run("due", "--start", "2026-10-14T03:00Z", "--limit", "2wh")
    assert out.stdout.splitlines()[0] == "2026-10-14T14:30:00+08:00"


def test_due_provisional_without_schedule_then_official_with_file(tmp_path: Path) -> None:
    out = run(
        "--data-dir", str(tmp_path), "due", "--start", "2026-12-20T10:00+08:00", "--limit", "45wd"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "2027-02-27T00:00:00+08:00",
        "即 2027年2月26日 24:00 截止",
        "暂定：2027 年节假日安排尚未发布，已计入法定节假日及补假，调休上班日未计入",
    ]
    (tmp_path / "holidays").mkdir()
    (tmp_path / "holidays" / "2027.toml").write_text(
        '[[holidays]]\nname = "元旦"\ndate = 2027-01-01\n[[holidays]]\nname = "春节"\n'
        'start = 2027-02-05\nend = 2027-02-13\n[[workdays]]\nname = "春节"\ndate = 2027-02-14\n',
        encoding="utf-8",
    )
    out = run(
        "--data-dir", str(tmp_path), "due", "--start", "2026-12-20T10:00+08:00", "--limit", "45wd"
    )
    # A (made-up) schedule with two more weekdays off and one Sunday worked: one day later.
    assert out.stdout.splitlines()[0] == "2027-03-02T00:00:00+08:00"
    assert out.stdout.splitlines()[2].startswith("正式")


def test_calendar_grid_marks_holidays_and_make_up_days() -> None:
    out = run("calendar", "2026-10")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "2026年10月" in text and "一    二    三    四    五    六    日" in text
    grid = {line.split()[0]: line for line in text.splitlines() if line.strip().startswith("5休")}
    assert grid["5休"].split() == ["5休", "6休", "7休", "8", "9", "10班", "11"]
    assert (
        "图例" in text and "10月1日–7日 国庆节 放假" in text and "10月10日 国庆节 调休上班" in text
    )
    assert "暂定" not in text


def test_due_into_an_unpublished_new_year_skips_new_years_day() -> None:
    out = run("due", "--start", "2026-12-31T10:00+08:00", "--limit", "1wd")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # Fri 1 January 2027 is 元旦 by law; then the weekend: the deadline is the end of Monday.
    assert lines[:2] == ["2027-01-05T00:00:00+08:00", "即 2027年1月4日 24:00 截止"]
    assert lines[2].startswith("暂定：2027 年")


def test_calendar_unknown_year_shows_statutory_days_and_is_marked_provisional() -> None:
    out = run("calendar", "2027-10")
    assert out.returncode == 0 and "暂定" in out.stdout
    grid = out.stdout.split("图例")[0]
    assert "1休   2休   3休" in grid and " 4休   5休   6 " in grid and "班" not in grid
    assert "10月1日–3日 国庆节 放假" in out.stdout and "10月4日–5日 国庆节补假 放假" in out.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("due", "--start", "2026-09-30T16:00", "--limit", "3wd"), "缺少时区"),
        (("due", "--start", "yesterday", "--limit", "3wd"), "无效开始时间"),
        (("due", "--start", "2026-09-30T16:00+08:00", "--limit", "3weeks"), "无效时限"),
        (("due", "--limit", "3wd"), "--start"),
        (("calendar", "2026-13"), "无效月份"),
        (("calendar",), "month"),
        (("frobnicate",), "参数错误"),
        (("--data-dir", "/nonexistent/dir", "calendar", "2026-10"), "数据目录不存在"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], needle: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("错误：")


def test_bad_holiday_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "holidays").mkdir()
    (tmp_path / "holidays" / "2027.toml").write_text('[[holidays]]\nname = "x"\ndate = "soon"\n')
    out = run("--data-dir", str(tmp_path), "calendar", "2027-01")
    assert out.returncode == 2
    assert "2027.toml:3: holidays[0].date: 无效日期 'soon'" in out.stderr
