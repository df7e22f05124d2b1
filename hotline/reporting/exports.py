"""The rates as files supervisors open in Excel: an xlsx workbook and a CSV (pure: bytes in
memory, no I/O). Every number of the JSON answer appears in both, unchanged; every text cell
goes through hotline.reporting.export_cells, so none is ever evaluated as a formula."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from hotline.reporting.export_cells import csv_row, xlsx_append
from hotline.reporting.unit_rates import COUNT_FIELDS, RATE_FIELDS, UNIT_KINDS

UNIT_COLUMNS = {"unit": "单位代码", "name": "单位名称", "kind": "单位类型"}
COUNT_LABELS = {
    "dispatched": "派单数",
    "signed": "签收数",
    "signed_on_time": "按时签收数",
    "disputed": "退单数",
    "extended": "延期数",
    "replied": "回复数",
    "replied_on_time": "按时回复数",
    "callbacks": "有效回访数",
    "contacted": "联系上数",
    "solved": "已解决数",
    "satisfied": "满意数",
    "basically_satisfied": "基本满意数",
    "unsatisfied": "不满意数",
    "reopened": "重办数",
    "overdue_unsigned": "超时未签收数",
    "overdue_unreplied": "超时未回复数",
}
RATE_LABELS = {
    "sign_rate": "签收率",
    "sign_on_time_rate": "按时签收率",
    "dispute_rate": "退单率",
    "reply_rate": "回复率",
    "on_time_rate": "按时办结率",
    "extension_rate": "延期率",
    "reopen_rate": "重办率",
    "response_rate": "响应率",
    "resolution_rate": "解决率",
    "satisfaction_rate": "满意率",
}
FIGURES = (*COUNT_FIELDS, *RATE_LABELS)
LABELS = {**UNIT_COLUMNS, **COUNT_LABELS, **RATE_LABELS}
OVERALL = "总体"
PERIOD_RULE = (
    "派单、签收、退单、延期、回复按派单（改派）日期计入期间，归派单所指主办单位；"
    "回访、重办按回访日期计入期间，归回访时的主办单位；"
    "超时未签收（未回复）= 期间内的派单至期末（进行中的期间至当前时刻）仍未签收（回复）"
    "且已过签收（反馈）时限，计为超时"
)
assert set(RATE_LABELS) == set(RATE_FIELDS)


def _title(report: dict[str, Any]) -> str:
    return f"单位考核指标 {report['from']} 至 {report['to']}"


def filename(report: dict[str, Any], ext: str) -> str:
    """单位考核指标_2026-11-01_2026-11-30.xlsx"""
    return f"单位考核指标_{report['from']}_{report['to']}.{ext}"


def content_disposition(name: str) -> str:
    """attachment with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(c if c.isascii() and c not in '"\\' else "_" for c in name)
    fallback = fallback.lstrip("_") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _rows(report: dict[str, Any]) -> list[list[Any]]:
    """The overall row, then one row per unit: code, name, kind, counts, rates."""
    rows = [["", OVERALL, "", *(report["overall"][f] for f in FIGURES)]]
    for u in report["units"]:
        kind = UNIT_KINDS.get(u.get("kind") or "", u.get("kind") or "")
        rows.append([u["unit"], u["name"], kind, *(u[f] for f in FIGURES)])
    return rows


def _header() -> list[str]:
    return [*UNIT_COLUMNS.values(), *(LABELS[f] for f in FIGURES)]


def _definitions() -> list[tuple[str, str]]:
    den = {
        **COUNT_LABELS,
        "satisfied + 0.9 × basically_satisfied": "满意数 + 0.9 × 基本满意数",
        "sign_due": "（签收数 + 超时未签收数）",
        "reply_due": "（回复数 + 超时未回复数）",
    }
    return [
        (RATE_LABELS[name], f"{den[num]} ÷ {den[d]}（分母为 0 时留空）")
        for name, (num, d) in RATE_FIELDS.items()
    ]


def rates_xlsx(report: dict[str, Any]) -> bytes:
    """Sheets 总体 (every overall figure), 各单位 (a row per unit) and 说明 (definitions)."""
    wb = Workbook()
    bold = Font(bold=True)
    overall = wb.active
    overall.title = OVERALL
    xlsx_append(overall, [_title(report)])
    overall["A1"].font = bold
    scope = "；".join(f"{k}={v}" for k, v in (report.get("filter") or {}).items() if v)
    xlsx_append(overall, ["单位范围", scope or "全部单位"])
    xlsx_append(overall, ["指标", "数值"])
    for cell in overall[3]:
        cell.font = bold
    for f in FIGURES:
        xlsx_append(overall, [LABELS[f], report["overall"][f]])
        if f in RATE_LABELS:
            overall.cell(overall.max_row, 2).number_format = "0.00%"
    overall.column_dimensions["A"].width = 16
    overall.column_dimensions["B"].width = 12

    table = wb.create_sheet("各单位")
    xlsx_append(table, _header())
    for cell in table[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True)
    first_rate = len(UNIT_COLUMNS) + len(COUNT_FIELDS) + 1
    for row in _rows(report):
        xlsx_append(table, row)
        for col in range(first_rate, first_rate + len(RATE_LABELS)):
            table.cell(table.max_row, col).number_format = "0.00%"
    table.freeze_panes = "D2"
    table.column_dimensions["B"].width = 30
    for col in range(4, len(_header()) + 1):
        table.column_dimensions[get_column_letter(col)].width = 11

    notes = wb.create_sheet("说明")
    xlsx_append(notes, ["指标", "计算方法"])
    for label, text in _definitions():
        xlsx_append(notes, [label, text])
    xlsx_append(notes, ["统计口径", PERIOD_RULE])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 60
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rates_csv(report: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Chinese), a header row, the overall row, then
    one row per unit; an empty cell where a rate has no denominator."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_row(_header()))
    for row in _rows(report):
        writer.writerow(csv_row(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
