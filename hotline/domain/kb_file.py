"""Knowledge-base entries as spreadsheet rows (Excel / CSV), both ways: the pure half.

The columns are Chinese headers a supervisor fills in Excel. 编号 ties a row to an entry:
an exported file edited and imported again changes those entries (and their history says
so); a row without 编号 is a new entry. A row that cannot be read is reported with its line
and the reason, and the other rows are imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from hotline.domain.field_errors import field_errors
from hotline.domain.knowledge import FIELD_LABELS, STATUS_LABELS, KbEntryIn, split_questions

COLUMNS = (
    "编号",
    "标题",
    "问法",
    "答复口径",
    "分类",
    "责任单位",
    "政策依据",
    "依据链接",
    "生效日期",
    "失效日期",
    "状态",
    "使用次数",
    "最近使用",
)
REQUIRED = ("标题", "答复口径")
_STATUS_BY_WORD = {**{v: k for k, v in STATUS_LABELS.items()}, **{k: k for k in STATUS_LABELS}}
_STATUS_BY_WORD.update({"发布": "published", "失效": "expired", "过期": "expired"})


@dataclass(frozen=True)
class KbRow:
    """A readable row: the entry it changes (None: a new one) and its fields."""

    line: int
    entry_id: int | None
    data: KbEntryIn


@dataclass(frozen=True)
class KbRowProblem:
    """A row left out, and why (said so the person can fix the file)."""

    line: int
    reason: str


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    # A CSV export quotes a cell a spreadsheet would run as a formula ('=…): read it back bare.
    if text[:2] in ("'=", "'+", "'-", "'@"):
        text = text[1:]
    return text


def _day(value: Any, column: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError as exc:
        raise ValueError(f"{column}「{text}」不是日期，请写成 2026-01-31") from exc


def missing_columns(header: list[str]) -> list[str]:
    """Required columns the header lacks."""
    return [c for c in REQUIRED if c not in header]


def read_row(line: int, row: Mapping[str, Any], units: Mapping[str, str]) -> KbRow | KbRowProblem:
    """One row as an entry, or why not. `units`: unit name or code → code."""
    try:
        raw_id = _text(row.get("编号"))
        if raw_id and not (raw_id.isdigit() and 0 < int(raw_id) < 2**31):
            raise ValueError(f"编号「{raw_id}」应为知识库导出的数字编号；新条目请留空")
        unit_word = _text(row.get("责任单位"))
        unit = units.get(unit_word) if unit_word else None
        if unit_word and unit is None:
            raise ValueError(f"责任单位「{unit_word}」不在单位列表中，请写单位全称或代码")
        status_word = _text(row.get("状态")) or "草稿"
        status = _STATUS_BY_WORD.get(status_word)
        if status is None:
            raise ValueError(f"状态「{status_word}」无效，可填：草稿、已发布、已失效")
        fields = {
            "title": _text(row.get("标题")),
            "questions": split_questions(_text(row.get("问法"))),
            "answer": _text(row.get("答复口径")),
            "category": _text(row.get("分类")) or None,
            "unit_code": unit,
            "source_name": _text(row.get("政策依据")),
            "source_url": _text(row.get("依据链接")),
            "valid_from": _day(row.get("生效日期"), "生效日期"),
            "valid_to": _day(row.get("失效日期"), "失效日期"),
            "status": status,
        }
    except ValueError as exc:
        return KbRowProblem(line, str(exc))
    try:
        data = KbEntryIn.model_validate(fields)
    except ValidationError as exc:
        reasons = []
        for loc, message, _kind in field_errors(exc):
            label = FIELD_LABELS.get(str(loc[0]), "") if loc else ""
            reasons.append(f"{label}：{message}" if label else message)
        return KbRowProblem(line, "；".join(reasons))
    return KbRow(line, int(raw_id) if raw_id else None, data)


def entry_row(
    snapshot: Mapping[str, Any],
    *,
    entry_id: int,
    use_count: int,
    last_used: str,
    unit_names: Mapping[str, str],
) -> list[Any]:
    """An entry as one row of COLUMNS (what read_row reads back)."""
    unit = snapshot.get("unit_code") or ""
    return [
        entry_id,
        snapshot["title"],
        "\n".join(snapshot.get("questions") or []),
        snapshot["answer"],
        snapshot.get("category") or "",
        unit_names.get(unit, unit),
        snapshot.get("source_name") or "",
        snapshot.get("source_url") or "",
        snapshot.get("valid_from") or "",
        snapshot.get("valid_to") or "",
        STATUS_LABELS[snapshot["status"]],
        use_count,
        last_used,
    ]
