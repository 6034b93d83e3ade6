"""Credentials from ``authTokenPath`` never reach logs, error texts given to the model, or span attributes.

Each adapter type (http, grpc, mcp over streamable HTTP and SSE, openapi) runs against a real loopback backend
that demands a distinctive token: successful calls, a rotated token the backend refuses, discovery refused,
a missing credential file, and (http) a backend that dies mid-call. Everything observable is collected: every
log record at DEBUG (with tracebacks), every result text, every span attribute and event. The canaries must
appear nowhere, while the backends prove they received them.
"""

import base64
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnia_protos.tools.v1 import tools_pb2, tools_pb2_grpc
from omnia_runtime.tools.base import ToolCallContext, ToolResult
from omnia_runtime.tools.config import HandlerConfig, ToolsConfig, parse_tools_config
from omnia_runtime.tools.router import ToolRouter

SECRET = "omnia-canary-secret-5b2e91"
WRONG = "omnia-canary-wrong-77c0aa"
BASIC_PASSWORD = "omnia-canary-pass-3d1f0e"
BASIC_VALUE = f"ada:{BASIC_PASSWORD}"
CANARIES = (
    SECRET,
    WRONG,
    BASIC_PASSWORD,
    base64.b64encode(BASIC_VALUE.encode()).decode(),
    base64.b64encode(f"ada:{WRONG}".encode()).decode(),
)
CONTEXT = ToolCallContext(session_id="s", call_id="c")


class Observed:
    """What the runtime let out: results given to the model, plus (collected at the end) logs and spans."""

    def __init__(self) -> None:
        self.results: list[ToolResult] = []

    async def call(self, router: ToolRouter, name: str, arguments: dict[str, Any]) -> ToolResult:
        result = await router.execute(name, arguments, context=CONTEXT)
        self.results.append(result)
        return result


@pytest.fixture
def spans() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def assert_no_canary(caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter, observed: Observed) -> None:
    texts = [caplog.text]
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            texts.append(repr(error))
            texts.extend(repr(e) for e in (error.__cause__, error.__context__) if e is not None)
    texts.extend(r.content for r in observed.results)
    for span in spans.get_finished_spans():
        texts.append(json.dumps(dict(span.attributes or {}), default=str))
        for event in span.events:
            texts.append(event.name + json.dumps(dict(event.attributes or {}), default=str))
        texts.append(span.status.description or "")
    joined = "\n".join(texts)
    for canary in CANARIES:
        assert canary not in joined


def handler_of(entry: dict[str, Any]) -> HandlerConfig:
    parsed = parse_tools_config({"handlers": [entry]})
    assert parsed.problems == []
    return parsed.handlers[0]


async def started(handler: HandlerConfig) -> ToolRouter:
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[handler]), discovery_timeout=10)
    return router


def credential_file(tmp_path: Path, value: str) -> Path:
    path = tmp_path / "credential"
    path.write_text(value)
    return path


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


async def test_http_credentials_never_leave_the_runtime(
    caplog, spans, asgi_server, token_gate, crashing_server, tmp_path: Path
) -> None:
    async def answer(request: Request) -> Response:
        return JSONResponse({"ok": True})

    gate = token_gate(Starlette(routes=[Route("/run", answer, methods=["POST"])]), accepted={f"Bearer {SECRET}"})
    token = credential_file(tmp_path, SECRET)
    observed = Observed()

    def http_handler(endpoint: str, **auth: Any) -> HandlerConfig:
        return handler_of(
            {
                "name": "svc",
                "type": "http",
                "tool": {"name": "run", "inputSchema": {"type": "object"}},
                "httpConfig": {"endpoint": endpoint, "authType": "bearer", "authTokenPath": str(token), **auth},
            }
        )

    async with asgi_server(gate) as url:
        router = await started(http_handler(f"{url}/run"))
        try:
            assert not (await observed.call(router, "run", {})).is_error
            token.write_text(WRONG)
            assert (await observed.call(router, "run", {})).is_error
            token.write_text(BASIC_VALUE)
        finally:
            await router.aclose()
        basic = await started(http_handler(f"{url}/run", authType="basic"))
        try:
            assert (await observed.call(basic, "run", {})).is_error  # the gate wants the bearer token
        finally:
            await basic.aclose()
    async with crashing_server() as dead:
        token.write_text(SECRET)
        router = await started(http_handler(f"{dead}/run", retryPolicy={"maxAttempts": 1}))
        try:
            assert (await observed.call(router, "run", {})).is_error
            token.unlink()
            assert (await observed.call(router, "run", {})).is_error
        finally:
            await router.aclose()
    assert [auth for _, _, auth in gate.seen] == [
        f"Bearer {SECRET}",
        f"Bearer {WRONG}",
        "Basic " + base64.b64encode(BASIC_VALUE.encode()).decode(),
    ]
    assert any(r.name.startswith(("httpx", "httpcore")) for r in caplog.records)  # DEBUG capture works
    assert_no_canary(caplog, spans, observed)


