"""Command line: `python -m sla due …` and `python -m sla calendar YYYY-MM`."""

from __future__ import annotations

import argparse
import calendar as stdcal
import datetime as dt
import sys
from pathlib import Path

from sla.calendar import DayKind, HolidayFileError, WorkCalendar, load_calendar
from sla.limits import DEFAULT_OFFICE_HOURS, LimitError, OfficeHours, compute_due, parse_limit
from sla.policy import PolicyError, load_policies

# The repository's data/ when run from a checkout, else ./data of the working directory.
_REPO_DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_DATA_DIR = _REPO_DATA if _REPO_DATA.is_dir() else Path("data")
_MARK = {DayKind.HOLIDAY: "休", DayKind.MAKEUP: "班"}


class _UsageError(Exception):
    """Bad input: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints usage plus the message; we promise exactly one clear line.
        raise _UsageError(f"参数错误：{message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sla", description="12345 热线办理时限工具")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="数据目录（含 holidays/ 与 sla.toml），默认为仓库的 data/",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    due = sub.add_parser("due", help="计算截止时间")
    due.add_argument(
        "--start", required=True, help="开始时间，ISO 8601 带时区，如 2026-09-30T16:00+08:00"
    )
    due.add_argument("--limit", required=True, help="时限，如 2h、7d、3wd、8wh")
    cal = sub.add_parser("calendar", help="显示某月的工作日历")
    cal.add_argument("month", help="月份，如 2026-10")
    return parser


def _load(data_dir: Path) -> tuple[WorkCalendar, OfficeHours]:
    calendar = load_calendar(data_dir)
    policy_file = data_dir / "sla.toml"
    office = (
        load_policies(policy_file).office_hours if policy_file.exists() else DEFAULT_OFFICE_HOURS
    )
    return calendar, office


def _due(args: argparse.Namespace) -> str:
    try:
        start = dt.datetime.fromisoformat(args.start)
    except ValueError:
        raise _UsageError(
            f"无效开始时间 {args.start!r}：应为 ISO 8601，如 2026-09-30T16:00+08:00"
        ) from None
    if start.tzinfo is None:
        raise _UsageError(f"开始时间 {args.start!r} 缺少时区，如 2026-09-30T16:00+08:00")
    limit = parse_limit(args.limit)
    calendar, office = _load(args.data_dir)
    due = compute_due(start, limit, calendar, office)
    local = due.at.astimezone(office.tz)
    lines = [local.isoformat()]
    if local.time() == dt.time(0, 0):
        # A working-day deadline is the end of a day: say it the way people read it.
        day = local - dt.timedelta(days=1)
        lines.append(f"即 {day.year}年{day.month}月{day.day}日 24:00 截止")
    if due.provisional:
        years = "、".join(str(y) for y in sorted(due.provisional_years))
        lines.append(
            f"暂定：{years} 年节假日安排尚未发布，已计入法定节假日及补假，调休上班日未计入"
        )
    else:
        lines.append("正式：按已发布的节假日安排计算")
    return "\n".join(lines)


def _month(args: argparse.Namespace) -> str:
    try:
        year_s, month_s = args.month.split("-")
        year, month = int(year_s), int(month_s)
        dt.date(year, month, 1)  # validates the month
    except ValueError:
        raise _UsageError(f"无效月份 {args.month!r}：应为 YYYY-MM，如 2026-10") from None
    calendar, _ = _load(args.data_dir)
    out = [f"{year}年{month}月".center(34)]
    if not calendar.covers(year):
        out.append(f"（暂定：{year} 年节假日安排尚未发布，仅标出法定节假日，调休待定）")
    out.append("  一    二    三    四    五    六    日")
    marked: list[tuple[dt.date, DayKind, str]] = []
    for week in stdcal.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for day in week:
            if day.month != month:
                cells.append("      ")
                continue
            info = calendar.day(day)
            # Each cell is 6 columns wide: CJK marks are double-width, so pad with two spaces.
            cells.append(f"{day.day:>3}{_MARK.get(info.kind, '  ')} ")
            if info.kind in _MARK:
                marked.append((day, info.kind, info.name or ""))
        out.append("".join(cells).rstrip())
    out.append("")
    out.append(
        "图例：休 = 法定节假日放假；班 = 周末调休上班；"
        "无标记的周一至周五为工作日，周六、周日为休息日"
    )
    out.extend(_notes(marked))
    return "\n".join(out)


def _notes(marked: list[tuple[dt.date, DayKind, str]]) -> list[str]:
    """Collapse runs of consecutive marked days into lines such as "10月1日–7日 国庆节 放假"."""
    runs: list[list[tuple[dt.date, DayKind, str]]] = []
    for item in marked:
        prev = runs[-1][-1] if runs else None
        if prev and prev[1:] == item[1:] and (item[0] - prev[0]).days == 1:
            runs[-1].append(item)
        else:
            runs.append([item])
    lines = []
    for run in runs:
        first, last, kind, name = run[0][0], run[-1][0], run[0][1], run[0][2]
        span = f"{first.month}月{first.day}日" + (
            ""
            if last == first
            else f"–{last.day}日"
            if last.month == first.month
            else f"–{last.month}月{last.day}日"
        )
        label = "放假" if kind is DayKind.HOLIDAY else "调休上班"
        lines.append(f"{span} {name} {label}".replace("  ", " "))
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 for bad input)."""
    try:
        args = _parser().parse_args(argv)
        if not args.data_dir.is_dir():
            raise _UsageError(f"数据目录不存在：{args.data_dir}")
        text = _due(args) if args.command == "due" else _month(args)
    except (_UsageError, LimitError, HolidayFileError, PolicyError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(text)
    return 0
