"""Knowledge-base entries to and from Excel / CSV files (`python main.py kb import|export`).

Rows are read with the history import's reader (.xlsx, or .csv in UTF-8 or GB18030) and
turned into entries by `hotline.domain.kb_file`; each row is written on its own, so a bad
row (reported with its line and reason) never stops the others. A row with 编号 changes that
entry (history action "import"; an unchanged row changes nothing); one without is new.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hotline.domain.errors import HotlineError
from hotline.domain.kb_file import (
    COLUMNS,
    KbRowProblem,
    entry_row,
    missing_columns,
    read_row,
)
from hotline.domain.models import KbEntry, Unit
from hotline.domain.timefmt import local_text
from hotline.domain.vocabulary import Vocabulary
from hotline.reporting.export_cells import csv_row, xlsx_append
from hotline.services import knowledge
from hotline.services.history_import import HistoryFileError, read_rows


@dataclass
class KbImportReport:
    """What an import did."""

    rows: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[KbRowProblem] = field(default_factory=list)


async def import_file(
    path: Path, *, actor: str, now: datetime, words: Vocabulary
) -> KbImportReport:
    """Import every readable row; the others are listed with their line and reason."""
    try:
        header, rows = read_rows(path)
    except HistoryFileError as exc:
        raise HotlineError(str(exc), status=400, code="bad_file") from exc
    missing = missing_columns(header)
    if missing:
        raise HotlineError(
            f"{path.name}：缺少列 {'、'.join(missing)}（可先用 kb export 导出一份作为模板）",
            status=400,
            code="bad_file",
        )
    units = {}
    for code, name in await Unit.all().values_list("code", "name"):
        units[code] = code
        units[name] = code
    report = KbImportReport()
    for line, row in rows:
        report.rows += 1
        read = read_row(line, row, units)
        if isinstance(read, KbRowProblem):
            report.problems.append(read)
            continue
        try:
            if read.entry_id is None:
                await knowledge.create_entry(
                    data=read.data, actor=actor, now=now, words=words, action="import"
                )
                report.created += 1
                continue
            before = await KbEntry.filter(id=read.entry_id).first()
            if before is None:
                report.problems.append(
                    KbRowProblem(line, f"编号 {read.entry_id} 的条目不存在；新条目请把编号留空")
                )
                continue
            after = await knowledge.update_entry(
                entry_id=read.entry_id,
                data=read.data,
                actor=actor,
                now=now,
                words=words,
                action="import",
            )
            if after.version == before.version:
                report.unchanged += 1
            else:
                report.changed += 1
        except HotlineError as exc:
            report.problems.append(KbRowProblem(line, exc.message))
    return report


async def export_file(path: Path) -> int:
    """Write every entry (oldest first) to .xlsx or .csv; returns how many."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise HotlineError("只能导出为 .xlsx 或 .csv 文件", status=400, code="bad_file")
    names = await knowledge.unit_names()
    entries = await KbEntry.all().order_by("id")
    rows = [
        entry_row(
            knowledge.snapshot(e),
            entry_id=e.id,
            use_count=e.use_count,
            last_used=local_text(e.last_used_at),
            unit_names=names,
        )
        for e in entries
    ]
    if suffix == ".csv":
        # UTF-8 with a BOM: Excel opens it as UTF-8 (without, it guesses the local code page).
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            writer.writerows(csv_row(r) for r in rows)
        return len(rows)
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "知识库"
    xlsx_append(sheet, COLUMNS)
    for row in rows:
        xlsx_append(sheet, row)
    for letter, width in (("B", 24), ("C", 30), ("D", 60), ("F", 24), ("G", 24)):
        sheet.column_dimensions[letter].width = width
    book.save(path)
    return len(rows)
