"""Prometheus metrics by value, read from the runtime's own /metrics over HTTP after real turns.

The runtime runs with the mock provider and real HTTP tool backends (from a tools.yaml, through the tool
router); a second runtime talks to an OpenAI-compatible server that answers 503 for the error statuses.
"""

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_runtime.server.app import RunningServers, running_runtime
from omnia_runtime.settings import RuntimeSettings

PACK = {
    "id": "metered",
    "name": "Metered",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "prompts": {"main": {"id": "main", "name": "Main", "version": "1.0.0", "system_template": "S"}},
}

MOCK = {
    "scenarios": {
        "weather": {
            "match": ["weather"],
            "turns": {
                1: {
                    "response": "Checking both.",
                    "tool_calls": [
                        {"name": "get_weather", "arguments": {"city": "Paris"}},
                        {"name": "get_alerts", "arguments": {"city": "Paris"}},
                    ],
                },
                2: "Sunny, no alerts.",
            },
        },
        "confirm": {
            "match": ["confirm"],
            "turns": {1: {"tool_calls": [{"name": "confirm", "arguments": {}}]}, 2: "Confirmed."},
        },
    }
}


def tool_backend() -> Starlette:
    async def weather(request: Request) -> JSONResponse:
        return JSONResponse({"sky": "clear"})

    async def alerts(request: Request) -> JSONResponse:
        return JSONResponse({"error": "no such region"}, status_code=400)  # not retryable: one failed call

    return Starlette(routes=[Route("/weather", weather, methods=["POST"]), Route("/alerts", alerts, methods=["POST"])])


def tools_yaml(base_url: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    return {
        "handlers": [
            {
                "name": "weather-api",
                "type": "http",
                "endpoint": f"{base_url}/weather",
                "tool": {"name": "get_weather", "description": "Weather", "inputSchema": schema},
            },
            {
                "name": "alerts-api",
                "type": "http",
                "endpoint": f"{base_url}/alerts",
                "tool": {"name": "get_alerts", "description": "Alerts", "inputSchema": schema},
            },
            {"name": "browser", "type": "client", "tool": {"name": "confirm", "description": "Ask the user"}},
        ]
    }


def base_settings(tmp_path: Path, **overrides: Any) -> RuntimeSettings:
    (tmp_path / "pack.json").write_text(json.dumps(PACK))
    (tmp_path / "mock.yaml").write_text(yaml.safe_dump(MOCK))
    values: dict[str, Any] = {
        "bind_host": "127.0.0.1",
        "grpc_port": 0,
        "health_port": 0,
        "promptpack_path": tmp_path / "pack.json",
        "mock_config": tmp_path / "mock.yaml",
        "tools_config_path": tmp_path / "tools.yaml",
        "client_tool_timeout": 10,
        "shutdown_grace": 1,
        "provider_input_cost": 1.0,
        "provider_output_cost": 2.0,
    }
    values.update(overrides)
    return RuntimeSettings(**values)


class Metrics:
    """Samples of one /metrics scrape."""

    def __init__(self, text: str) -> None:
        self._samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sample's value (0 when the series does not exist yet)."""
        for sample in self._samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
        return 0.0


@contextlib.asynccontextmanager
async def runtime(settings: RuntimeSettings) -> AsyncIterator[tuple[RunningServers, Any, httpx.AsyncClient]]:
    async with (
        running_runtime(settings) as servers,
        grpc.aio.insecure_channel(f"127.0.0.1:{servers.grpc_port}") as channel,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}", timeout=10) as http,
    ):
        yield servers, runtime_pb2_grpc.RuntimeServiceStub(channel), http


async def scrape(http: httpx.AsyncClient) -> Metrics:
    response = await http.get("/metrics")
    assert response.status_code == 200
    return Metrics(response.text)


