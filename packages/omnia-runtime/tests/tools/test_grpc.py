import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
import pytest

from omnia_protos.tools.v1 import tools_pb2, tools_pb2_grpc
from omnia_runtime.tools.base import ToolCallContext
from omnia_runtime.tools.config import HandlerConfig, ToolsConfig, parse_tools_config
from omnia_runtime.tools.discovery import discover
from omnia_runtime.tools.errors import ToolDiscoveryError
from omnia_runtime.tools.router import ToolRouter

CONTEXT = ToolCallContext(session_id="sess-9", call_id="call-3")


@dataclass
class Backend(tools_pb2_grpc.ToolServiceServicer):
    unavailable_left: int = 0
    calls: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    entered_slow: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def Execute(self, request: Any, context: Any) -> Any:
        invocation = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        self.calls.append((request.tool_name, dict(request.metadata), invocation))
        arguments = json.loads(request.arguments_json)
        if request.tool_name == "add":
            if self.unavailable_left > 0:
                self.unavailable_left -= 1
                await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
            return tools_pb2.ToolResponse(result_json=json.dumps({"sum": arguments["a"] + arguments["b"]}))
        if request.tool_name == "broken":
            return tools_pb2.ToolResponse(is_error=True, error_message="division by zero")
        if request.tool_name == "picky":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no")
        self.entered_slow.set()
        await self.release.wait()
        return tools_pb2.ToolResponse(result_json="{}")

    async def ListTools(self, request: Any, context: Any) -> Any:
        schema = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}
        return tools_pb2.ListToolsResponse(
            tools=[
                tools_pb2.ToolInfo(name="add", description="Add two numbers", input_schema=json.dumps(schema)),
                tools_pb2.ToolInfo(name="broken", description="Always fails", input_schema=""),
                tools_pb2.ToolInfo(name="picky", description="Refuses"),
                tools_pb2.ToolInfo(name="slow", description="Hangs"),
            ]
        )


@pytest.fixture
async def grpc_backend() -> AsyncIterator[tuple[str, Backend, grpc.aio.Server]]:
    backend = Backend()
    server = grpc.aio.server()
    tools_pb2_grpc.add_ToolServiceServicer_to_server(backend, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", backend, server
    backend.release.set()
    await server.stop(grace=None)


def grpc_handler(endpoint: str, **grpc_config: Any) -> HandlerConfig:
    config = parse_tools_config(
        {"handlers": [{"name": "calc", "type": "grpc", "grpcConfig": {"endpoint": endpoint, **grpc_config}}]}
    )
    assert config.problems == []
    return config.handlers[0]


async def test_list_tools_discovers_the_backend_tools(grpc_backend) -> None:
    endpoint, _, _ = grpc_backend
    tools = await discover(grpc_handler(endpoint), timeout=5)
    assert [t.name for t in tools] == ["add", "broken", "picky", "slow"]
    assert tools[0].input_schema["properties"]["a"] == {"type": "number"}
    assert tools[1].input_schema == {"type": "object"}
    assert {t.handler for t in tools} == {"calc"}


async def test_execute_sends_arguments_context_and_credentials(grpc_backend, tmp_path) -> None:
    endpoint, backend, _ = grpc_backend
    token = tmp_path / "token"
    token.write_text("grpc-secret")
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[grpc_handler(endpoint, authType="bearer", authTokenPath=str(token))]))
    result = await router.execute("add", {"a": 2, "b": 3}, context=CONTEXT)
    broken = await router.execute("broken", {}, context=CONTEXT)
    await router.aclose()
    assert not result.is_error
    assert json.loads(result.content) == {"sum": 5}
    assert broken.is_error
    assert json.loads(broken.content) == {"error": "division by zero"}
    _, request_metadata, call_metadata = backend.calls[0]
    assert request_metadata["x-omnia-session-id"] == "sess-9"
    assert call_metadata["x-omnia-tool-call-id"] == "call-3"
    assert call_metadata["authorization"] == "Bearer grpc-secret"


async def test_unavailable_is_retried_and_invalid_argument_is_not(grpc_backend, fake_sleep) -> None:
    endpoint, backend, _ = grpc_backend
    delays, sleep = fake_sleep
    backend.unavailable_left = 2
    router = ToolRouter(sleep=sleep)
    await router.start(ToolsConfig(handlers=[grpc_handler(endpoint, retryPolicy={"maxAttempts": 3})]))
    result = await router.execute("add", {"a": 1, "b": 1}, context=CONTEXT)
    refused = await router.execute("picky", {}, context=CONTEXT)
    await router.aclose()
    assert json.loads(result.content) == {"sum": 2}
    assert len(delays) == 2
    assert refused.is_error
    assert "INVALID_ARGUMENT" in json.loads(refused.content)["error"]
    assert [name for name, _, _ in backend.calls].count("picky") == 1


async def test_server_that_dies_mid_call_gives_an_error_result(grpc_backend) -> None:
    endpoint, backend, server = grpc_backend
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[grpc_handler(endpoint)]))
    async with asyncio.TaskGroup() as group:
        pending = group.create_task(router.execute("slow", {}, context=CONTEXT))
        await asyncio.wait_for(backend.entered_slow.wait(), 5)
        await server.stop(grace=None)
    result = pending.result()
    await router.aclose()
    assert result.is_error
    assert "gRPC" in json.loads(result.content)["error"]


async def test_discovery_of_an_unreachable_backend_fails_clearly() -> None:
    handler = grpc_handler("127.0.0.1:9", retryPolicy={"maxAttempts": 1})
    with pytest.raises(ToolDiscoveryError, match="calc"):
        await discover(handler, timeout=5)


async def test_a_call_slower_than_the_handler_timeout_is_an_error_result(grpc_backend) -> None:
    endpoint, _, _ = grpc_backend
    config = parse_tools_config(
        {"handlers": [{"name": "calc", "type": "grpc", "timeout": "300ms", "grpcConfig": {"endpoint": endpoint}}]}
    )
    router = ToolRouter()
    await router.start(config)
    result = await router.execute("slow", {}, context=CONTEXT)
    await router.aclose()
    assert result.is_error
    error = json.loads(result.content)["error"]
    assert "DEADLINE_EXCEEDED" in error or "timeout" in error
