"""The knowledge base (知识库), the pure half: statuses, what may be offered, bodies, diffs.

An entry is offered to operators only while it is published and inside its validity days
(local Asia/Shanghai days, both ends included): an expired entry — set so, or past its
valid_to — is never suggested, whatever its words.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from hotline.domain.schemas import MAX_INT, Strict, UnitCode


class KbStatus(StrEnum):
    """Where an entry stands."""

    DRAFT = "draft"
    PUBLISHED = "published"
    EXPIRED = "expired"


STATUS_LABELS = {
    KbStatus.DRAFT.value: "草稿",
    KbStatus.PUBLISHED.value: "已发布",
    KbStatus.EXPIRED.value: "已失效",
}
# The fields an edit may change, in the order history and exports list them.
FIELDS = (
    "title",
    "questions",
    "answer",
    "category",
    "unit_code",
    "source_name",
    "source_url",
    "valid_from",
    "valid_to",
    "status",
)
FIELD_LABELS = {
    "title": "标题",
    "questions": "问法",
    "answer": "答复口径",
    "category": "分类",
    "unit_code": "责任单位",
    "source_name": "政策依据",
    "source_url": "依据链接",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
    "status": "状态",
}
MAX_QUESTIONS = 20


def offered(status: str, valid_from: date | None, valid_to: date | None, today: date) -> bool:
    """Whether an entry may be suggested or used today (published and within its days)."""
    if status != KbStatus.PUBLISHED.value:
        return False
    if valid_from is not None and today < valid_from:
        return False
    return valid_to is None or today <= valid_to


def shown_status(status: str, valid_to: date | None, today: date) -> str:
    """The status people read: a published entry past its valid_to reads expired."""
    if status == KbStatus.PUBLISHED.value and valid_to is not None and today > valid_to:
        return KbStatus.EXPIRED.value
    return status


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that changed: (their old values, their new values)."""
    changed = [k for k in FIELDS if k in after and before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def split_questions(text: str) -> list[str]:
    """Question variants from a cell or a text box: one a line (or separated by ；/;/|)."""
    pieces = []
    for line in text.replace("；", "\n").replace(";", "\n").replace("|", "\n").splitlines():
        if line.strip():
            pieces.append(line.strip())
    return pieces


class KbEntryIn(Strict):
    """An entry as supervisors write it (POST creates, PUT replaces every field)."""

    title: str = Field(min_length=2, max_length=200, description="标题")
    questions: list[str] = Field(
        default_factory=list, max_length=MAX_QUESTIONS, description="市民的其他问法"
    )
    answer: str = Field(min_length=5, max_length=10000, description="答复口径")
    category: str | None = Field(default=None, max_length=32, description="分类（分类表中的词）")
    unit_code: UnitCode | None = Field(default=None, description="责任单位代码")
    source_name: str = Field(default="", max_length=200, description="政策依据（文件名）")
    source_url: str = Field(default="", max_length=500, description="依据链接")
    valid_from: date | None = Field(default=None, description="生效日期（含）")
    valid_to: date | None = Field(default=None, description="失效日期（含）")
    status: KbStatus = Field(default=KbStatus.DRAFT, description="draft / published / expired")
    expected_version: int | None = Field(default=None, ge=1, le=MAX_INT)

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: list[str]) -> list[str]:
        cleaned = [q.strip() for q in value if q and q.strip()]
        if any(len(q) > 200 for q in cleaned):
            raise ValueError("每种问法不超过 200 个字")
        return list(dict.fromkeys(cleaned))

    @field_validator("source_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError("依据链接必须以 http:// 或 https:// 开头")
        return value

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _sane_day(cls, value: date | None) -> date | None:
        # Dates far from now are typing mistakes (and outside what PostgreSQL sorts sanely).
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValueError("日期应在 2000 年到 2100 年之间")
        return value

    @model_validator(mode="after")
    def _days_in_order(self) -> KbEntryIn:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("失效日期不能早于生效日期")
        return self

    def columns(self) -> dict[str, Any]:
        """The entry's stored fields."""
        return {
            "title": self.title,
            "questions": self.questions,
            "answer": self.answer,
            "category": self.category or None,
            "unit_code": self.unit_code or "",
            "source_name": self.source_name,
            "source_url": self.source_url,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "status": self.status.value,
        }


class KbEntryOut(Strict):
    """An entry as the API answers it."""

    id: int
    title: str
    questions: list[str]
    answer: str
    category: str | None
    unit_code: str | None
    unit_name: str | None
    source_name: str
    source_url: str
    valid_from: date | None
    valid_to: date | None
    status: str
    status_label: str
    offered: bool = Field(description="是否会推荐给话务员（已发布且在有效期内）")
    use_count: int
    last_used_at: str | None
    proposed_from: str | None
    created_at: str
    created_by: str
    changed_at: str
    changed_by: str
    version: int


class KbHistoryOut(Strict):
    """One change: who, when, the fields before and after."""

    action: str
    actor: str
    at: str
    before: dict[str, Any]
    after: dict[str, Any]


class KbEntryDetail(KbEntryOut):
    """An entry with its history (newest first)."""

    history: list[KbHistoryOut]


class KbPage(Strict):
    """A page of entries."""

    items: list[KbEntryOut]
    total: int
    page: int
    per_page: int


class KbPiece(Strict):
    """A stretch of a snippet; `hit` when the call's text has these words too."""

    text: str
    hit: bool


class KbSuggestion(Strict):
    """One entry offered for a call's text."""

    id: int
    title: str
    snippet: list[KbPiece]
    answer: str
    unit_code: str | None
    unit_name: str | None
    category: str | None
    score: float
    use_count: int
    last_used_at: str | None


class KbSuggestions(Strict):
    """The best entries for a text, best first."""

    items: list[KbSuggestion]
