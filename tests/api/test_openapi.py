"""/openapi.json is generated from the route table: every route is documented, nothing else is,
and query strings are validated by the same models that document them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Match, Mount, Route

from hotline.domain.lifecycle import ACTION_BODIES
from hotline.runtime.config import load_settings
from hotline.web.app import create_app
from hotline.web.endpoint import api, doc_of
from hotline.web.openapi import build_openapi, walk
from hotline.web.queries import TicketListQuery
from tests.api.conftest import World

METHODS = {"get", "post", "put", "patch", "delete"}
SAMPLE = {"number": "20261122-00001", "row_id": "42"}


def _app() -> Starlette:
    return create_app(load_settings(), manage_db=False, background=False)


def _resolves(app: Starlette, path: str, method: str) -> bool:
    """True when a request for `path` reaches an endpoint (not 404/405) in the app."""
    concrete = re.sub(r"{(\w+)}", lambda m: SAMPLE.get(m.group(1), "x"), path)
    scope: dict[str, Any] = {"type": "http", "path": concrete, "method": method.upper()}
    routes = app.routes
    while True:
        for route in routes:
            match, child = route.matches(scope)
            if match == Match.FULL:
                if isinstance(route, Mount):
                    scope = {**scope, **child}
                    scope["path"] = concrete[len(scope.get("root_path", "")) :]
                    routes = route.routes
                    break
                return True
        else:
            return False


def test_every_route_is_documented_and_every_documented_path_is_a_route() -> None:
    app = _app()
    doc = build_openapi(app.routes)
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops if m in METHODS}
    # every API route of the table (Mounts included) is in the document ...
    api_routes = [
        (full, route)
        for full, route in walk(app.routes)
        if full.startswith("/api/") or doc_of(route.endpoint) is not None
    ]
    assert len(api_routes) >= 14
    for full, route in api_routes:
        template = re.sub(r"{(\w+)(?::\w+)?}", r"{\1}", full)
        declared = doc_of(route.endpoint)
        # A declaration may document fewer methods than the route takes (Open311, /wechat).
        methods = set(declared.methods) if declared and declared.methods else route.methods
        for method in (methods or set()) - {"HEAD"}:
            if declared is not None and declared.per is not None and declared.bodies:
                per = "{" + declared.per + "}"
                expected = {(template.replace(per, a), method.lower()) for a in declared.bodies}
            else:
                expected = {(template, method.lower())}
            assert expected <= documented, (full, method)
    # ... and every documented operation is answered by the app.
    for path, method in documented:
        assert _resolves(app, path, method), (path, method)
    assert ("/api/v1/admin/outbox/{row_id}/requeue", "post") in documented
    assert ("/healthz", "get") in documented and ("/openapi.json", "get") in documented
    assert ("/api/v1/route-preview", "post") in documented
    # the staff's HTML pages are not API operations
    assert not any(p in ("/login", "/operator") or p.startswith("/static") for p, _ in documented)


def test_api_routes_are_mounted_once_under_api_v1() -> None:
    app = _app()
    api_mounts = [r for r in app.routes if isinstance(r, Mount) and r.path.startswith("/api")]
    assert [m.path for m in api_mounts] == ["/api/v1"]
    assert not any(r.path.startswith("/api/") for r in api_mounts[0].routes)
    top = [r.path for r in app.routes if isinstance(r, Route)]
    assert not any(p.startswith("/api/") for p in top), top


def test_each_action_is_one_path_with_its_own_body_schema() -> None:
    doc = build_openapi(_app().routes)
    for action, model in ACTION_BODIES.items():
        op = doc["paths"][f"/api/v1/tickets/{{number}}/{action}"]["post"]
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{model.__name__}"}
        assert [p["name"] for p in op["parameters"]] == ["number"]
        assert model.__name__ in doc["components"]["schemas"]
    assert "/api/v1/tickets/{number}/{action}" not in doc["paths"]


def test_query_parameters_come_from_the_query_model() -> None:
    doc = build_openapi(_app().routes)
    params = {p["name"]: p for p in doc["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert list(params) == list(TicketListQuery.model_fields)
    assert params["per_page"]["schema"]["maximum"] == 100
    assert params["status"]["style"] == "form" and params["status"]["explode"] is False
    stats = doc["paths"]["/api/v1/stats/routing"]["get"]["parameters"]
    assert [p["name"] for p in stats] == ["from", "to"]


def test_a_route_without_a_declaration_cannot_hide_from_the_document() -> None:
    async def secret(request: Any) -> Any:  # pragma: no cover - never called
        raise AssertionError

    routes = [Route("/page", secret), Mount("/api/v1", routes=[Route("/secret", secret)])]
    with pytest.raises(ValueError, match="/api/v1/secret: 路由缺少 @api 声明"):
        build_openapi(routes)
    api(summary="秘密")(secret)
    assert "/api/v1/secret" in build_openapi(routes)["paths"]


async def test_served_document_matches_the_route_table(world: World) -> None:
    served = (await world.client.get("/openapi.json")).json()
    assert served["paths"].keys() == build_openapi(_app().routes)["paths"].keys()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"per_page": "1000"}, "per_page", "不能大于 100"),
        ({"page": "0"}, "page", "不能小于 1"),
        ({"page": "two"}, "page", "必须是整数"),
        ({"overdue": "maybe"}, "overdue", "必须是 true 或 false"),
        ({"created_from": "2026-13-01"}, "created_from", "必须是 YYYY-MM-DD 格式的日期"),
        ({"status": "dispatched,lost"}, "status", "取值「lost」无效，可选：received、"),
        ({"kind": "抱怨"}, "kind", "必须是 咨询、求助"),
    ],
)
async def test_bad_list_parameters_are_422_naming_the_field(
    world: World, params: dict[str, str], field: str, message: str
) -> None:
    r = await world.client.get("/api/v1/tickets", params=params, headers=world.headers["op"])
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error" and err["message"].startswith("查询参数有误 — ")
    assert [f["field"] for f in err["fields"]] == [field]
    assert err["fields"][0]["message"].startswith(message)


async def test_blank_parameters_count_as_absent_and_good_ones_filter(world: World) -> None:
    await world.create()
    r = await world.client.get(
        "/api/v1/tickets",
        params={"overdue": "", "page": "", "status": "received,dispatched", "kind": "投诉"},
        headers=world.headers["op"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 1 and r.json()["per_page"] == 20


async def test_other_endpoints_validate_their_queries_too(world: World) -> None:
    r = await world.client.get(
        "/api/v1/stats/routing", params={"from": "11/01/2026"}, headers=world.headers["sup"]
    )
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "from"
    r = await world.client.get(
        "/api/v1/admin/outbox", params={"status": "lost"}, headers=world.headers["adm"]
    )
    assert r.status_code == 422 and "pending" in r.json()["error"]["fields"][0]["message"]
    assert (await world.client.get("/api/v1/track/20261122-00001")).status_code == 404
