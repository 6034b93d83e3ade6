"""Real tool backends on 127.0.0.1 for the ToolRegistry discovery tests: OpenAPI over HTTP, gRPC ToolService."""

import asyncio
import contextlib
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc.aio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnia_protos.tools.v1 import tools_pb2, tools_pb2_grpc

MCP_SERVER = str(Path(__file__).with_name("mcp_tools_server.py"))
PYTHON = sys.executable

PET_SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1.0.0"},
    "servers": [{"url": "/api"}],
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "summary": "List the pets",
                "responses": {"200": {"description": "pets"}},
            }
        },
        "/pets/{petId}": {
            "get": {
                "operationId": "getPet",
                "summary": "One pet",
                "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "a pet"}},
            }
        },
    },
}


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@contextlib.asynccontextmanager
async def openapi_server() -> AsyncIterator[str]:
    """Serves PET_SPEC at /openapi.json; yields the base URL."""

    async def spec(_request: Request) -> Response:
        return JSONResponse(PET_SPEC)

    app = Starlette(routes=[Route("/openapi.json", spec)])
    sock = _bound_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()


class CalculatorTools(tools_pb2_grpc.ToolServiceServicer):
    async def Execute(self, request: Any, context: Any) -> Any:
        return tools_pb2.ToolResponse(result_json="{}")

    async def ListTools(self, request: Any, context: Any) -> Any:
        schema = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}
        return tools_pb2.ListToolsResponse(
            tools=[
                tools_pb2.ToolInfo(name="add", description="Add two numbers", input_schema=json.dumps(schema)),
                tools_pb2.ToolInfo(name="negate", description="Negate a number"),
            ]
        )


@contextlib.asynccontextmanager
async def grpc_tool_server() -> AsyncIterator[str]:
    """A ToolService on 127.0.0.1; yields host:port."""
    server = grpc.aio.server()
    tools_pb2_grpc.add_ToolServiceServicer_to_server(CalculatorTools(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(grace=None)
