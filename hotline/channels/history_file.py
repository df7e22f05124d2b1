"""A city's past tickets as its old platform exports them (pure: rows in, checked rows out).

The common 网上民声 / 问政 export has 留言编号, 留言用户, 留言主题, 留言时间, 留言详情,
答复意见, 答复时间; other platforms name their columns otherwise, which a small TOML maps
(README "Importing a city's history"). Times are Beijing time as written: "2019/4/25 9:32:09",
"2019-04-25 09:32", a date alone, or an Excel serial number (43563.359…) where a spreadsheet
turned the cell into one.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# What each field is called in the 网上民声 export (the default map).
DEFAULT_COLUMNS: Mapping[str, str] = {
    "external_id": "留言编号",
    "user": "留言用户",
    "title": "留言主题",
    "created_at": "留言时间",
    "content": "留言详情",
    "reply": "答复意见",
    "replied_at": "答复时间",
}
REQUIRED = ("external_id", "title", "created_at", "content")
OPTIONAL = ("user", "reply", "replied_at", "address", "kind", "phone", "unit")
FIELDS = REQUIRED + OPTIONAL
TITLE_CHARS = 200
CONTENT_CHARS = 20000
# Excel's day zero for serial dates (1900 system, with its leap-year quirk folded in).
EXCEL_EPOCH = datetime(1899, 12, 30)
_SERIAL = re.compile(r"^\d{4,6}(\.\d+)?$")
_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)


class MapError(ValueError):
    """A column map that cannot be used (the message names the file and what is wrong)."""


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds each field, and the channel the old tickets came in by."""

    columns: Mapping[str, str]
    channel: str = "web"

    def missing_in(self, header: list[str]) -> list[str]:
        """The mapped columns of required fields that the file's header lacks."""
        return [self.columns[f] for f in REQUIRED if self.columns[f] not in header]


@dataclass(frozen=True)
class HistoryRow:
    """One old ticket, checked."""

    line: int
    external_id: str
    title: str
    content: str
    created_at: datetime  # UTC
    user: str = ""
    reply: str = ""
    replied_at: datetime | None = None  # UTC
    address: str = ""
    kind: str = ""
    phone: str = ""
    unit: str = ""


@dataclass(frozen=True)
class RowProblem:
    """A row that cannot be imported, and why (in Chinese, for the person importing)."""

    line: int
    reason: str


def load_map(path: Path, *, channels: tuple[str, ...]) -> ColumnMap:
    """A column map from TOML: [columns] field = "列名", optional channel = "web"."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MapError(f"{path}：无法读取列对应表：{exc}") from exc
    unknown = set(data) - {"columns", "channel"}
    if unknown:
        raise MapError(f"{path}：未知字段 {'、'.join(sorted(unknown))}（允许：columns、channel）")
    columns = dict(DEFAULT_COLUMNS)
    given = data.get("columns", {})
    if not isinstance(given, dict):
        raise MapError(f'{path}：columns 必须是表，例如 [columns] title = "标题"')
    for field, column in given.items():
        if field not in FIELDS:
            raise MapError(f"{path}：columns.{field} 不是可导入的字段（可用：{'、'.join(FIELDS)}）")
        if not isinstance(column, str) or not column.strip():
            raise MapError(f"{path}：columns.{field} 必须是列名（非空字符串）")
        columns[field] = column.strip()
    channel = data.get("channel", "web")
    if channel not in channels:
        raise MapError(f"{path}：channel「{channel}」不是受理渠道（可用：{'、'.join(channels)}）")
    return ColumnMap(columns=columns, channel=channel)


def parse_time(value: Any) -> datetime | None:
    """A Beijing time as written in an export (or a datetime a spreadsheet gave), in UTC."""
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        return local.astimezone(UTC)
    text = " ".join(str(value or "").split())
    if not text:
        return None
    if isinstance(value, int | float) or _SERIAL.match(text):
        serial = float(text)
        if not 1 <= serial < 2958466:  # Excel's own range: 1900-01-01 … 9999-12-31
            return None
        naive = EXCEL_EPOCH + timedelta(days=serial)
        return naive.replace(microsecond=0, tzinfo=SHANGHAI).astimezone(UTC)
    for fmt in _FORMATS:
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=SHANGHAI).astimezone(UTC)
    return None


def _text(value: Any) -> str:
    """A cell's text with the stray tabs, newlines and runs of spaces of exports collapsed."""
    return " ".join(str(value if value is not None else "").split())


def check_row(line: int, row: Mapping[str, Any], mapping: ColumnMap) -> HistoryRow | RowProblem:
    """One exported row as a ticket to import, or why it cannot be."""
    get = {f: row.get(mapping.columns.get(f, ""), None) for f in FIELDS}
    external_id = _text(get["external_id"])
    if external_id.endswith(".0") and external_id[:-2].isdigit():
        external_id = external_id[:-2]  # a spreadsheet's number cell
    if not external_id:
        return RowProblem(line, f"缺少{mapping.columns['external_id']}（原平台编号）")
    if len(external_id) > 64:
        return RowProblem(line, f"{mapping.columns['external_id']}超过 64 个字符")
    title = _text(get["title"])
    content = _text(get["content"]) or title
    if len(title) < 2:
        return RowProblem(line, f"{mapping.columns['title']}为空或太短")
    if len(content) < 5:
        return RowProblem(line, f"{mapping.columns['content']}为空或太短（至少 5 个字）")
    raw_created = get["created_at"]
    created = parse_time(raw_created)
    if created is None:
        return RowProblem(
            line, f"{mapping.columns['created_at']}「{_text(raw_created)}」不是可识别的时间"
        )
    reply = _text(get["reply"])
    replied = parse_time(get["replied_at"]) if _text(get["replied_at"]) else None
    if _text(get["replied_at"]) and replied is None:
        return RowProblem(
            line, f"{mapping.columns['replied_at']}「{_text(get['replied_at'])}」不是可识别的时间"
        )
    if replied is not None and replied < created:
        # Exports carry such rows (a reply date typed without its year's change): the reply
        # is kept, dated with the message, rather than the row refused.
        replied = created
    return HistoryRow(
        line=line,
        external_id=external_id,
        title=title[: TITLE_CHARS - 1] + "…" if len(title) > TITLE_CHARS else title,
        content=content[:CONTENT_CHARS],
        created_at=created,
        user=_text(get["user"])[:64],
        reply=reply[:CONTENT_CHARS],
        replied_at=replied if reply else None,
        address=_text(get["address"])[:300],
        kind=_text(get["kind"]),
        phone=re.sub(r"[^0-9+\-() ]", "", _text(get["phone"]))[:32],
        unit=_text(get["unit"]),
    )
