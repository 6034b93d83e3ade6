"""Converse, Invoke, Health and HasConversation over a real loopback gRPC channel with the mock provider."""

import asyncio
import contextlib
import gc
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_runtime.providers.base import ChatRequest, Finish, ProviderEvent, TextDelta, Usage
from omnia_runtime.server.app import RunningServers, running_runtime
from omnia_runtime.settings import RuntimeSettings
from omnia_runtime.tools.base import StaticToolExecutor, ToolSpec

PACK = {
    "id": "weather-agent",
    "name": "Weather agent",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "fragments": {"tone": "Be {{style}}."},
    "prompts": {
        "main": {
            "id": "main",
            "name": "Main",
            "version": "1.0.0",
            "system_template": "You answer weather questions for {{company}}. {{fragment:tone}}",
            "variables": [
                {"name": "company", "type": "string", "required": False, "default": "Acme"},
                {"name": "style", "type": "string", "required": False, "default": "brief"},
            ],
            "tools": ["get_weather"],
            "tool_policy": {"max_rounds": 4, "max_tool_calls_per_turn": 5},
        }
    },
    "tools": {
        "get_weather": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    },
}

MOCK = {
    "defaultResponse": "Hello from the mock.",
    "scenarios": {
        "weather": {
            "match": ["weather"],
            "turns": {
                1: {
                    "response": "Looking it up.",
                    "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
                },
                2: {"tool_calls": [{"name": "get_weather", "arguments": {"city": 42}}]},
                3: "Sunny in Paris.",
            },
        },
        "location": {
            "match": ["where am i"],
            "turns": {1: {"tool_calls": [{"name": "get_location", "arguments": {}}]}, 2: "You are near the river."},
        },
        "counting": {"match": ["count"], "turns": {1: "first", 2: "second", 3: "third"}},
    },
}


@pytest.fixture
def settings(tmp_path: Path) -> RuntimeSettings:
    pack_path = tmp_path / "pack.json"
    pack_path.write_text(json.dumps(PACK))
    mock_path = tmp_path / "mock.yaml"
    mock_path.write_text(yaml.safe_dump(MOCK))
    return RuntimeSettings(
        bind_host="127.0.0.1",
        grpc_port=0,
        health_port=0,
        promptpack_path=pack_path,
        mock_config=mock_path,
        tools_config_path=tmp_path / "absent-tools.yaml",
        client_tool_timeout=10,
        max_content_length=1000,
        shutdown_grace=1,
        provider_input_cost=1.0,
        provider_output_cost=2.0,
    )


class Tools:
    def __init__(self) -> None:
        self.weather_calls: list[str] = []
        self.executor = StaticToolExecutor()
        self.executor.add(
            ToolSpec(
                name="get_weather", description="Weather", input_schema=PACK["tools"]["get_weather"]["parameters"]
            ),
            self.weather,
        )
        self.executor.add(
            ToolSpec(
                name="get_location", description="Where the user is", execution="client", consent_message="Share?"
            ),
            lambda: None,
        )

    def weather(self, city: str) -> dict[str, str]:
        self.weather_calls.append(city)
        return {"city": city, "sky": "clear"}


@contextlib.asynccontextmanager
async def runtime(settings: RuntimeSettings, tools: Tools | None = None) -> AsyncIterator[tuple[RunningServers, Any]]:
    async with running_runtime(settings, executor=(tools or Tools()).executor) as servers:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{servers.grpc_port}")
        try:
            yield servers, runtime_pb2_grpc.RuntimeServiceStub(channel)
        finally:
            await channel.close()


async def read_all(call: Any, on_tool_call: Any = None) -> list[runtime_pb2.ServerMessage]:
    frames: list[runtime_pb2.ServerMessage] = []
    for _ in range(1000):
        frame = await call.read()
        if not isinstance(frame, runtime_pb2.ServerMessage):  # end of stream
            break
        frames.append(frame)
        if frame.HasField("tool_call") and on_tool_call is not None:
            await call.write(on_tool_call(frame.tool_call))
        if frame.WhichOneof("message") in ("done", "error"):
            break
    await call.done_writing()
    return frames


async def converse(stub: Any, session: str, content: str, on_tool_call: Any = None, **metadata: str) -> list[Any]:
    call = stub.Converse(metadata=(("x-omnia-user-id", "u-1"),), timeout=30)
    await call.write(runtime_pb2.ClientMessage(session_id=session, content=content, metadata=metadata))
    return await read_all(call, on_tool_call)


