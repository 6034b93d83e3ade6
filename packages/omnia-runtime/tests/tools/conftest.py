"""Real loopback servers for the tool adapter tests.

``serve_asgi`` runs an ASGI app under uvicorn on a socket bound before the server starts (the port is known
and connections queue on the backlog, so there is nothing to wait for). ``tool_backend`` is a small Starlette
service the HTTP and router tests call; its ``state`` lets a test script failures and read what arrived.
"""

import asyncio
import contextlib
import importlib.util
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from omnia_runtime.tools.config import HandlerConfig, ToolsConfig, parse_tools_config


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@contextlib.asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1; yields the base URL."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", ws="none"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()


@dataclass
class BackendState:
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    """Scripted answers (status, headers) served before normal ones, one per request."""
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r["path"] == path)


def build_backend(state: BackendState) -> Starlette:
    async def record(request: Request) -> dict[str, Any]:
        raw = await request.body()
        entry = {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "query_list": request.query_params.multi_items(),
            "headers": dict(request.headers.items()),
            "raw": raw,
            "body": json.loads(raw) if raw and request.headers.get("content-type") == "application/json" else None,
        }
        state.requests.append(entry)
        return entry

    async def echo(request: Request) -> Response:
        entry = await record(request)
        if state.failures:
            status, headers = state.failures.pop(0)
            return PlainTextResponse(f"scripted failure {status}", status_code=status, headers=headers)
        return JSONResponse({k: v for k, v in entry.items() if k not in ("query_list", "raw")})

    async def text(request: Request) -> Response:
        await record(request)
        return PlainTextResponse("plain words")

    async def status(request: Request) -> Response:
        await record(request)
        code = int(request.path_params["code"])
        return PlainTextResponse("x" * 2000, status_code=code)

    async def secret(request: Request) -> Response:
        await record(request)
        return JSONResponse({"user": "ada", "password": "hunter2", "token": "abc", "ok": True})

    async def slow(request: Request) -> Response:
        await record(request)
        await state.release.wait()
        return JSONResponse({"late": True})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(
        routes=[
            Route("/echo", echo, methods=methods),
            Route("/items/{item_id}", echo, methods=methods),
            Route("/text", text, methods=methods),
            Route("/status/{code}", status, methods=methods),
            Route("/secret", secret, methods=methods),
            Route("/slow", slow, methods=methods),
        ]
    )


@pytest.fixture
async def backend() -> AsyncIterator[tuple[str, BackendState]]:
    state = BackendState()
    async with serve_asgi(build_backend(state)) as url:
        yield url, state
        state.release.set()


@pytest.fixture
def fake_sleep() -> tuple[list[float], Callable[[float], Any]]:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    return delays, sleep


def http_handler(
    url: str, *, name: str = "echo-api", tool: str = "echo", top: dict[str, Any] | None = None, **http: Any
) -> HandlerConfig:
    entry: dict[str, Any] = {
        "name": name,
        "type": "http",
        "tool": {
            "name": tool,
            "description": "Echo the request",
            "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}, "additionalProperties": True},
        },
        "httpConfig": {"endpoint": url, **http},
    }
    entry.update(top or {})
    return single(parse_tools_config({"handlers": [entry]}))


def single(config: ToolsConfig) -> HandlerConfig:
    assert config.problems == []
    assert len(config.handlers) == 1
    return config.handlers[0]


@contextlib.asynccontextmanager
async def dying_server() -> AsyncIterator[str]:
    """A TCP server that reads the request and drops the connection without answering (a crash mid-call)."""
    dropped = asyncio.Event()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.transport.abort()
        dropped.set()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def make_http_handler() -> Callable[..., HandlerConfig]:
    return http_handler


@pytest.fixture
def asgi_server() -> Callable[[Any], contextlib.AbstractAsyncContextManager[str]]:
    return serve_asgi


@pytest.fixture
def crashing_server() -> Callable[[], contextlib.AbstractAsyncContextManager[str]]:
    return dying_server


MCP_SERVER_SCRIPT = Path(__file__).with_name("mcp_server.py")


@pytest.fixture(scope="session")
def mcp_test_server() -> Any:
    """The ``mcp_server.py`` module (its ``build_server()``), for in-process streamable HTTP and SSE servers."""
    spec = importlib.util.spec_from_file_location("omnia_test_mcp_server", MCP_SERVER_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class TokenGate:
    """ASGI middleware in front of a test service: answers 401 unless the credential header holds one of
    ``accepted`` (a test rotates by changing the set), and records ``(method, path, header value)`` per request.
    """

    app: Any
    accepted: set[str]
    header: str = "authorization"
    seen: list[tuple[str, str, str]] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            value = headers.get(self.header, "")
            self.seen.append((scope["method"], scope["path"], value))
            if value not in self.accepted:
                await PlainTextResponse("missing or wrong credential", status_code=401)(scope, receive, send)
                return
        await self.app(scope, receive, send)


@pytest.fixture
def token_gate() -> type[TokenGate]:
    """``TokenGate`` itself (test modules cannot import from conftest under importlib mode)."""
    return TokenGate
