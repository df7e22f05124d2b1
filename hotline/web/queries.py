"""Query-string models: the one place that validates a query string and documents it.

Endpoints declare one with `@api(query=...)` and read it with `hotline.web.endpoint.request_query`;
the OpenAPI document lists each field as a query parameter from the model's JSON Schema.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hotline.domain.lifecycle import Status
from hotline.domain.schemas import NUL_MESSAGE, Channel, Kind, has_nul
from hotline.outbox.status import OutboxStatus

MAX_PER_PAGE = 100
MAX_OVERDUE_PER_PAGE = 200
# Days people ask about; later ones would overflow `day + 1` and the database's timestamps.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part for part in value.split(",") if part] or None
    return value


def _known_statuses(value: list[str] | None) -> list[str] | None:
    unknown = [v for v in value or () if v not in set(Status)]
    if unknown:
        raise ValueError(f"取值「{'、'.join(unknown)}」无效，可选：{'、'.join(Status)}")
    return value


class Query(BaseModel):
    """Base of query models: unknown parameters are ignored, blanks count as absent."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        """An empty parameter (`?overdue=`) means the same as an absent one."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL refuses NUL in text: a 422 naming the parameter, not a 500."""
        if has_nul(value):
            raise ValueError(NUL_MESSAGE)
        return value


class TicketListQuery(Query):
    """GET /api/v1/tickets: filters and the page."""

    status: Annotated[
        list[str] | None, BeforeValidator(_comma_list), AfterValidator(_known_statuses)
    ] = Field(
        default=None,
        description=f"状态，逗号分隔（如 dispatched,handling）；可选：{'、'.join(Status)}",
    )
    unit: str | None = Field(default=None, max_length=32, description="主办单位代码")
    kind: Kind | None = Field(default=None, description="诉求类型")
    category: str | None = Field(default=None, max_length=32, description="分类")
    channel: Channel | None = Field(
        default=None, description="受理渠道：phone 电话、web 网站、wechat 微信、open311 接口、other"
    )
    created_from: Day | None = Field(default=None, description="受理日期起 YYYY-MM-DD")
    created_to: Day | None = Field(default=None, description="受理日期止 YYYY-MM-DD")
    overdue: bool | None = Field(default=None, description="是否超时")
    needs_review: bool | None = Field(default=None, description="是否待人工审核")
    phone: str | None = Field(default=None, max_length=32, description="来电号码（仅话务员）")
    q: str | None = Field(
        default=None,
        max_length=200,
        description=(
            "工单号或关键词：全文检索标题、内容、地址、转办内容、答复与备注"
            "（承办单位只检索本单位看到的转办内容、地址和单位答复）；空格分隔的词须同时出现，"
            "按相关度、再按时间排序"
        ),
    )
    external_id: str | None = Field(
        default=None, max_length=64, description="原平台编号（导入的历史工单，见 import-history）"
    )
    page: int = Field(default=1, ge=1, le=1_000_000, description="页码")
    per_page: int = Field(
        default=20, ge=1, le=MAX_PER_PAGE, description=f"每页条数（≤{MAX_PER_PAGE}）"
    )


class TrackQuery(Query):
    """GET /api/v1/track/{number}: the query code printed on the citizen's receipt."""

    code: str = Field(default="", max_length=32, description="6 位查询码（缺少或不符都答 404）")


class DateRangeQuery(Query):
    """A period of local days, both ends included."""

    since: Day | None = Field(default=None, alias="from", description="起始日期 YYYY-MM-DD")
    until: Day | None = Field(default=None, alias="to", description="截止日期 YYYY-MM-DD（含当天）")


class PeriodQuery(Query):
    """A period of local days that a figure needs: both ends required, both included."""

    since: Day = Field(alias="from", description="起始日期 YYYY-MM-DD（必填）")
    until: Day = Field(alias="to", description="截止日期 YYYY-MM-DD（必填，含当天）")


class OutboxQuery(Query):
    """GET /api/v1/admin/outbox and the requeue-all endpoints (mail and SMS)."""

    status: OutboxStatus | None = Field(default=None, description="只看某一状态的邮件和短信")


class UnitGroupQuery(Query):
    """Which units a figure covers: one unit, a kind of unit, a unit and those under it."""

    unit: str | None = Field(default=None, max_length=32, description="单位代码")
    kind: str | None = Field(
        default=None, max_length=16, description="单位类型（department、district、street…）"
    )
    parent: str | None = Field(
        default=None, max_length=32, description="上级单位代码：该单位及其下属"
    )


class HierarchyQuery(PeriodQuery, UnitGroupQuery):
    """GET /api/v1/stats/hierarchy."""


class OverdueQuery(UnitGroupQuery):
    """GET /api/v1/stats/overdue: the unit group and the page of tickets."""

    page: int = Field(default=1, ge=1, le=1_000_000, description="页码")
    per_page: int = Field(
        default=50,
        ge=1,
        le=MAX_OVERDUE_PER_PAGE,
        description=f"每页条数（≤{MAX_OVERDUE_PER_PAGE}）",
    )


class AssessmentQuery(PeriodQuery):
    """GET /api/v1/stats/assessment."""

    format: Literal["json", "xlsx", "csv"] = Field(default="json", description="输出格式")


class MonthQuery(Query):
    """POST /api/v1/stats/assessment/lock and /reopen: one calendar month."""

    month: str = Field(description="年月，如 2026-11", max_length=7)


class RatesQuery(PeriodQuery, UnitGroupQuery):
    """GET /api/v1/stats/rates."""

    format: Literal["json", "xlsx", "csv"] = Field(default="json", description="输出格式")


class CallLogQuery(PeriodQuery):
    """GET /api/v1/calls and the call log page: a period, missed calls only, the page."""

    missed: bool | None = Field(default=None, description="只看未接来电")
    page: int = Field(default=1, ge=1, le=1_000_000, description="页码")
    per_page: int = Field(
        default=50, ge=1, le=MAX_PER_PAGE, description=f"每页条数（≤{MAX_PER_PAGE}）"
    )
