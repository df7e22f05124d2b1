"""Load a city's past tickets from its old platform's export (python main.py import-history).

Each readable row becomes a closed ticket with its original times: classified and placed by
the router as a new ticket would be, its reply (if any) the lead unit's reply, and the old
platform's id kept as `external_id`, so importing the same file again adds nothing. Rows that
cannot be read are reported with their line and reason; the rest are imported.

Imported tickets count in no rate: they were not dispatched or answered in this system (no
派单 event, no clocks), so the audited figures stay those of the centre's own work. They are
found by search, listed by `?external_id=`, shown on the tracking page with their reply, and
anonymised RETENTION_DAYS after their closing like every closed ticket.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from hotline.channels.history_file import ColumnMap, HistoryRow, RowProblem, check_row
from hotline.channels.wechat import guess_kind
from hotline.domain.lifecycle import Role, Status
from hotline.domain.models import Ticket, TicketEvent, TicketUnit
from hotline.privacy.confirmed import proposed_text
from hotline.privacy.rules import is_confidential
from hotline.runtime.deployment import Deployment
from hotline.services import ticket_search
from hotline.services.numbering import new_query_code, next_number
from hotline.services.units import unit_directory

BATCH = 200  # rows per transaction: short enough never to hold SQLite's writer for long
IMPORTER = "历史数据导入"


class HistoryFileError(ValueError):
    """The file as a whole cannot be read (the message says what to do)."""


@dataclass
class ImportReport:
    """What an import did."""

    rows: int = 0
    imported: int = 0
    already: int = 0  # imported before (same external_id)
    problems: list[RowProblem] = field(default_factory=list)


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The header and the rows (with their line in the file) of a .csv or .xlsx export."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix == ".csv":
        return _csv_rows(path)
    raise HistoryFileError(f"{path.name}：只能导入 .xlsx 或 .csv 文件（从原平台导出为其中一种）")


def _csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    # Exports from Chinese platforms are UTF-8 (often with a BOM) or GB18030 (Excel's 中文 CSV).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = path.read_text(encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except OSError as exc:
            raise HistoryFileError(f"无法读取 {path}：{exc}") from exc
    else:
        raise HistoryFileError(f"{path.name}：既不是 UTF-8 也不是 GB18030 编码，请另存为 UTF-8 CSV")
    reader = csv.reader(text.splitlines(keepends=True))
    header = [h.strip() for h in next(reader, [])]

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for values in reader:
            # reader.line_num is the file line where the record ends (a cell may span lines)
            if any(v.strip() for v in values):
                yield reader.line_num, dict(zip(header, values, strict=False))

    return header, rows()


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise HistoryFileError(f"{path.name}：不是可读取的 Excel 文件（{exc}）") from exc
    sheet = book.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(cells, ())]

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for line, values in enumerate(cells, start=2):
                if any(v not in (None, "") for v in values):
                    yield line, dict(zip(header, values, strict=False))
        finally:
            book.close()

    return header, rows()


async def import_history(
    path: Path,
    *,
    mapping: ColumnMap,
    deployment: Deployment,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every readable row of `path`; report the rest."""
    header, rows = read_rows(path)
    missing = mapping.missing_in(header)
    if missing:
        present = "、".join(h for h in header if h)
        raise HistoryFileError(
            f"{path.name}：缺少列 {'、'.join(missing)}（表头有：{present}）。"
            "其他平台的导出请用 --map 指定列对应表"
        )
    report = ImportReport()
    seen: dict[str, int] = {}  # external_id → first line in this file
    batch: list[HistoryRow] = []
    for line, raw in rows:
        report.rows += 1
        checked = check_row(line, raw, mapping)
        if isinstance(checked, RowProblem):
            report.problems.append(checked)
        elif checked.external_id in seen:
            first = seen[checked.external_id]
            report.problems.append(
                RowProblem(line, f"编号 {checked.external_id} 与第 {first} 行重复")
            )
        else:
            seen[checked.external_id] = line
            batch.append(checked)
        if len(batch) >= BATCH:
            await _import_batch(batch, mapping, deployment, report, dry_run)
            batch = []
        if progress is not None:
            progress(report.rows)
    if batch:
        await _import_batch(batch, mapping, deployment, report, dry_run)
    return report


