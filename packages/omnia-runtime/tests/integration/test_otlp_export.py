"""``omnia-runtime serve`` with OMNIA_TRACING_* exports its spans over OTLP/gRPC to a collector.

The collector is a real grpc.aio server implementing ``opentelemetry.proto.collector.trace.v1.TraceService`` on
loopback; the runtime is a real process (the global tracer provider is per process), with the mock provider
and a real HTTP tool from its tools.yaml. Spans are batched: stopping the runtime (SIGTERM) flushes them, so
once the process has exited the collector holds everything it will ever get.
"""

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import yaml
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc

CALLER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN_ID = "b7ad6b7169203331"

PACK = {
    "id": "traced",
    "name": "Traced",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "prompts": {"main": {"id": "main", "name": "Main", "version": "1.0.0", "system_template": "S"}},
}
MOCK = {
    "scenarios": {
        "weather": {
            "match": ["weather"],
            "turns": {
                1: {"response": "Checking.", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
                2: "Snow in Oslo.",
            },
        }
    }
}


@dataclass
class ExportedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    resource: dict[str, Any]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


@dataclass
class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    spans: list[ExportedSpan] = field(default_factory=list)

    async def Export(self, request: Any, context: Any) -> Any:
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(
                    ExportedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes=_attributes(span.attributes),
                        resource=resource,
                    )
                    for span in scope_spans.spans
                )
        return trace_service_pb2.ExportTraceServiceResponse()

    def named(self, name: str, session: str) -> list[ExportedSpan]:
        return [s for s in self.spans if s.name == name and s.attributes.get("session.id") == session]


@contextlib.asynccontextmanager
async def collector() -> AsyncIterator[tuple[str, Collector]]:
    service = Collector()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", service  # no scheme, as the operator sets OMNIA_TRACING_ENDPOINT
    finally:
        await server.stop(grace=None)


def weather_tool() -> Starlette:
    async def weather(request: Request) -> JSONResponse:
        return JSONResponse({"sky": "snow"})

    return Starlette(routes=[Route("/weather", weather, methods=["POST"])])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Runtime:
    grpc_port: int
    process: asyncio.subprocess.Process


