"""MCP servers over streamable HTTP on 127.0.0.1 for the discovery tests: a working one and a hung one.

The hung server accepts every request and answers none until the test leaves the context, so a discovery against
it can only end by its own timeout; leaving releases the held requests so the server shuts down promptly.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any, Literal

import uvicorn
from mcp_tools_server import build_server  # pyright: ignore[reportMissingImports]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@contextlib.asynccontextmanager
async def _serve(app: Any, *, lifespan: Literal["on", "off"]) -> AsyncIterator[str]:
    sock = _bound_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan, ws="none"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()


@contextlib.asynccontextmanager
async def mcp_http_server() -> AsyncIterator[str]:
    """The two test tools over MCP streamable HTTP; yields the endpoint URL (…/mcp)."""
    app = build_server().streamable_http_app(host="127.0.0.1")
    async with _serve(app, lifespan="on") as base:
        yield f"{base}/mcp"


@contextlib.asynccontextmanager
async def hung_mcp_http_server() -> AsyncIterator[str]:
    """An MCP endpoint that never answers; yields its URL (…/mcp)."""
    release = asyncio.Event()

    async def hold(_request: Request) -> Response:
        await release.wait()
        return Response(status_code=503)

    app = Starlette(routes=[Route("/mcp", hold, methods=["GET", "POST", "DELETE"])])
    async with _serve(app, lifespan="off") as base:
        try:
            yield f"{base}/mcp"
        finally:
            release.set()  # before the shutdown, which waits for the held requests
