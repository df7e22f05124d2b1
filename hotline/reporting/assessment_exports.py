"""The 考核 as files (pure): an xlsx workbook and a CSV with a 名次 column and every part of
each unit's score, the same numbers as the JSON answer."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.reporting.assessment import DEDUCTION_LABELS, DEDUCTIONS, INSUFFICIENT
from hotline.reporting.export_cells import csv_row, xlsx_append
from hotline.reporting.exports import RATE_LABELS


def assessment_filename(report: dict[str, Any], ext: str) -> str:
    """单位考核得分_2026-11-01_2026-11-30.xlsx"""
    return f"单位考核得分_{report['from']}_{report['to']}.{ext}"


def _rates(report: dict[str, Any]) -> list[str]:
    return list(report["rules"]["weights"])


def header(report: dict[str, Any]) -> list[str]:
    """名次, unit, score, then per weighted rate its value, sample and points, then per
    deduction its count and points."""
    columns = ["名次", "单位代码", "单位名称", "得分"]
    for rate in _rates(report):
        label = RATE_LABELS[rate]
        columns += [label, f"{label}样本数", f"{label}得分"]
    for key in DEDUCTIONS:
        columns += [f"{DEDUCTION_LABELS[key]}次数", f"{DEDUCTION_LABELS[key]}扣分"]
    return columns


def rows(report: dict[str, Any]) -> list[list[Any]]:
    """One row per unit, ranked first; 样本不足 where a unit has no rank or no points."""
    out = []
    for u in report["units"]:
        parts = u["parts"]
        row: list[Any] = [
            u["rank"] if u["rank"] is not None else INSUFFICIENT,
            u["unit"],
            u["name"],
            u["score"] if u["score"] is not None else INSUFFICIENT,
        ]
        for rate in _rates(report):
            part = parts[rate]
            row += [
                part["rate"],
                part["sample"],
                INSUFFICIENT if part["insufficient"] else part["points"],
            ]
        for key in DEDUCTIONS:
            row += [parts[key]["count"], parts[key]["points"]]
        out.append(row)
    return out


def _title(report: dict[str, Any]) -> str:
    locked = report.get("locked")
    note = f"（已于 {locked['locked_at']} 由 {locked['locked_by']} 确认）" if locked else ""
    return f"单位考核得分 {report['from']} 至 {report['to']}{note}"


def assessment_xlsx(report: dict[str, Any]) -> bytes:
    """Sheets 考核 (a row per unit, ranked) and 说明 (weights, deductions, minimum samples)."""
    wb = Workbook()
    sheet = wb.active
    sheet.title = "考核"
    xlsx_append(sheet, [_title(report)])
    sheet["A1"].font = Font(bold=True)
    xlsx_append(sheet, header(report))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    rate_columns = [5 + 3 * i for i in range(len(_rates(report)))]
    for row in rows(report):
        xlsx_append(sheet, row)
        for col in rate_columns:
            sheet.cell(sheet.max_row, col).number_format = "0.00%"
    sheet.freeze_panes = "D3"
    sheet.column_dimensions["C"].width = 30
    notes = wb.create_sheet("说明")
    rules = report["rules"]
    xlsx_append(notes, ["项目", "规则"])
    for rate, weight in rules["weights"].items():
        xlsx_append(notes, [RATE_LABELS[rate], f"权重 {weight:g} 分 × 指标值"])
    for key, per in rules["deductions"].items():
        xlsx_append(notes, [DEDUCTION_LABELS[key], f"每次扣 {per:g} 分"])
    xlsx_append(
        notes,
        [
            INSUFFICIENT,
            f"派单少于 {rules['min_assignments']} 件或有效回访少于 {rules['min_callbacks']} 次的"
            "指标不计分、不排名；其余指标按权重折算到满分",
        ],
    )
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 70
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def assessment_csv(report: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM, a header row, then one row per unit (ranked first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_row(header(report)))
    for row in rows(report):
        writer.writerow(csv_row(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
