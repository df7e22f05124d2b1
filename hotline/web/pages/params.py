"""Page parameters, checked with the API's own query models and path schemas.

A page reads the same parameters as an API endpoint (a ticket number, a phone number, a page
number), so it validates them with the same pydantic model (hotline/web/queries.py) or path
schema (hotline/web/endpoint.py): nothing oversize reaches the database, where tortoise would
refuse it with a 500 and log the value, a caller's full phone number among them. A refusal is
a 422 page in Chinese naming the field as the form labels it and what to fix.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from hotline.domain.errors import HotlineError, not_found
from hotline.web.endpoint import TICKET_NUMBER, path_value_ok
from hotline.web.http import validate
from hotline.web.pages.common import PageError

M = TypeVar("M", bound=BaseModel)

# The API's parameter names as the pages' forms label them.
LABELS = {
    "phone": "来电号码",
    "page": "页码",
    "per_page": "每页条数",
    "unit": "承办单位",
    "q": "关键词",
    "status": "状态",
    "channel": "来源",
    "category": "分类",
    "kind": "诉求类型",
    "created_from": "受理日期起",
    "created_to": "受理日期止",
    "from": "起始日期",
    "to": "截止日期",
    "parent": "上级单位",
}
# What a person most likely did, said after the rule they broke.
HINTS = {"phone": "一次只能查一个号码"}


def page_query(model: type[M], data: dict[str, Any], *, what: str = "查询条件有误") -> M:
    """`data` validated by the API's `model`; a 422 page naming each field otherwise."""
    present = {k: v for k, v in data.items() if v is not None}  # absent, as in a query string
    try:
        return validate(model, present, query=True)
    except HotlineError as exc:
        # Said without the values: a phone number does not belong in a message or a log.
        raise PageError(field_message(exc, what), status=422, code="validation_error") from None


def field_message(exc: HotlineError, what: str) -> str:
    """来电号码太长（最多 32 个字符），一次只能查一个号码 — one clause per field."""
    parts = []
    for field in exc.fields or []:
        name = str(field["field"])
        part = f"{LABELS.get(name, name)}{field['message']}"
        if name in HINTS:
            part += f"，{HINTS[name]}"
        parts.append(part)
    return f"{what}：{'；'.join(parts) or exc.message}。请修改后重试。"


def ticket_number(value: str) -> str:
    """A ticket number from a page's path, or the 404 page (it cannot name a ticket)."""
    if not path_value_ok(TICKET_NUMBER, value):
        raise not_found()
    return value
