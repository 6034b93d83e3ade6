import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnia_runtime.tools.base import ToolCallContext
from omnia_runtime.tools.config import HandlerConfig, ToolsConfig, parse_tools_config
from omnia_runtime.tools.discovery import discover
from omnia_runtime.tools.errors import ToolArgumentsError, ToolDiscoveryError
from omnia_runtime.tools.openapi import OpenAPIToolAdapter, operation_tool_name
from omnia_runtime.tools.router import ToolRouter

CONTEXT = ToolCallContext(session_id="s")
PET = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1"},
    "servers": [{"url": "/api"}],
    "components": {"schemas": {"Pet": PET}},
    "paths": {
        "/pets": {
            "get": {
                "summary": "List pets",
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 10}}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "createPet",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "made",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    }
                },
            },
        },
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {
                "operationId": "getPet",
                "parameters": [{"name": "X-Tag", "in": "header", "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    }
                },
            },
        },
        "/broken/{petId}": {
            "get": {
                "operationId": "brokenPet",
                "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    }
                },
            }
        },
    },
}


@pytest.fixture
async def pet_service(asgi_server) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def spec(request: Request) -> Response:
        return JSONResponse(SPEC)

    async def pets(request: Request) -> Response:
        seen.append({"path": request.url.path, "query": dict(request.query_params)})
        if request.method == "POST":
            body = await request.json()
            return JSONResponse({"id": 7, "name": body["name"]}, status_code=201)
        return JSONResponse([{"id": 1, "name": "Rex"}])

    async def pet(request: Request) -> Response:
        seen.append({"path": request.url.path, "tag": request.headers.get("x-tag")})
        return JSONResponse({"id": int(request.path_params["pet_id"]), "name": "Rex"})

    async def broken(request: Request) -> Response:
        seen.append({"path": request.url.path})
        return JSONResponse({"id": "not-a-number"})

    app = Starlette(
        routes=[
            Route("/openapi.json", spec),
            Route("/api/pets", pets, methods=["GET", "POST"]),
            Route("/api/pets/{pet_id}", pet),
            Route("/api/broken/{pet_id}", broken),
        ]
    )
    async with asgi_server(app) as url:
        yield url, seen


def openapi_handler(spec_url: str, **config: Any) -> HandlerConfig:
    parsed = parse_tools_config(
        {"handlers": [{"name": "pets", "type": "openapi", "openAPIConfig": {"specURL": spec_url, **config}}]}
    )
    assert parsed.problems == []
    return parsed.handlers[0]


async def test_spec_fetched_over_http_gives_one_tool_per_operation(pet_service) -> None:
    url, _ = pet_service
    tools = {t.name: t for t in await discover(openapi_handler(f"{url}/openapi.json"), timeout=10)}
    assert sorted(tools) == ["brokenPet", "createPet", "getPet", "get_pets"]
    get_pet = tools["getPet"].input_schema
    assert get_pet["properties"]["petId"] == {"type": "integer"}
    assert get_pet["required"] == ["petId"]
    assert "X-Tag" in get_pet["properties"]
    create = tools["createPet"].input_schema
    assert create["required"] == ["body"]
    assert create["properties"]["body"]["required"] == ["name"]
    assert tools["get_pets"].description == "List pets"


async def test_calls_go_to_the_spec_server_with_validated_requests_and_responses(pet_service) -> None:
    url, seen = pet_service
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[openapi_handler(f"{url}/openapi.json")]))
    try:
        fetched = await router.execute("getPet", {"petId": 5, "X-Tag": "blue"}, context=CONTEXT)
        created = await router.execute("createPet", {"body": {"name": "Tom"}}, context=CONTEXT)
        listed = await router.execute("get_pets", {"limit": 3}, context=CONTEXT)
        broken = await router.execute("brokenPet", {"petId": 1}, context=CONTEXT)
        too_many = await router.execute("get_pets", {"limit": 50}, context=CONTEXT)
    finally:
        await router.aclose()
    assert json.loads(fetched.content) == {"id": 5, "name": "Rex"}
    assert seen[0] == {"path": "/api/pets/5", "tag": "blue"}
    assert json.loads(created.content) == {"id": 7, "name": "Tom"}
    assert json.loads(listed.content) == [{"id": 1, "name": "Rex"}]
    assert seen[2]["query"] == {"limit": "3"}
    assert broken.is_error
    assert "does not match the OpenAPI spec" in json.loads(broken.content)["error"]
    assert too_many.is_error
    assert len(seen) == 4


async def test_request_breaking_the_spec_is_not_sent(pet_service) -> None:
    url, seen = pet_service
    adapter = OpenAPIToolAdapter(openapi_handler(f"{url}/openapi.json"))
    specs = {s.name: s for s in await adapter.start()}
    try:
        with pytest.raises(ToolArgumentsError, match="does not match the OpenAPI spec"):
            await adapter.call(specs["createPet"], {"body": {"name": 42}}, CONTEXT)
    finally:
        await adapter.aclose()
    assert seen == []


async def test_operation_filter_and_spec_file_with_base_url(pet_service, tmp_path: Path) -> None:
    url, seen = pet_service
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(json.dumps({**SPEC, "servers": [{"url": "http://127.0.0.1:9/elsewhere"}]}))
    handler = openapi_handler(f"file://{spec_file}", baseURL=f"{url}/api", operationFilter=["getPet"])
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[handler]))
    try:
        assert [s.name for s in router.specs()] == ["getPet"]
        result = await router.execute("getPet", {"petId": 2}, context=CONTEXT)
    finally:
        await router.aclose()
    assert json.loads(result.content)["id"] == 2
    assert seen[0]["path"] == "/api/pets/2"


async def test_unreachable_or_invalid_specs_are_discovery_errors(pet_service, tmp_path: Path) -> None:
    url, _ = pet_service
    with pytest.raises(ToolDiscoveryError, match="HTTP 404"):
        await discover(openapi_handler(f"{url}/missing.json"), timeout=10)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"openapi": "3.0.3", "paths": {"/x": {"get": {"responses": "nope"}}}}))
    with pytest.raises(ToolDiscoveryError, match="invalid"):
        await discover(openapi_handler(str(bad), baseURL="http://127.0.0.1:9"), timeout=10)


def test_generated_names_are_identifier_safe() -> None:
    assert operation_tool_name("get", "/users/{id}/posts", None) == "get_users_id_posts"
    assert operation_tool_name("post", "/x", "makeX") == "makeX"
