"""Bodies and answers of the similar-ticket endpoints (重复件)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hotline.domain.schemas import Strict


class SimilarQuery(Strict):
    """POST /api/v1/similar: a call being typed — its words, place and the caller's phone."""

    text: str = Field(min_length=2, max_length=20000, description="诉求内容")
    title: str = Field(default="", max_length=200, description="标题（比内容更能说明是哪件事）")
    address: str = Field(default="", max_length=300, description="事发地址")
    district: str = Field(default="", max_length=64, description="区县（不填按内容和地址判断）")
    street: str = Field(default="", max_length=64, description="街道/镇（不填按内容和地址判断）")
    phone: str = Field(default="", max_length=32, pattern=r"^[0-9+\-() ]*$", description="来电号码")


class SimilarOut(BaseModel):
    """An open ticket that is probably the same matter."""

    number: str
    title: str
    status: str
    status_label: str
    score: float = Field(description="0–1，越大越可能是同一件事")
    reason: str = Field(description="理由，如「同一小区（枫林小区），内容相似度 0.82」")


class SimilarList(BaseModel):
    """Candidates, most similar first (only open tickets of the recent window)."""

    items: list[SimilarOut]
    hold_threshold: float = Field(description="达到此分数的新工单进入「疑似重复」队列，不自动派单")
