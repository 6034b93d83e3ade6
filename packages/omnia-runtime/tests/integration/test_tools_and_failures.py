"""The runtime with a real tools.yaml (HTTP tool on loopback), a provider that fails mid-stream, and the SDK."""

import asyncio
import gc
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_runtime.errors import ProviderUnavailableError
from omnia_runtime.providers.base import ChatRequest, ProviderEvent, TextDelta
from omnia_runtime.sdk import Emitter, RuntimeSettings, Turn, serve, serving
from omnia_runtime.server.app import running_runtime

PACK = {
    "id": "orders",
    "name": "Orders",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "prompts": {"main": {"id": "main", "name": "Main", "version": "1.0.0", "system_template": "Help."}},
}
MOCK = {
    "scenarios": {
        "order": {
            "match": ["order"],
            "turns": {
                1: {"tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "A-1"}}]},
                2: "Your order is on its way.",
            },
        }
    }
}


def base_settings(tmp_path: Path, **extra: Any) -> RuntimeSettings:
    pack = tmp_path / "pack.json"
    pack.write_text(json.dumps(PACK))
    mock = tmp_path / "mock.yaml"
    mock.write_text(yaml.safe_dump(MOCK))
    values: dict[str, Any] = {
        "bind_host": "127.0.0.1",
        "grpc_port": 0,
        "health_port": 0,
        "promptpack_path": pack,
        "mock_config": mock,
        "tools_config_path": tmp_path / "tools.yaml",
        "shutdown_grace": 1,
    }
    return RuntimeSettings(**(values | extra))


async def converse(port: int, content: str) -> list[runtime_pb2.ServerMessage]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = runtime_pb2_grpc.RuntimeServiceStub(channel).Converse(timeout=30)
        await call.write(runtime_pb2.ClientMessage(session_id="s1", content=content))
        frames = []
        for _ in range(100):
            frame = await call.read()
            if not isinstance(frame, runtime_pb2.ServerMessage):
                break
            frames.append(frame)
        return frames


async def test_registry_http_tool_is_offered_and_called_although_the_prompt_does_not_list_it(
    tmp_path: Path, serve_app: Any
) -> None:
    received: list[dict[str, Any]] = []

    async def lookup(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"status": "shipped"})

    app = Starlette(routes=[Route("/orders", lookup, methods=["POST"])])
    async with serve_app(app) as base_url:
        tools = {
            "handlers": [
                {
                    "name": "orders-api",
                    "type": "http",
                    "endpoint": f"{base_url}/orders",
                    "timeout": "5s",
                    "tool": {
                        "name": "lookup_order",
                        "description": "Look up an order",
                        "inputSchema": {
                            "type": "object",
                            "properties": {"order_id": {"type": "string"}},
                            "required": ["order_id"],
                        },
                    },
                    "httpConfig": {"method": "POST"},
                }
            ]
        }
        settings = base_settings(tmp_path)
        settings.tools_config_path.write_text(yaml.safe_dump(tools))
        async with running_runtime(settings) as servers:
            frames = await converse(servers.grpc_port, "where is my order?")
    assert received == [{"order_id": "A-1"}]
    assert frames[-1].done.final_content == "Your order is on its way."


class FailingProvider:
    name = "failing"
    model = "broken-1"

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        yield TextDelta("partial ")
        raise ProviderUnavailableError("failing is unavailable: connection reset")

    async def aclose(self) -> None:
        return None


async def test_provider_failure_mid_stream_ends_the_turn_with_an_error_frame(tmp_path: Path) -> None:
    async with running_runtime(base_settings(tmp_path), provider=FailingProvider()) as servers:
        frames = await converse(servers.grpc_port, "hello")
    assert [f.WhichOneof("message") for f in frames] == ["runtime_hello", "chunk", "error"]
    assert frames[-1].error.code == "PROVIDER_UNAVAILABLE"
    assert "connection reset" in frames[-1].error.message


class Shout:
    def capabilities(self) -> list[str]:
        return ["client_tools"]

    async def converse(self, turn: Turn, emitter: Emitter) -> None:
        answer = await emitter.client_tool_call("confirm", {"text": turn.content})
        await emitter.chunk(turn.content.upper())
        await emitter.done(f"{turn.content.upper()} ({answer.result_json}, user {turn.identity.get('user-id')})")


async def read_frame(call: Any) -> runtime_pb2.ServerMessage:
    frame = await call.read()
    assert isinstance(frame, runtime_pb2.ServerMessage)
    return frame