def kinds(frames: list[runtime_pb2.ServerMessage]) -> list[str]:
    return [str(f.WhichOneof("message")) for f in frames]


async def test_converse_runs_a_multi_round_tool_loop_and_refuses_bad_arguments(settings: RuntimeSettings) -> None:
    tools = Tools()
    async with runtime(settings, tools) as (_, stub):
        frames = await converse(stub, "s-weather", "What is the weather in Paris?")
    assert kinds(frames)[0] == "runtime_hello"
    assert "client_tools" in frames[0].runtime_hello.capabilities
    assert kinds(frames)[-1] == "done"
    assert "tool_call" not in kinds(frames)  # server-side tools never appear on the stream
    assert "".join(f.chunk.content for f in frames if f.HasField("chunk")) == "Looking it up.Sunny in Paris."
    done = frames[-1].done
    assert done.final_content == "Sunny in Paris."
    assert tools.weather_calls == ["Paris"]  # the call with city=42 failed validation and never ran
    assert done.usage.input_tokens > 0
    assert done.usage.cost_usd == pytest.approx(
        (done.usage.input_tokens * 1.0 + done.usage.output_tokens * 2.0) / 1000, rel=1e-4
    )


async def test_the_hello_arrives_when_the_stream_opens_before_any_message(settings: RuntimeSettings) -> None:
    # A client that opens its call ahead of the turn (the facade's warm calls) has the hello before it writes,
    # so the turn's first frame is text.
    async with runtime(settings) as (_, stub):
        call = stub.Converse(timeout=30)
        try:
            hello = await asyncio.wait_for(call.read(), timeout=10)
            assert hello.WhichOneof("message") == "runtime_hello"
            assert "client_tools" in hello.runtime_hello.capabilities
            await call.write(runtime_pb2.ClientMessage(session_id="s-early", content="hi"))
            rest = await read_all(call)
        finally:
            call.cancel()
    assert kinds(rest)[0] == "chunk"
    assert kinds(rest)[-1] == "done"
    assert "runtime_hello" not in kinds(rest)  # one hello per stream


async def test_client_tool_round_trip_on_the_same_stream(settings: RuntimeSettings) -> None:
    seen: list[runtime_pb2.ToolCall] = []

    def answer(call: runtime_pb2.ToolCall) -> runtime_pb2.ClientMessage:
        seen.append(call)
        result = runtime_pb2.ClientToolResult(call_id=call.id, result_json='{"lat": 48.85}')
        return runtime_pb2.ClientMessage(session_id="s-loc", client_tool_result=result)

    async with runtime(settings) as (_, stub):
        frames = await converse(stub, "s-loc", "Where am I?", answer)
    assert [c.name for c in seen] == ["get_location"]
    assert seen[0].execution == runtime_pb2.TOOL_EXECUTION_CLIENT
    assert seen[0].consent_message == "Share?"
    assert frames[-1].done.final_content == "You are near the river."


async def test_session_resumes_after_a_restart_on_the_same_redis(settings: RuntimeSettings, redis_url: str) -> None:
    settings = settings.model_copy(update={"context_type": "redis", "context_url": redis_url})
    async with runtime(settings) as (_, stub):
        first = await converse(stub, "s-resume", "count please")
    assert first[-1].done.final_content == "first"
    async with runtime(settings) as (_, stub):
        probe = await stub.HasConversation(runtime_pb2.HasConversationRequest(session_id="s-resume"))
        assert probe.state == runtime_pb2.RESUME_STATE_RESUMABLE
        second = await converse(stub, "s-resume", "count again")
    assert second[-1].done.final_content == "second"


async def test_unknown_session_is_new_for_converse_and_not_found_for_has_conversation(
    settings: RuntimeSettings,
) -> None:
    async with runtime(settings) as (_, stub):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.HasConversation(runtime_pb2.HasConversationRequest(session_id="never-seen"))
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
        frames = await converse(stub, "never-seen", "count from scratch")
        assert frames[-1].done.final_content == "first"


async def test_oversized_content_gets_a_clear_error_frame(settings: RuntimeSettings) -> None:
    async with runtime(settings) as (_, stub):
        frames = await converse(stub, "s-big", "x" * 5000)
    assert kinds(frames) == ["runtime_hello", "error"]
    assert frames[-1].error.code == "INVALID_MESSAGE"
    assert "limit is 1000" in frames[-1].error.message


