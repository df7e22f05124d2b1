"""The OpenAPI document, built from the same pydantic models that validate requests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from hotline.lifecycle import ACTION_BODIES
from hotline.schemas import ErrorOut, TicketCreate, TicketOut, TicketPage, TrackOut

REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "请求体格式错误",
        401: "未登录",
        403: "无权限",
        404: "不存在",
        409: "状态冲突",
        413: "请求体过大",
        422: "输入有误",
    }
    return {str(c): {"description": text[c], **_json(ErrorOut)} for c in codes}


def build_openapi() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    models: list[type[BaseModel]] = [TicketCreate, TicketOut, TicketPage, TrackOut, ErrorOut]
    models += list(dict.fromkeys(ACTION_BODIES.values()))
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    number = {
        "name": "number",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": r"^\d{8}-\d{5,}$"},
    }
    list_params = [
        {"name": n, "in": "query", "required": False, "schema": {"type": t}, "description": d}
        for n, t, d in [
            ("status", "string", "逗号分隔的状态"),
            ("unit", "string", "主办单位代码"),
            ("kind", "string", "诉求类型"),
            ("category", "string", "分类"),
            ("created_from", "string", "受理日期起 YYYY-MM-DD"),
            ("created_to", "string", "受理日期止 YYYY-MM-DD"),
            ("overdue", "boolean", "是否超时"),
            ("needs_review", "boolean", "是否待人工审核"),
            ("phone", "string", "来电号码（仅话务员）"),
            ("q", "string", "工单号或标题关键词"),
            ("page", "integer", "页码"),
            ("per_page", "integer", "每页条数（≤100）"),
        ]
    ]
    paths: dict[str, Any] = {
        "/api/v1/tickets": {
            "post": {
                "summary": "受理新工单",
                "requestBody": {"required": True, **_json(TicketCreate)},
                "responses": {
                    "201": {"description": "已受理", **_json(TicketOut)},
                    **_errors(400, 401, 403, 413, 422),
                },
            },
            "get": {
                "summary": "工单列表",
                "parameters": list_params,
                "responses": {
                    "200": {"description": "一页工单", **_json(TicketPage)},
                    **_errors(401, 422),
                },
            },
        },
        "/api/v1/tickets/{number}": {
            "get": {
                "summary": "工单详情与流转记录",
                "parameters": [number],
                "responses": {
                    "200": {"description": "工单", **_json(TicketOut)},
                    **_errors(401, 404),
                },
            },
        },
        "/api/v1/track/{number}": {
            "get": {
                "summary": "市民查询办理进度（无需登录）",
                "security": [],
                "parameters": [
                    number,
                    {
                        "name": "code",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "minLength": 6, "maxLength": 6},
                    },
                ],
                "responses": {"200": {"description": "进度", **_json(TrackOut)}, **_errors(404)},
            },
        },
        "/api/v1/units": {
            "get": {
                "summary": "承办单位列表",
                "responses": {"200": {"description": "单位"}, **_errors(401)},
            }
        },
        "/api/v1/stats/routing": {
            "get": {
                "summary": "派单统计：自动派单率、退单率、改派率（按单位，来自事件记录）",
                "parameters": [
                    {
                        "name": n,
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "format": "date"},
                    }
                    for n in ("from", "to")
                ],
                "responses": {"200": {"description": "统计"}, **_errors(401, 403, 422)},
            }
        },
        "/api/v1/admin/outbox": {
            "get": {
                "summary": "邮件发件箱（管理员）",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": ["pending", "sent", "failed"]},
                    }
                ],
                "responses": {"200": {"description": "邮件及投递状态"}, **_errors(401, 403, 422)},
            }
        },
        "/api/v1/admin/outbox/{mail_id}/requeue": {
            "post": {
                "summary": "重新发送失败的邮件（管理员）",
                "parameters": [
                    {
                        "name": "mail_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {"200": {"description": "已重新排队"}, **_errors(401, 403, 404)},
            }
        },
        "/healthz": {
            "get": {
                "summary": "健康检查（数据库可达）",
                "security": [],
                "responses": {
                    "200": {"description": "正常"},
                    "503": {"description": "数据库不可达"},
                },
            }
        },
    }
    for action, body in ACTION_BODIES.items():
        paths[f"/api/v1/tickets/{{number}}/{action}"] = {
            "post": {
                "summary": f"工单操作：{action}",
                "parameters": [number],
                "requestBody": {"required": False, **_json(body)},
                "responses": {
                    "200": {"description": "操作后的工单", **_json(TicketOut)},
                    **_errors(400, 401, 403, 404, 409, 413, 422),
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "12345 Hotline API",
            "version": "1.0.0",
            "description": "12345 政务服务便民热线工单系统",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


_document: dict[str, Any] | None = None


async def openapi(request: Request) -> JSONResponse:
    """GET /openapi.json."""
    global _document
    if _document is None:
        _document = build_openapi()
    return JSONResponse(_document)
