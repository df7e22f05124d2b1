"""Request parsing and JSON error answers shared by every endpoint."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError
from hotline.domain.field_errors import field_errors
from hotline.services.users import principal_for_token

M = TypeVar("M", bound=BaseModel)


def _no_constants(name: str) -> Any:
    """NaN and Infinity are not JSON (Python's json accepts them)."""
    raise ValueError(name)


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
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError as exc:
        raise HotlineError(
            "请求体不是合法的 UTF-8 编码文本", status=400, code="malformed_json"
        ) from exc
    except json.JSONDecodeError as exc:
        raise HotlineError(
            f"请求体不是合法的 JSON（第 {exc.lineno} 行第 {exc.colno} 列附近有误）",
            status=400,
            code="malformed_json",
        ) from exc
    except RecursionError as exc:
        raise HotlineError("请求体的 JSON 嵌套层数过多", status=400, code="malformed_json") from exc
    except ValueError as exc:  # a 5,000-digit number, NaN, Infinity
        raise HotlineError(
            "请求体含有无法接受的数值（过长的整数或 NaN、Infinity）",
            status=400,
            code="malformed_json",
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
        fields = [
            {"field": ".".join(loc) or "(body)", "message": message, "type": kind}
            for loc, message, kind in field_errors(exc)
        ]
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
        from hotline.domain.timefmt import utcnow

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