class GuardedToolService(tools_pb2_grpc.ToolServiceServicer):
    def __init__(self) -> None:
        self.accepted = f"Bearer {SECRET}"
        self.seen: list[str] = []

    async def _check(self, context: Any) -> None:
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        self.seen.append(metadata.get("authorization", ""))
        if metadata.get("authorization") != self.accepted:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "credential refused")

    async def Execute(self, request: Any, context: Any) -> Any:
        await self._check(context)
        return tools_pb2.ToolResponse(result_json=json.dumps({"ok": True}))

    async def ListTools(self, request: Any, context: Any) -> Any:
        await self._check(context)
        return tools_pb2.ListToolsResponse(tools=[tools_pb2.ToolInfo(name="run", description="Runs")])


@pytest.fixture
async def guarded_grpc() -> AsyncIterator[tuple[str, GuardedToolService]]:
    service = GuardedToolService()
    server = grpc.aio.server()
    tools_pb2_grpc.add_ToolServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", service
    await server.stop(grace=None)


async def test_grpc_credentials_never_leave_the_runtime(caplog, spans, guarded_grpc, tmp_path: Path) -> None:
    endpoint, service = guarded_grpc
    token = credential_file(tmp_path, SECRET)
    observed = Observed()
    handler = handler_of(
        {
            "name": "calc",
            "type": "grpc",
            "grpcConfig": {"endpoint": endpoint, "authType": "bearer", "authTokenPath": str(token)},
        }
    )
    router = await started(handler)
    try:
        assert [s.name for s in router.specs()] == ["run"]
        assert not (await observed.call(router, "run", {})).is_error
        token.write_text(WRONG)
        refused = await observed.call(router, "run", {})
        token.unlink()
        assert (await observed.call(router, "run", {})).is_error
    finally:
        await router.aclose()
    assert refused.is_error
    assert "UNAUTHENTICATED" in refused.content
    token.write_text(WRONG)
    skipped = await started(handler)  # ListTools refused: the handler is skipped with a warning
    await skipped.aclose()
    assert skipped.specs() == []
    assert service.seen == [f"Bearer {SECRET}", f"Bearer {SECRET}", f"Bearer {WRONG}", f"Bearer {WRONG}"]
    assert_no_canary(caplog, spans, observed)


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_mcp_http_credentials_never_leave_the_runtime(
    transport: str, caplog, spans, asgi_server, token_gate, mcp_test_server, tmp_path: Path
) -> None:
    server = mcp_test_server.build_server()
    app = server.sse_app(host="127.0.0.1") if transport == "sse" else server.streamable_http_app(host="127.0.0.1")
    gate = token_gate(app, accepted={f"Bearer {SECRET}"})
    token = credential_file(tmp_path, SECRET)
    observed = Observed()
    async with asgi_server(gate) as url:
        handler = handler_of(
            {
                "name": "remote",
                "type": "mcp",
                "timeout": "2s",  # over SSE a refused POST is not answered: the call ends at its timeout
                "endpoint": url + ("/sse" if transport == "sse" else "/mcp"),
                "mcpConfig": {"transport": transport, "authType": "bearer", "authTokenPath": str(token)},
            }
        )
        router = await started(handler)
        try:
            assert not (await observed.call(router, "echo", {"text": "hello"})).is_error
            assert (await observed.call(router, "explode", {})).is_error
            token.write_text(WRONG)
            gate_before = len(gate.seen)
            assert (await observed.call(router, "echo", {"text": "refused"})).is_error
            assert f"Bearer {WRONG}" in {auth for _, _, auth in gate.seen[gate_before:]}
            token.unlink()
            assert (await observed.call(router, "echo", {"text": "no file"})).is_error
        finally:
            await router.aclose()
        token.write_text(WRONG)
        skipped = await started(handler)
        await skipped.aclose()
    assert skipped.specs() == []
    assert f"Bearer {SECRET}" in {auth for _, _, auth in gate.seen}
    assert_no_canary(caplog, spans, observed)


async def test_openapi_credentials_never_leave_the_runtime(
    caplog, spans, asgi_server, token_gate, tmp_path: Path
) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Svc", "version": "1"},
        "paths": {
            "/run": {
                "post": {
                    "operationId": "run",
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {}}}}},
                }
            }
        },
    }

    async def spec_route(request: Request) -> Response:
        return JSONResponse(spec)

    async def run(request: Request) -> Response:
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/openapi.json", spec_route), Route("/run", run, methods=["POST"])])
    gate = token_gate(app, accepted={f"Bearer {SECRET}"})
    token = credential_file(tmp_path, SECRET)
    observed = Observed()
    async with asgi_server(gate) as url:
        handler = handler_of(
            {
                "name": "svc",
                "type": "openapi",
                "openAPIConfig": {
                    "specURL": f"{url}/openapi.json",
                    "authType": "bearer",
                    "authTokenPath": str(token),
                },
            }
        )
        router = await started(handler)
        try:
            assert not (await observed.call(router, "run", {})).is_error
            token.write_text(WRONG)
            assert (await observed.call(router, "run", {})).is_error
            token.unlink()
            assert (await observed.call(router, "run", {})).is_error
        finally:
            await router.aclose()
        token.write_text(WRONG)
        skipped = await started(handler)  # the spec fetch itself is refused
        await skipped.aclose()
    assert skipped.specs() == []
    assert [auth for _, _, auth in gate.seen] == [
        f"Bearer {SECRET}",
        f"Bearer {SECRET}",
        f"Bearer {WRONG}",
        f"Bearer {WRONG}",
    ]
    assert_no_canary(caplog, spans, observed)
