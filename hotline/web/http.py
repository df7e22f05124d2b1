"""Request parsing and JSON error answers shared by every endpoint."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from hotline.auth import Principal
from hotline.errors import HotlineError
from hotline.services.users import principal_for_token

M = TypeVar("M", bound=BaseModel)

FIELD_ERRORS = {
    "missing": "必填",
    "extra_forbidden": "不是可接受的字段",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不正确",
    "bool_parsing": "必须是 true 或 false",
    "bool_type": "必须是 true 或 false",
    "int_parsing": "必须是整数",
    "int_type": "必须是整数",
    "date_parsing": "必须是 YYYY-MM-DD 格式的日期",
    "date_from_datetime_parsing": "必须是 YYYY-MM-DD 格式的日期",
    "date_type": "必须是 YYYY-MM-DD 格式的日期",
}


def _field_message(err: Any) -> str:
    """A message a person can act on, in Chinese, for one pydantic error."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于 {ctx.get('le', ctx.get('lt'))}"
    if kind in ("enum", "literal_error") and "expected" in ctx:
        # pydantic says "'json', 'xlsx' or 'csv'"; people read "json、xlsx 或 csv"
        expected = str(ctx["expected"]).replace("'", "").replace(", ", "、").replace(" or ", " 或 ")
        return f"必须是 {expected}"
    return FIELD_ERRORS.get(kind, err["msg"])


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """The one error shape: {"error": {"code", "message", ...}}."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers
    )


def json_response(model: BaseModel | dict[str, Any], status: int = 200) -> JSONResponse:
    """A JSON answer from a response model."""
    body = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    return JSONResponse(body, status_code=status)


async def read_body(request: Request) -> bytes:
    """The raw body, refusing more than the configured limit without reading it all."""
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HotlineError(f"请求体过大（上限 {limit} 字节）", status=413, code="body_too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HotlineError(
                f"请求体过大（上限 {limit} 字节）", status=413, code="body_too_large"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, model: type[M], *, allow_empty: bool = False) -> M:
    """Parse and validate a JSON body into `model`, or raise a 4xx HotlineError."""
    raw = await read_body(request)
    if not raw.strip():
        if allow_empty:
            return validate(model, {})
        raise HotlineError("请求体不能为空，需要 JSON 对象", status=400, code="empty_body")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HotlineError(
            f"请求体不是合法的 JSON：{exc}", status=400, code="malformed_json"
        ) from exc
    if not isinstance(data, dict):
        raise HotlineError("请求体必须是 JSON 对象", status=400, code="malformed_json")
    return validate(model, data)


def validate(
    model: type[M], data: dict[str, Any], *, what: str = "输入有误", query: bool = False
) -> M:
    """Validate a dict into `model`; errors name each field and what is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(body)"
            fields.append({"field": loc, "message": _field_message(err), "type": err["type"]})
        if query:  # 参数 from 必须是 YYYY-MM-DD 格式的日期
            summary = "；".join(f"参数 {f['field']} {f['message']}" for f in fields)
        else:
            summary = "；".join(f"{f['field']}: {f['message']}" for f in fields)
        raise HotlineError(
            f"{what} — {summary}", status=422, code="validation_error", fields=fields
        ) from exc


async def current_principal(request: Request) -> Principal | None:
    """The user behind a bearer token or the signed-in session, if any."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        from hotline.timefmt import utcnow

        ttl = request.app.state.settings.token_ttl_days
        return await principal_for_token(header[7:].strip(), now=utcnow(), ttl_days=ttl)
    session_user = getattr(request.state, "session_principal", None)
    return session_user


async def require_principal(request: Request) -> Principal:
    """The signed-in user, or 401."""
    principal = await current_principal(request)
    if principal is None:
        raise HotlineError("需要登录或有效的 API 令牌", status=401, code="unauthorized")
    return principal


def require_role(principal: Principal, *roles: str) -> None:
    """403 unless the user has one of `roles`."""
    if principal.role not in roles:
        raise HotlineError("无权执行此操作", status=403, code="forbidden")
