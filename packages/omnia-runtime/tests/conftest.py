"""Shared test support of omnia-runtime: serve an ASGI app on a real loopback socket."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest
import uvicorn
from starlette.types import ASGIApp

ServeApp = Callable[[ASGIApp], AbstractAsyncContextManager[str]]


@contextlib.asynccontextmanager
async def _serve(app: ASGIApp) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(server.serve(sockets=[sock]))
            try:
                async with asyncio.timeout(10):
                    while not server.started:
                        await asyncio.sleep(0.01)
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True
    finally:
        sock.close()


@pytest.fixture
def serve_app() -> ServeApp:
    """``async with serve_app(app) as base_url:`` runs ``app`` under uvicorn on 127.0.0.1 for the block."""
    return _serve