async def turn(stub: Any, session: str, content: str, on_tool_call: Any = None) -> list[runtime_pb2.ServerMessage]:
    call = stub.Converse(timeout=30)
    await call.write(runtime_pb2.ClientMessage(session_id=session, content=content))
    frames: list[runtime_pb2.ServerMessage] = []
    for _ in range(200):
        frame = await call.read()
        if not isinstance(frame, runtime_pb2.ServerMessage):
            break
        frames.append(frame)
        if frame.HasField("tool_call") and on_tool_call is not None:
            await call.write(await on_tool_call(frame.tool_call))
        if frame.WhichOneof("message") in ("done", "error"):
            break
    await call.done_writing()
    assert await call.code() == grpc.StatusCode.OK  # the server has finished the call (and its bookkeeping)
    return frames


def deltas(before: Metrics, after: Metrics, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


async def test_a_turn_with_tools_moves_every_metric_by_the_exact_amount(tmp_path: Path, serve_app: Any) -> None:
    async with serve_app(tool_backend()) as base_url:
        (tmp_path / "tools.yaml").write_text(yaml.safe_dump(tools_yaml(base_url)))
        async with runtime(base_settings(tmp_path)) as (_, stub, http):
            before = await scrape(http)
            frames = await turn(stub, "metered-1", "weather please")
            after = await scrape(http)
    done = frames[-1].done
    assert done.final_content == "Sunny, no alerts."
    mock = {"provider": "mock", "model": "mock-model"}

    # Tokens: the mock counts words. Output: "Checking both." (2) + "Sunny, no alerts." (3).
    assert done.usage.output_tokens == 5
    assert deltas(before, after, "omnia_provider_output_tokens_total", **mock) == 5
    # Input: "S" + "weather please" for the first call (3), more for the second (history and tool results).
    assert done.usage.input_tokens > 2 * 3
    assert deltas(before, after, "omnia_provider_input_tokens_total", **mock) == done.usage.input_tokens
    expected_cost = done.usage.input_tokens / 1000 * 1.0 + 5 / 1000 * 2.0
    assert deltas(before, after, "omnia_provider_cost_total", **mock) == pytest.approx(expected_cost)
    assert done.usage.cost_usd == pytest.approx(expected_cost, rel=1e-6)  # float32 on the wire

    # Two model calls, both successful.
    assert deltas(before, after, "omnia_provider_requests_total", status="success", **mock) == 2
    assert deltas(before, after, "omnia_provider_requests_total", status="error", **mock) == 0
    assert deltas(before, after, "omnia_provider_request_duration_seconds_count", **mock) == 2

    # One successful turn: the histogram's count moves by one and its sum grows.
    assert deltas(before, after, "omnia_runtime_turn_duration_seconds_count", status="success") == 1
    assert deltas(before, after, "omnia_runtime_turn_duration_seconds_sum", status="success") > 0
    assert deltas(before, after, "omnia_runtime_turn_duration_seconds_count", status="error") == 0

    # One tool call succeeded, the other failed (HTTP 400): one count each, by tool and status.
    assert deltas(before, after, "omnia_tool_calls_total", tool="get_weather", status="success") == 1
    assert deltas(before, after, "omnia_tool_calls_total", tool="get_weather", status="error") == 0
    assert deltas(before, after, "omnia_tool_calls_total", tool="get_alerts", status="error") == 1
    assert deltas(before, after, "omnia_tool_calls_total", tool="get_alerts", status="success") == 0
    for tool in ("get_weather", "get_alerts"):
        assert deltas(before, after, "omnia_tool_call_duration_seconds_count", tool=tool) == 1
        assert deltas(before, after, "omnia_tool_call_duration_seconds_sum", tool=tool) > 0


async def test_active_sessions_rise_during_a_turn_and_fall_when_it_ends(tmp_path: Path, serve_app: Any) -> None:
    async with serve_app(tool_backend()) as base_url:
        (tmp_path / "tools.yaml").write_text(yaml.safe_dump(tools_yaml(base_url)))
        async with runtime(base_settings(tmp_path)) as (_, stub, http):
            before = await scrape(http)
            idle = before.value("omnia_runtime_active_sessions")
            during: list[float] = []

            async def answer(call: runtime_pb2.ToolCall) -> runtime_pb2.ClientMessage:
                # The turn is waiting for this client tool result: it is in progress right now.
                during.append((await scrape(http)).value("omnia_runtime_active_sessions"))
                result = runtime_pb2.ClientToolResult(call_id=call.id, result_json='{"ok": true}')
                return runtime_pb2.ClientMessage(session_id="metered-2", client_tool_result=result)

            # A pre-opened call (as a facade opens the next turn's call ahead) is no session until it speaks.
            warm = stub.Converse(timeout=30)
            await warm.wait_for_connection()
            frames = await turn(stub, "metered-2", "please confirm", on_tool_call=answer)
            warm.cancel()
            after = await scrape(http)
    assert frames[-1].done.final_content == "Confirmed."
    assert during == [idle + 1]
    assert after.value("omnia_runtime_active_sessions") == idle
    # The client tool call is counted too (settled by the conversation loop, not the router).
    assert deltas(before, after, "omnia_tool_calls_total", tool="confirm", status="success") == 1
    assert deltas(before, after, "omnia_tool_call_duration_seconds_count", tool="confirm") == 1


def overloaded_vendor() -> Starlette:
    async def completions(request: Request) -> JSONResponse:
        return JSONResponse({"error": {"message": "overloaded", "type": "server_error"}}, status_code=503)

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


async def test_a_failing_provider_counts_an_error_request_and_an_error_turn(tmp_path: Path, serve_app: Any) -> None:
    async with serve_app(overloaded_vendor()) as vendor_url:
        settings = base_settings(
            tmp_path,
            provider_type="openai",
            provider_model="gpt-metrics",
            provider_base_url=f"{vendor_url}/v1",
            provider_api_key="sk-test",
        )
        async with runtime(settings) as (_, stub, http):
            before = await scrape(http)
            frames = await turn(stub, "metered-3", "hello")
            after = await scrape(http)
    assert frames[-1].error.code == "PROVIDER_UNAVAILABLE"
    openai: Mapping[str, str] = {"provider": "openai", "model": "gpt-metrics"}
    assert deltas(before, after, "omnia_provider_requests_total", status="error", **openai) == 1
    assert deltas(before, after, "omnia_provider_requests_total", status="success", **openai) == 0
    assert deltas(before, after, "omnia_provider_input_tokens_total", **openai) == 0
    assert deltas(before, after, "omnia_runtime_turn_duration_seconds_count", status="error") == 1
    assert deltas(before, after, "omnia_runtime_turn_duration_seconds_count", status="success") == 0


async def test_output_validators_are_counted_by_outcome_and_timed(tmp_path: Path) -> None:
    validators = [
        {"type": "banned_words", "enabled": True, "params": {"words": ["rain"]}},  # passes
        {"type": "max_length", "enabled": True, "params": {"max_characters": 5}},  # fails, reported only
        {"type": "toxicity", "enabled": True, "params": {"threshold": 0.5}},  # not enforced here
        {"type": "min_length", "enabled": False, "params": {"min_characters": 500}},  # disabled: not counted
    ]
    settings = base_settings(tmp_path)
    pack = {**PACK, "prompts": {"main": {**PACK["prompts"]["main"], "validators": validators}}}
    (tmp_path / "pack.json").write_text(json.dumps(pack))
    async with runtime(settings) as (_, stub, http):
        before = await scrape(http)
        frames = await turn(stub, "validated-1", "confirm")  # answered "Confirmed." (10 characters)
        after = await scrape(http)
    assert frames[-1].WhichOneof("message") == "done"

    def counted(validator: str, status: str) -> float:
        return deltas(
            before, after, "omnia_validations_total", validator=validator, validator_type="output", status=status
        )

    assert counted("banned_words", "passed") == 1
    assert counted("banned_words", "failed") == 0
    assert counted("max_length", "failed") == 1
    assert counted("toxicity", "skipped") == 1
    assert counted("min_length", "passed") + counted("min_length", "failed") == 0
    assert deltas(before, after, "omnia_validation_duration_seconds_count", validator="max_length") == 1
    assert deltas(before, after, "omnia_validation_duration_seconds_count", validator="toxicity") == 0
