"""Request bodies of the 考核 endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReopenBody(BaseModel):
    """POST /api/v1/stats/assessment/reopen: why the confirmed month is opened again."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="重新打开的理由（至少 5 个字）")
