"""Retraining the router's classifier on the city's own closed tickets.

Operators correct the category when they dispatch or re-dispatch a ticket (every 退单 and
改派 is a label correction), so a closed ticket's category is the label people settled on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.domain.models import Ticket


async def closed_ticket_rows() -> tuple[list[str], list[str]]:
    """(texts, labels) of closed tickets with a category, oldest first."""
    rows = (
        await Ticket.filter(status="closed", category__isnull=False)
        .exclude(category="")
        .order_by("id")
        .values_list("title", "content", "category")
    )
    texts = [f"{title} {content}" for title, content, _ in rows]
    labels = [str(category) for _, _, category in rows]
    return texts, labels


def check_sources(*, db_labels: list[str], file_labels: list[str]) -> None:
    """Refuse classes with too few rows, saying how many came from the database and the file."""
    from classifier.train import MIN_ROWS_PER_CLASS, DataError

    in_db, in_file = Counter(db_labels), Counter(file_labels)
    total = in_db + in_file
    small = sorted((n, label) for label, n in total.items() if n < MIN_ROWS_PER_CLASS)
    if small:
        listed = "；".join(
            f"「{label}」共 {n} 行（数据库已办结工单 {in_db[label]} 行，文件 {in_file[label]} 行）"
            for n, label in small
        )
        raise DataError(f"类别行数不足：{listed}，每类至少需要 {MIN_ROWS_PER_CLASS} 行")


@dataclass(frozen=True)
class RetrainResult:
    """What a retraining run used and produced."""

    model: Any
    base_rows: int
    ticket_rows: int
    cv: dict[str, Any] | None


async def retrain_from_tickets(
    *,
    out: Path,
    base_texts: list[str],
    base_labels: list[str],
    folds: int = 0,
    progress: bool = False,
) -> RetrainResult:
    """Train on the base corpus plus closed tickets, save to `out`, optionally cross-validate."""
    from classifier.train import DataError, cross_validate, train_model

    texts, labels = await closed_ticket_rows()
    all_texts, all_labels = [*base_texts, *texts], [*base_labels, *labels]
    if not all_texts:
        raise DataError("数据库中没有已办结且有分类的工单，也没有给出基础语料（--data），无法训练")
    check_sources(db_labels=labels, file_labels=base_labels)
    model = train_model(all_texts, all_labels, progress=progress)
    cv = None
    if folds > 1:
        cv = cross_validate(all_texts, all_labels, segmented=None, folds=folds, progress=progress)
        model.meta["cv"] = {
            k: cv[k] for k in ("folds", "n", "accuracy", "macro_f1", "per_class", "confusion")
        }
    model.meta["from_db"] = {"closed_tickets": len(texts), "base_rows": len(base_texts)}
    model.save(out)
    return RetrainResult(model=model, base_rows=len(base_texts), ticket_rows=len(texts), cv=cv)