async def _import_batch(
    batch: list[HistoryRow],
    mapping: ColumnMap,
    deployment: Deployment,
    report: ImportReport,
    dry_run: bool,
) -> None:
    ids = [row.external_id for row in batch]
    there = set(await Ticket.filter(external_id__in=ids).values_list("external_id", flat=True))
    report.already += len(there)
    todo = [row for row in batch if row.external_id not in there]
    report.imported += len(todo)  # with dry_run: what an import would add
    if dry_run or not todo:
        return
    directory = await unit_directory()
    by_name = {u.name: u for u in directory.values()}
    kinds = deployment.words().kinds
    async with in_transaction() as conn:
        events: list[TicketEvent] = []
        written: list[tuple[Ticket, list[TicketEvent]]] = []
        for row in todo:
            ticket, unit_id = _ticket(row, mapping, deployment, directory, by_name, kinds)
            ticket.number = await next_number(conn, row.created_at)
            await ticket.save(using_db=conn)
            if unit_id is not None:
                await TicketUnit.create(
                    ticket_id=ticket.id,
                    unit_id=unit_id,
                    role="lead",
                    active=True,
                    created_at=row.created_at,
                    # The worklist copy (hotline.services.worklist): imported tickets are closed.
                    status=ticket.status,
                    next_due_at=ticket.next_due_at,
                    ticket_created_at=ticket.created_at,
                    using_db=conn,
                )
            own = _events(ticket, row, unit_id)
            events += own
            written.append((ticket, own))
        await TicketEvent.bulk_create(events, using_db=conn)
        # Found by search like any ticket: its words and the old platform's reply.
        for ticket, own in written:
            await ticket_search.index_ticket(conn, ticket, events=own)


def _ticket(
    row: HistoryRow,
    mapping: ColumnMap,
    deployment: Deployment,
    directory: dict[str, Any],
    by_name: dict[str, Any],
    kinds: tuple[str, ...],
) -> tuple[Ticket, int | None]:
    """The closed ticket for a row, and the id of its lead unit (None when none is known)."""
    kind = row.kind if row.kind in kinds else guess_kind(f"{row.title}\n{row.content}")
    proposal = deployment.propose(
        text=f"{row.title}\n{row.content}", address=row.address, kind=kind, category=None
    )
    named = directory.get(row.unit) or by_name.get(row.unit)
    lead_code = named.code if named is not None else proposal.get("lead_unit")
    lead = directory.get(lead_code) if lead_code else None
    confidential = is_confidential(kind=kind, confidential=False)
    closed_at = row.replied_at or row.created_at
    names = (row.user,)
    ticket = Ticket(
        query_code=new_query_code(),
        channel=mapping.channel,
        kind=kind,
        urgency="一般",
        category=proposal.get("category"),
        title=row.title,
        content=row.content,
        dispatch_text=proposed_text(
            kind=kind, confidential=confidential, text=row.content, names=names
        ),
        dispatch_title=proposed_text(
            kind=kind, confidential=confidential, text=row.title, names=names
        ),
        address=row.address,
        district=str(proposal.get("district") or ""),
        street=str(proposal.get("street") or ""),
        complainant_name=row.user,
        complainant_phone=row.phone,
        confidential=confidential,
        attachments=[],
        status=Status.CLOSED.value,
        lead_unit_id=lead.id if lead is not None else None,
        routing={**proposal, "imported": True},
        needs_review=False,
        created_at=row.created_at,
        updated_at=closed_at,
        closed_at=closed_at,
        version=1,
        external_id=row.external_id,
    )
    return ticket, ticket.lead_unit_id


def _events(ticket: Ticket, row: HistoryRow, unit_id: int | None) -> list[TicketEvent]:
    """受理, the unit's reply (if the export has one) and 办结, at their original times."""

    def event(action: str, at: Any, payload: dict[str, Any], **who: Any) -> TicketEvent:
        return TicketEvent(
            ticket_id=ticket.id,
            action=action,
            actor_id=None,
            actor_name=who.get("name", IMPORTER),
            actor_role=who.get("role", Role.SYSTEM.value),
            actor_unit_id=who.get("unit_id"),
            from_status=who.get("from_status"),
            to_status=who["to_status"],
            payload=payload,
            public=True,
            created_at=at,
        )

    out = [
        event(
            "create",
            row.created_at,
            {
                "channel": ticket.channel,
                "category": ticket.category,
                "external_id": row.external_id,
            },
            to_status=Status.RECEIVED.value,
        )
    ]
    last = Status.RECEIVED.value
    if row.reply:
        out.append(
            event(
                "reply",
                row.replied_at or row.created_at,
                {"text": row.reply, "imported": True},
                name=f"{IMPORTER}（原平台答复）",
                role=Role.UNIT.value,
                unit_id=unit_id,
                from_status=last,
                to_status=Status.REPLIED.value,
            )
        )
        last = Status.REPLIED.value
    out.append(
        event(
            "close",
            row.replied_at or row.created_at,
            {"imported": True},
            from_status=last,
            to_status=Status.CLOSED.value,
        )
    )
    return out
