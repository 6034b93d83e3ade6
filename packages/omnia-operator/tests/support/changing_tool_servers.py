"""Tool servers on 127.0.0.1 whose tool lists a test changes while they run (the re-discovery tests).

Each context manager yields a handle: `offer(...)` replaces what the server lists from the next listing on, and
`listings` counts the listings served, so a test can see that the operator asked again (no Kubernetes event tells
the operator a server changed; only its periodic re-discovery can notice).
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any, Literal

import grpc.aio
import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnia_protos.tools.v1 import tools_pb2, tools_pb2_grpc


@contextlib.asynccontextmanager
async def _serve(app: Any, *, lifespan: Literal["on", "off"]) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan, ws="none"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()


class ChangingMcpServer:
    """An MCP server over streamable HTTP offering tools by name (each echoes its argument)."""

    def __init__(self, names: list[str]) -> None:
        self.server = MCPServer("omnia-operator-changing-tools")
        self.endpoint = ""
        self._offered: list[str] = []
        self.offer(*names)

    def offer(self, *names: str) -> None:
        for name in self._offered:
            self.server.remove_tool(name)

        def echo(text: str) -> str:
            return text

        for name in names:
            self.server.add_tool(echo, name=name, description=f"The {name} tool")
        self._offered = list(names)


class ChangingOpenAPIServer:
    """Serves an OpenAPI document at /openapi.json with one GET operation per offered operationId."""

    def __init__(self, operation_ids: list[str]) -> None:
        self.operation_ids = list(operation_ids)
        self.listings = 0
        self.base = ""

    def offer(self, *operation_ids: str) -> None:
        self.operation_ids = list(operation_ids)

    def spec(self) -> dict[str, Any]:
        paths = {
            f"/{op}": {
                "get": {
                    "operationId": op,
                    "summary": f"The {op} operation",
                    "responses": {"200": {"description": "ok"}},
                }
            }
            for op in self.operation_ids
        }
        return {"openapi": "3.0.3", "info": {"title": "Changing", "version": "1"}, "paths": paths}


class ChangingToolService(tools_pb2_grpc.ToolServiceServicer):
    """A gRPC ToolService whose ListTools answers the currently offered names."""

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        self.listings = 0
        self.endpoint = ""

    def offer(self, *names: str) -> None:
        self.names = list(names)

    async def Execute(self, request: Any, context: Any) -> Any:
        return tools_pb2.ToolResponse(result_json="{}")

    async def ListTools(self, request: Any, context: Any) -> Any:
        self.listings += 1
        return tools_pb2.ListToolsResponse(
            tools=[tools_pb2.ToolInfo(name=name, description=f"The {name} tool") for name in self.names]
        )


@contextlib.asynccontextmanager
async def changing_mcp_server(*names: str) -> AsyncIterator[ChangingMcpServer]:
    handle = ChangingMcpServer(list(names))
    async with _serve(handle.server.streamable_http_app(host="127.0.0.1"), lifespan="on") as base:
        handle.endpoint = f"{base}/mcp"
        yield handle


@contextlib.asynccontextmanager
async def changing_openapi_server(*operation_ids: str) -> AsyncIterator[ChangingOpenAPIServer]:
    handle = ChangingOpenAPIServer(list(operation_ids))

    async def spec(_request: Request) -> Response:
        handle.listings += 1
        return JSONResponse(handle.spec())

    async with _serve(Starlette(routes=[Route("/openapi.json", spec)]), lifespan="off") as base:
        handle.base = base
        yield handle


@contextlib.asynccontextmanager
async def changing_grpc_server(*names: str) -> AsyncIterator[ChangingToolService]:
    service = ChangingToolService(list(names))
    server = grpc.aio.server()
    tools_pb2_grpc.add_ToolServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    service.endpoint = f"127.0.0.1:{port}"
    try:
        yield service
    finally:
        await server.stop(grace=None)
