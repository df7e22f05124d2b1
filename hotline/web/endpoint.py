"""Endpoint declarations: each endpoint states its contract once, in an `@api(...)` decorator.

The declaration (summary, body model, query model, response model, path-parameter schemas,
error statuses) is what the endpoint parses its input with (`request_query(request)`,
`await request_body(request)`) and what `hotline.web.openapi` documents, by walking the app's route
table. A route whose endpoint has no declaration is a test failure, not a silent gap.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from hotline.domain.errors import HotlineError
from hotline.domain.schemas import TICKET_NUMBER_PATTERN
from hotline.web.http import read_json, validate

F = TypeVar("F", bound=Callable[..., Any])
# Path patterns shared by several endpoints. ASCII digits only; at most the column's 20
# characters (8 + 1 + 11). Any other value is answered 404 as a missing ticket, before the
# endpoint runs, so it never reaches the database.
TICKET_NUMBER = {
    "type": "string",
    "pattern": TICKET_NUMBER_PATTERN,
    "maxLength": 20,
    "description": "工单号",
}
# Account names as the admin API and pages take them.
USERNAME = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9_.\-]{2,64}$",
    "maxLength": 64,
    "description": "账号",
}
# Row ids are 64-bit integers in the database.
ROW_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
# An entry of the admin's list of sign-in and tracking limits (hotline.services.throttles).
THROTTLE_ID = {"type": "string", "pattern": "^[0-9a-f]{16}$", "description": "限制编号"}
# What a 404 for a path value says, by the parameter's description.
NOT_FOUND = {
    "工单号": "工单不存在",
    "邮件编号": "没有这封发送失败的邮件",
    "短信编号": "没有这条发送失败的短信",
    "微信消息编号": "没有这条发送失败的微信消息",
    "账号": "账号不存在",
    "限制编号": "没有这条限制：可能已到期或已被解除，请刷新列表后再看",
    "服务请求编号": "未找到该服务请求（保密工单不公开）",
    "服务代码": "未知的服务（可用的服务见 services.json）",
    "格式": "不支持的格式：请使用 .json 或 .xml",
    "token": "未知的 token",
    "CTI 令牌": "页面或接口不存在",
}


@dataclass(frozen=True)
class ApiDoc:
    """What an endpoint accepts and answers; read by the endpoint and by /openapi.json."""

    summary: str
    response: type[BaseModel] | None = None
    status: int = 200
    description: str = "成功"  # of the success response
    body: type[BaseModel] | None = None
    body_required: bool = True
    # One body model per value of the path parameter `per`: documented as one path each.
    bodies: Mapping[str, type[BaseModel]] | None = None
    per: str | None = None
    query: type[BaseModel] | None = None
    path: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    public: bool = False  # no login needed
    # The methods documented, when the route takes more (Open311's route answers every method
    # with the spec's errors; /wechat's POST is the platform's XML, not an API): default all.
    methods: tuple[str, ...] = ()
    responses: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # other answers

    def body_model(self, path_params: Mapping[str, Any]) -> type[BaseModel] | None:
        """The body model for this request (looked up by `per` when there are several)."""
        if self.bodies is not None and self.per is not None:
            return self.bodies.get(str(path_params.get(self.per)))
        return self.body


def api(**declaration: Any) -> Callable[[F], F]:
    """Declare an endpoint's contract (see `ApiDoc`); the function itself is unchanged."""
    doc = ApiDoc(**declaration)
    if (doc.bodies is None) != (doc.per is None):
        raise TypeError("bodies and per go together")

    def mark(endpoint: F) -> F:
        if not doc.path:
            endpoint.api_doc = doc  # type: ignore[attr-defined]
            return endpoint

        @functools.wraps(endpoint)
        async def checked(request: Request) -> Any:
            for name, value in request.path_params.items():
                if not path_value_ok(doc.path.get(name, {}), value):
                    what = doc.path.get(name, {}).get("description", "")
                    raise HotlineError(
                        NOT_FOUND.get(what, "页面或接口不存在"), status=404, code="not_found"
                    )
            return await endpoint(request)

        checked.api_doc = doc  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return mark


def path_value_ok(schema: Mapping[str, Any], value: Any) -> bool:
    """Whether a path value fits its declared schema (pattern, length, enum, integer range)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    if "enum" in schema:
        return value in schema["enum"]
    if schema.get("type") == "integer":
        if not (value.isascii() and value.isdigit() and len(value) <= 20):
            return False
        number = int(value)
        return schema.get("minimum", number) <= number <= schema.get("maximum", number)
    if len(value) > schema.get("maxLength", 200):
        return False
    pattern = schema.get("pattern")
    return pattern is None or re.fullmatch(pattern, value, re.ASCII) is not None


def doc_of(endpoint: Any) -> ApiDoc | None:
    """The declaration of a route's endpoint, if it has one."""
    return getattr(endpoint, "api_doc", None)


def _doc(request: Request) -> ApiDoc:
    doc = doc_of(request.scope.get("endpoint"))
    if doc is None:
        raise RuntimeError(f"{request.url.path}: endpoint has no @api declaration")
    return doc


def request_query(request: Request) -> Any:
    """The query string parsed by the endpoint's declared query model (422 with fields)."""
    model = _doc(request).query
    if model is None:
        raise RuntimeError(f"{request.url.path}: no query model declared")
    return validate(model, dict(request.query_params), what="查询参数有误", query=True)


async def request_body(request: Request) -> Any:
    """The JSON body parsed by the endpoint's declared body model."""
    doc = _doc(request)
    model = doc.body_model(request.path_params)
    if model is None:
        raise HotlineError("不支持的操作", status=404, code="unknown_action")
    return await read_json(request, model, allow_empty=not doc.body_required)