def active_sessions(exposition: str) -> float:
    """``omnia_runtime_active_sessions`` in a /metrics scrape."""
    for family in text_string_to_metric_families(exposition):
        if family.name == "omnia_runtime_active_sessions":
            return family.samples[0].value
    raise AssertionError("omnia_runtime_active_sessions is missing from /metrics")


async def test_sdk_serves_a_custom_handler_with_the_same_contract(tmp_path: Path) -> None:
    settings = base_settings(tmp_path)
    async with (
        serving(Shout(), settings) as servers,
        grpc.aio.insecure_channel(f"127.0.0.1:{servers.grpc_port}") as channel,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}", timeout=10) as http,
    ):
        healthz = await http.get("/healthz")
        readyz = await http.get("/readyz")
        stub = runtime_pb2_grpc.RuntimeServiceStub(channel)
        call = stub.Converse(metadata=(("x-omnia-user-id", "u-7"),), timeout=30)
        await call.write(runtime_pb2.ClientMessage(session_id="s", content="hi"))
        hello = await read_frame(call)
        tool_call = await read_frame(call)
        during = await http.get("/metrics")  # the handler is waiting for the client tool result
        await call.write(
            runtime_pb2.ClientMessage(
                client_tool_result=runtime_pb2.ClientToolResult(call_id=tool_call.tool_call.id, result_json="true")
            )
        )
        chunk = await read_frame(call)
        done = await read_frame(call)
        assert not isinstance(await call.read(), runtime_pb2.ServerMessage)  # the stream has ended
        after = await http.get("/metrics")
        health = await stub.Health(runtime_pb2.HealthRequest())
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Invoke(runtime_pb2.InvocationRequest(input_json="{}"))
    assert (healthz.status_code, healthz.text) == (200, "ok\n")
    assert (readyz.status_code, readyz.text) == (200, "ready\n")
    assert during.status_code == 200
    assert during.headers["content-type"] == CONTENT_TYPE_LATEST
    assert active_sessions(during.text) >= 1
    assert active_sessions(after.text) == active_sessions(during.text) - 1
    assert list(hello.runtime_hello.capabilities) == ["client_tools"]
    assert tool_call.tool_call.execution == runtime_pb2.TOOL_EXECUTION_CLIENT
    assert chunk.chunk.content == "HI"
    assert done.done.final_content == "HI (true, user u-7)"
    assert list(health.capabilities) == ["client_tools"]
    assert health.healthy
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_ready(http: httpx.AsyncClient) -> httpx.Response:
    """The first /readyz answer once the server listens (bounded: 10 s)."""
    async with asyncio.timeout(10):
        while True:
            try:
                return await http.get("/readyz")
            except httpx.TransportError:
                await asyncio.sleep(0.02)


async def test_sdk_serve_runs_a_custom_handler_with_health_and_metrics_until_stopped(tmp_path: Path) -> None:
    settings = base_settings(tmp_path, grpc_port=free_port(), health_port=free_port())
    stop = asyncio.Event()
    async with (
        asyncio.TaskGroup() as group,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.health_port}", timeout=10) as http,
    ):
        gc.unfreeze()
        server = group.create_task(serve(Shout(), settings, stop))
        try:
            readyz = await wait_ready(http)
            frozen = gc.get_freeze_count()  # start-up objects are out of the collector's sight
            healthz = await http.get("/healthz")
            async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.grpc_port}") as channel:
                call = runtime_pb2_grpc.RuntimeServiceStub(channel).Converse(timeout=30)
                await call.write(runtime_pb2.ClientMessage(session_id="s", content="yo"))
                await read_frame(call)  # runtime_hello
                tool_call = await read_frame(call)
                result = runtime_pb2.ClientToolResult(call_id=tool_call.tool_call.id, result_json="1")
                await call.write(runtime_pb2.ClientMessage(client_tool_result=result))
                await read_frame(call)  # chunk
                done = await read_frame(call)
            metrics = await http.get("/metrics")
        finally:
            stop.set()
            gc.unfreeze()
    assert server.done()
    assert server.exception() is None
    assert frozen > 1000
    assert (readyz.status_code, readyz.text) == (200, "ready\n")
    assert healthz.status_code == 200
    assert done.done.final_content == "YO (1, user None)"
    assert metrics.status_code == 200
    assert "omnia_runtime_active_sessions" in metrics.text
    async with httpx.AsyncClient(timeout=5) as late:
        with pytest.raises(httpx.TransportError):  # stopped: nothing listens any more
            await late.get(f"http://127.0.0.1:{settings.health_port}/healthz")