@contextlib.asynccontextmanager
async def traced_runtime(
    tmp_path: Path, endpoint: str, sample_rate: str, tool_url: str
) -> AsyncIterator[tuple[Runtime, Callable[[], Any]]]:
    """Runs ``omnia-runtime serve``; yields it and ``stop()``, which sends SIGTERM and waits for a clean exit."""
    (tmp_path / "pack.json").write_text(json.dumps(PACK))
    (tmp_path / "mock.yaml").write_text(yaml.safe_dump(MOCK))
    tool = {"name": "get_weather", "description": "Weather", "inputSchema": {"type": "object"}}
    handlers = [{"name": "weather-api", "type": "http", "endpoint": tool_url, "tool": tool}]
    (tmp_path / "tools.yaml").write_text(yaml.safe_dump({"handlers": handlers}))
    grpc_port, health_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OMNIA_", "OTEL_"))},
        "OMNIA_AGENT_NAME": "traced-agent",
        "OMNIA_BIND_HOST": "127.0.0.1",
        "OMNIA_GRPC_PORT": str(grpc_port),
        "OMNIA_HEALTH_PORT": str(health_port),
        "OMNIA_PROMPTPACK_PATH": str(tmp_path / "pack.json"),
        "OMNIA_MOCK_CONFIG": str(tmp_path / "mock.yaml"),
        "OMNIA_TOOLS_CONFIG_PATH": str(tmp_path / "tools.yaml"),
        "OMNIA_SHUTDOWN_GRACE": "1s",
        "OMNIA_TRACING_ENABLED": "true",
        "OMNIA_TRACING_ENDPOINT": endpoint,
        "OMNIA_TRACING_SAMPLE_RATE": sample_rate,
    }
    with (tmp_path / "stderr.log").open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "omnia_runtime", "serve", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=stderr
        )

        async def stop() -> None:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                assert await process.wait() == 0, (tmp_path / "stderr.log").read_text()

        try:
            async with httpx.AsyncClient() as http, asyncio.timeout(30):
                while True:  # bounded by the timeout; the process starting up is what we wait for
                    assert process.returncode is None, (tmp_path / "stderr.log").read_text()
                    with contextlib.suppress(httpx.TransportError):
                        if (await http.get(f"http://127.0.0.1:{health_port}/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.05)
            yield Runtime(grpc_port, process), stop
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def converse(grpc_port: int, session: str, content: str, traceparent: str | None = None) -> str:
    metadata = (("traceparent", traceparent),) if traceparent else None
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        call = runtime_pb2_grpc.RuntimeServiceStub(channel).Converse(metadata=metadata, timeout=30)
        await call.write(runtime_pb2.ClientMessage(session_id=session, content=content))
        for _ in range(100):
            frame = await call.read()
            assert isinstance(frame, runtime_pb2.ServerMessage)
            if frame.HasField("done"):
                await call.done_writing()
                return frame.done.final_content
            assert not frame.HasField("error"), frame.error.message
    raise AssertionError("no done frame")


def ancestors(span: ExportedSpan, spans: list[ExportedSpan]) -> list[ExportedSpan]:
    by_id = {s.span_id: s for s in spans}
    chain: list[ExportedSpan] = []
    while span.parent_span_id in by_id and len(chain) < 20:
        span = by_id[span.parent_span_id]
        chain.append(span)
    return chain


async def test_spans_reach_the_collector_linked_turn_chat_tool_within_the_callers_trace(
    tmp_path: Path, serve_app: Any
) -> None:
    async with (
        serve_app(weather_tool()) as tool_base,
        collector() as (endpoint, received),
        traced_runtime(tmp_path, endpoint, "1.0", f"{tool_base}/weather") as (runtime, stop),
    ):
        traceparent = f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01"
        assert await converse(runtime.grpc_port, "traced-1", "weather in Oslo?", traceparent) == "Snow in Oslo."
        assert await converse(runtime.grpc_port, "traced-2", "weather again?") == "Snow in Oslo."
        await stop()
    spans = received.spans

    [turn] = received.named("omnia.runtime.conversation.turn", "traced-1")
    chats = received.named("genai.chat", "traced-1")
    [tool_call] = received.named("omnia.tool.call", "traced-1")
    assert len(chats) == 2  # the call that asked for the tool, then the answer

    # The caller's trace continues: same trace id, and the chain of parents ends at the caller's span.
    assert {s.trace_id for s in (turn, *chats, tool_call)} == {CALLER_TRACE_ID}
    chain = ancestors(turn, spans)
    assert (chain[-1] if chain else turn).parent_span_id == CALLER_SPAN_ID
    # turn → genai.chat → omnia.tool.call
    assert {chat.parent_span_id for chat in chats} == {turn.span_id}
    assert tool_call.parent_span_id in {chat.span_id for chat in chats}
    asking = next(chat for chat in chats if chat.span_id == tool_call.parent_span_id)
    assert asking.attributes["gen_ai.response.finish_reasons"] == ["tool_calls"]

    # GenAI semantic-convention attributes on each model call.
    for chat in chats:
        assert chat.attributes["gen_ai.system"] == "mock"
        assert chat.attributes["gen_ai.request.model"] == "mock-model"
        assert chat.attributes["gen_ai.operation.name"] == "chat"
        assert chat.attributes["gen_ai.usage.input_tokens"] > 0
        assert chat.attributes["gen_ai.usage.output_tokens"] > 0
        assert "gen_ai.usage.cost" in chat.attributes
    assert asking.attributes["gen_ai.usage.output_tokens"] == 1  # "Checking."
    assert tool_call.attributes["omnia.tool.name"] == "get_weather"
    assert tool_call.attributes["tool.handler.name"] == "weather-api"

    # Session id on every span of the turn; the resource names the service and the agent.
    assert all(s.attributes["session.id"] == "traced-1" for s in (turn, *chats, tool_call))
    assert turn.resource["service.name"] == "omnia-runtime"
    assert turn.resource["omnia.agent.name"] == "traced-agent"

    # Sample rate 1.0: the call without a traceparent is exported whole, in a trace of its own.
    [other_turn] = received.named("omnia.runtime.conversation.turn", "traced-2")
    assert len(received.named("genai.chat", "traced-2")) == 2
    assert len(received.named("omnia.tool.call", "traced-2")) == 1
    assert other_turn.trace_id != CALLER_TRACE_ID


async def test_sample_rate_zero_exports_nothing_unless_the_caller_sampled_the_trace(
    tmp_path: Path, serve_app: Any
) -> None:
    async with (
        serve_app(weather_tool()) as tool_base,
        collector() as (endpoint, received),
        traced_runtime(tmp_path, endpoint, "0", f"{tool_base}/weather") as (runtime, stop),
    ):
        assert await converse(runtime.grpc_port, "unsampled", "weather in Oslo?") == "Snow in Oslo."
        traceparent = f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01"
        assert await converse(runtime.grpc_port, "caller-sampled", "weather?", traceparent) == "Snow in Oslo."
        await stop()
    assert not [s for s in received.spans if s.attributes.get("session.id") == "unsampled"]
    assert {s.trace_id for s in received.spans} == {CALLER_TRACE_ID}  # only the caller-sampled trace
    assert len(received.named("omnia.runtime.conversation.turn", "caller-sampled")) == 1
    assert len(received.named("genai.chat", "caller-sampled")) == 2
