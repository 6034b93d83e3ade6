"""OpenAPI handlers send ``authTokenPath``'s credential with the spec fetch and with every call, read per call.

The service runs behind ``TokenGate`` (tools/conftest.py): a request whose credential header is not
currently accepted gets 401, and the gate records what each request carried.
"""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnia_runtime.tools.base import ToolCallContext
from omnia_runtime.tools.config import HandlerConfig, ToolsConfig, parse_tools_config
from omnia_runtime.tools.router import ToolRouter

CONTEXT = ToolCallContext(session_id="s")


def secured_spec(scheme: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Vault", "version": "1"},
        "servers": [{"url": "/api"}],
        "components": {"securitySchemes": {"credential": scheme}},
        "security": [{"credential": []}],
        "paths": {
            "/items/{itemId}": {
                "get": {
                    "operationId": "getItem",
                    "parameters": [{"name": "itemId", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}
                                }
                            },
                        }
                    },
                }
            }
        },
    }


BEARER = {"type": "http", "scheme": "bearer"}
BASIC = {"type": "http", "scheme": "basic"}
API_KEY = {"type": "apiKey", "in": "header", "name": "X-Api-Key"}


def vault_app(spec: dict[str, Any]) -> Starlette:
    async def spec_route(request: Request) -> Response:
        return JSONResponse(spec)

    async def item(request: Request) -> Response:
        return JSONResponse({"id": int(request.path_params["item_id"])})

    return Starlette(routes=[Route("/openapi.json", spec_route), Route("/api/items/{item_id}", item)])


def vault_handler(spec_url: str, **config: Any) -> HandlerConfig:
    parsed = parse_tools_config(
        {"handlers": [{"name": "vault", "type": "openapi", "openAPIConfig": {"specURL": spec_url, **config}}]}
    )
    assert parsed.problems == []
    return parsed.handlers[0]


@asynccontextmanager
async def running_router(handler: HandlerConfig) -> AsyncIterator[ToolRouter]:
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[handler]), discovery_timeout=10)
    try:
        yield router
    finally:
        await router.aclose()


ServeAsgi = Callable[[Any], AbstractAsyncContextManager[str]]


async def test_a_rotated_bearer_token_is_used_by_the_next_openapi_call(
    asgi_server: ServeAsgi, token_gate, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("first-token\n")
    gate = token_gate(vault_app(secured_spec(BEARER)), accepted={"Bearer first-token"})
    async with asgi_server(gate) as url:
        handler = vault_handler(f"{url}/openapi.json", authType="bearer", authTokenPath=str(token))
        async with running_router(handler) as router:
            assert [s.name for s in router.specs()] == ["getItem"]
            first = await router.execute("getItem", {"itemId": 1}, context=CONTEXT)
            token.write_text("rotated-token")
            gate.accepted = {"Bearer rotated-token"}
            second = await router.execute("getItem", {"itemId": 2}, context=CONTEXT)
    assert json.loads(first.content) == {"id": 1}
    assert json.loads(second.content) == {"id": 2}
    assert gate.seen == [
        ("GET", "/openapi.json", "Bearer first-token"),
        ("GET", "/api/items/1", "Bearer first-token"),
        ("GET", "/api/items/2", "Bearer rotated-token"),
    ]


async def test_a_token_the_service_refuses_is_an_error_result_with_the_status(
    asgi_server: ServeAsgi, token_gate, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("good-token")
    gate = token_gate(vault_app(secured_spec(BEARER)), accepted={"Bearer good-token"})
    async with asgi_server(gate) as url:
        handler = vault_handler(f"{url}/openapi.json", authType="bearer", authTokenPath=str(token))
        async with running_router(handler) as router:
            token.write_text("revoked-token")
            refused = await router.execute("getItem", {"itemId": 1}, context=CONTEXT)
    assert refused.is_error
    assert "401" in json.loads(refused.content)["error"]
    assert gate.seen[-1] == ("GET", "/api/items/1", "Bearer revoked-token")


async def test_basic_credentials_are_sent_and_checked_against_the_spec_security(
    asgi_server: ServeAsgi, token_gate, tmp_path: Path
) -> None:
    secret = tmp_path / "basic"
    secret.write_text("ada:s3cret")
    gate = token_gate(vault_app(secured_spec(BASIC)), accepted={"Basic YWRhOnMzY3JldA=="})
    async with asgi_server(gate) as url:
        handler = vault_handler(f"{url}/openapi.json", authType="basic", authTokenPath=str(secret))
        async with running_router(handler) as router:
            result = await router.execute("getItem", {"itemId": 4}, context=CONTEXT)
    assert json.loads(result.content) == {"id": 4}
    assert gate.seen[-1] == ("GET", "/api/items/4", "Basic YWRhOnMzY3JldA==")


async def test_auth_header_names_the_header_that_carries_the_credential(
    asgi_server: ServeAsgi, token_gate, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("key-123")
    gate = token_gate(vault_app(secured_spec(API_KEY)), accepted={"Bearer key-123"}, header="x-api-key")
    async with asgi_server(gate) as url:
        handler = vault_handler(
            f"{url}/openapi.json", authType="bearer", authTokenPath=str(token), authHeader="X-Api-Key"
        )
        async with running_router(handler) as router:
            result = await router.execute("getItem", {"itemId": 9}, context=CONTEXT)
    assert json.loads(result.content) == {"id": 9}
    assert [path for _, path, _ in gate.seen] == ["/openapi.json", "/api/items/9"]


async def test_a_call_without_the_credential_the_spec_requires_is_refused_before_sending(
    asgi_server: ServeAsgi, token_gate, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("spec-token")
    gate = token_gate(vault_app(secured_spec(BEARER)), accepted={"Bearer spec-token"})
    async with asgi_server(gate) as url:
        handler = vault_handler(f"{url}/openapi.json", authType="bearer", authTokenPath=str(token))
        async with running_router(handler) as router:
            token.unlink()
            missing = await router.execute("getItem", {"itemId": 1}, context=CONTEXT)
        fetched_spec_only = list(gate.seen)
        gate.accepted = {""}  # the spec itself is public for the second handler
        async with running_router(vault_handler(f"{url}/openapi.json")) as router:
            unauthenticated = await router.execute("getItem", {"itemId": 1}, context=CONTEXT)
    assert missing.is_error
    assert f"cannot read the credential file {token}" in json.loads(missing.content)["error"]
    assert fetched_spec_only == [("GET", "/openapi.json", "Bearer spec-token")]
    assert unauthenticated.is_error
    assert "does not match the OpenAPI spec" in json.loads(unauthenticated.content)["error"]
    assert [path for _, path, _ in gate.seen] == ["/openapi.json", "/openapi.json"]
