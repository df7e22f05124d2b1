"""Cells of exported files that a spreadsheet shows as text and never evaluates (pure).

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a
formula by Excel, LibreOffice and WPS when the file is opened (CSV injection, OWASP). Every
text cell of every export goes through this module: in CSV such text gets a leading single
quote (OWASP's rule); in xlsx the cell is stored as a string (openpyxl would otherwise store
text starting with `=` as a formula) and marked quote-prefixed, so it stays text even when
someone edits it in Excel. Numbers, dates and empty cells pass unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import TYPE_STRING
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    """Whether a spreadsheet would take this value for a formula (text only)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A value for csv.writer: formula-like text prefixed with `'`, None as an empty cell."""
    if value is None:
        return ""
    if is_formula_like(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for csv.writer with every cell neutralised."""
    return [csv_cell(v) for v in values]


def xlsx_append(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append a row to `sheet`; every text cell is a string cell, never a formula."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            # Set after assignment: openpyxl's setter turns "=…" into a formula.
            cell.data_type = TYPE_STRING
            if is_formula_like(cell.value):
                cell.quotePrefix = True
