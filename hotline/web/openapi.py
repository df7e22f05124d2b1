"""The OpenAPI document, generated from the app's route table and the endpoints' declarations.

Every JSON route (everything under /api/, Mounts included) must carry an `@api(...)`
declaration; its pydantic models give the JSON Schemas. Other declared routes (/healthz,
/openapi.json) are documented too; the staff's HTML pages are not part of the API. Nothing
here lists paths or parameters by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from hotline.domain.schemas import ErrorOut
from hotline.web.endpoint import ApiDoc, api, doc_of

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "请求体格式错误",
    401: "未登录",
    403: "无权限",
    404: "不存在",
    409: "状态冲突",
    413: "请求体过大",
    422: "输入有误",
    429: "请求过于频繁",
}
# Any operation that touches the database may answer this while the database is down.
UNAVAILABLE = {
    "description": "数据库暂时不可用，请稍后重试",
    "headers": {"Retry-After": {"description": "秒数", "schema": {"type": "integer"}}},
}
API_PREFIX = "/api/"
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def walk(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Every endpoint route with its full path, descending into Mounts."""
    for route in routes:
        if isinstance(route, Mount):
            yield from walk(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def operations(
    routes: Iterable[BaseRoute],
) -> Iterator[tuple[str, str, str, Route, ApiDoc, str | None]]:
    """(OpenAPI path, method, route template, route, declaration, value of `per`) per operation.

    A route whose declaration has one body per value of a path parameter (the ticket actions)
    gives one operation per value.
    """
    for full, route in walk(routes):
        doc = doc_of(route.endpoint)
        if doc is None:
            if full.startswith(API_PREFIX):
                raise ValueError(f"{full}: 路由缺少 @api 声明，无法生成 OpenAPI 文档")
            continue  # an HTML page (hotline/web/pages), not part of the JSON API
        template = _PARAM.sub(r"{\1}", full)
        methods = set(doc.methods) if doc.methods else (route.methods or set())
        for method in sorted(methods - {"HEAD"}):
            if doc.bodies is not None and doc.per is not None:
                for value in doc.bodies:
                    path = template.replace(f"{{{doc.per}}}", value)
                    yield path, method.lower(), template, route, doc, value
            else:
                yield template, method.lower(), template, route, doc, None


class _Schemas:
    """components.schemas, filled as models are referenced."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        if model.__name__ not in self.schemas:
            schema = model.model_json_schema(ref_template=REF)
            self.schemas.update(schema.pop("$defs", {}))
            self.schemas[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}

    def json(self, model: type[BaseModel]) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": self.ref(model)}}}

    def query_parameters(self, model: type[BaseModel]) -> list[dict[str, Any]]:
        schema = model.model_json_schema(ref_template=REF, by_alias=True)
        self.schemas.update(schema.pop("$defs", {}))
        required = set(schema.get("required", []))
        params = []
        for name, prop in schema.get("properties", {}).items():
            prop = _optional({k: v for k, v in prop.items() if k not in ("title", "description")})
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
            }
            described = model.model_fields.get(name) or next(
                (f for f in model.model_fields.values() if f.alias == name), None
            )
            if described is not None and described.description:
                param["description"] = described.description
            if _is_array(prop):
                param.update(style="form", explode=False)  # status=a,b
            params.append(param)
        return params


def _optional(schema: dict[str, Any]) -> dict[str, Any]:
    """`X | None = None` as a query parameter is simply X, not required (absent = None)."""
    if schema.get("default", 0) is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    options = schema.get("anyOf", [])
    rest = [o for o in options if o != {"type": "null"}]
    if len(options) == 2 and len(rest) == 1:
        schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **rest[0]}
    return schema


def _is_array(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "array":
        return True
    return any(_is_array(s) for s in schema.get("anyOf", []))


def _operation(
    template: str, route: Route, doc: ApiDoc, schemas: _Schemas, variant: str | None
) -> dict[str, Any]:
    names = [m.group(1) for m in _PARAM.finditer(template)]
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(doc.path.get(name, {"type": "string"})),
        }
        for name in names
        if name != doc.per
    ]
    if doc.query is not None:
        params += schemas.query_parameters(doc.query)
    summary = doc.summary.format(**{doc.per: variant}) if doc.per else doc.summary
    op: dict[str, Any] = {
        "summary": summary,
        "operationId": route.name + (f"_{variant}" if variant else ""),
    }
    if params:
        op["parameters"] = params
    if doc.public:
        op["security"] = []
    model = doc.body_model({doc.per: variant} if doc.per else {})
    if model is not None:
        # Optional only when the model has no required field (an empty body is then {}).
        required = doc.body_required or any(f.is_required() for f in model.model_fields.values())
        op["requestBody"] = {"required": required, **schemas.json(model)}
    ok: dict[str, Any] = {"description": doc.description}
    if doc.response is not None:
        ok.update(schemas.json(doc.response))
    op["responses"] = {
        str(doc.status): ok,
        **{str(c): {"description": ERROR_TEXT[c], **schemas.json(ErrorOut)} for c in doc.errors},
        **{k: dict(v) for k, v in doc.responses.items()},
    }
    if "503" not in op["responses"] and route.endpoint is not openapi:
        op["responses"]["503"] = {**UNAVAILABLE, **schemas.json(ErrorOut)}
    return op


def build_openapi(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for these routes."""
    schemas = _Schemas()
    schemas.ref(ErrorOut)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, template, route, doc, variant in operations(routes):
        paths.setdefault(path, {})[method] = _operation(template, route, doc, schemas, variant)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "12345 Hotline API",
            "version": "1.0.0",
            "description": "12345 政务服务便民热线工单系统",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


@api(summary="本 OpenAPI 文档", public=True, description="OpenAPI 3.1 JSON")
async def openapi(request: Request) -> JSONResponse:
    """GET /openapi.json — built once per app from its route table."""
    document = getattr(request.app.state, "openapi", None)
    if document is None:
        document = request.app.state.openapi = build_openapi(request.app.routes)
    return JSONResponse(document)