async def test_messages_over_the_grpc_size_limit_are_refused(settings: RuntimeSettings) -> None:
    settings = settings.model_copy(update={"grpc_max_message_size": 4096})
    async with runtime(settings) as (_, stub):
        call = stub.Converse(timeout=30)
        await call.write(runtime_pb2.ClientMessage(session_id="s", content="y" * 10_000))
        received = []

        async def read_to_the_end() -> None:
            while True:  # the hello, sent when the stream opened, may still be read first
                received.append((await call.read()).WhichOneof("message"))

        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await read_to_the_end()
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert received in ([], ["runtime_hello"])


def provider_requests(metrics_text: str) -> float:
    """Successful provider requests counted so far, read from the /metrics exposition."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == "omnia_provider_requests_total" and sample.labels.get("status") == "success"
    )


async def test_health_and_invoke(settings: RuntimeSettings) -> None:
    async with runtime(settings) as (servers, stub):
        health = await stub.Health(runtime_pb2.HealthRequest())
        assert health.contract_version == "1.3.0"
        assert health.healthy
        assert "invoke" in health.capabilities
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}") as http:
            before = provider_requests((await http.get("/metrics")).text)
            response = await stub.Invoke(
                runtime_pb2.InvocationRequest(input_json='{"input": "count it"}', invocation_id="i1")
            )
            assert json.loads(response.output_json) == {"output": "first"}
            assert response.invocation_id == "i1"
            assert (await http.get("/readyz")).status_code == 200
            metrics = (await http.get("/metrics")).text
    assert provider_requests(metrics) == before + 1
    assert "omnia_runtime_info{" in metrics


async def test_invalid_pack_keeps_the_runtime_unready_and_says_why(settings: RuntimeSettings) -> None:
    broken = dict(PACK)
    del broken["template_engine"]
    settings.promptpack_path.write_text(json.dumps(broken))
    async with runtime(settings) as (servers, stub):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}") as http:
            ready = await http.get("/readyz")
            assert (await http.get("/healthz")).status_code == 200
        frames = await converse(stub, "s", "hello")
        health = await stub.Health(runtime_pb2.HealthRequest())
    assert ready.status_code == 503
    assert "'template_engine' is a required property" in ready.text
    assert not health.healthy
    assert "not ready" in health.status
    assert frames[-1].error.code == "CONFIG_ERROR"


async def test_a_client_cancelling_its_call_leaves_no_task_failure_behind(settings: RuntimeSettings) -> None:
    """The facade cancels a turn's call once it has `done` (and when its client leaves mid-turn)."""
    loop = asyncio.get_running_loop()
    problems: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: problems.append(context))
    try:
        async with runtime(settings) as (_, stub):
            for cancel_after in ("done", "runtime_hello"):
                for _ in range(5):
                    call = stub.Converse()
                    await call.write(runtime_pb2.ClientMessage(session_id="s-cancel", content="count"))
                    while True:
                        frame = await call.read()
                        assert isinstance(frame, runtime_pb2.ServerMessage)
                        if frame.WhichOneof("message") == cancel_after:
                            break
                    call.cancel()
            # The runtime still serves a whole turn afterwards.
            call = stub.Converse()
            await call.write(runtime_pb2.ClientMessage(session_id="s-after", content="hello"))
            frames = await read_all(call)
            assert frames[-1].WhichOneof("message") == "done"
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert problems == []


class RecordingProvider:
    """A provider that records each request and answers with a fixed JSON text."""

    name = "recording"
    model = "recording-1"

    def __init__(self) -> None:
        self.requests: list[ChatRequest] = []

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        self.requests.append(request)
        yield TextDelta('{"ok": true}')
        yield Usage(input_tokens=3, output_tokens=2)
        yield Finish()

    async def aclose(self) -> None:
        return None


async def test_invoke_binds_the_input_json_to_the_template_variables(settings: RuntimeSettings) -> None:
    provider = RecordingProvider()
    async with running_runtime(settings, provider=provider, executor=Tools().executor) as servers:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{servers.grpc_port}")
        try:
            response = await runtime_pb2_grpc.RuntimeServiceStub(channel).Invoke(
                runtime_pb2.InvocationRequest(input_json='{"company": "Globex", "style": "terse"}', invocation_id="i2")
            )
        finally:
            await channel.close()
    assert response.invocation_id == "i2"
    (request,) = provider.requests
    assert request.system == "You answer weather questions for Globex. Be terse."
