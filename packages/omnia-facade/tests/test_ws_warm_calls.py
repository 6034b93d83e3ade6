"""Warm runtime calls through the whole facade: real WebSocket clients, real gRPC to a scripted runtime."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from omnia_facade_testkit import (
    RECV_TIMEOUT,
    RunningFacade,
    ScriptedRuntime,
    facade_settings,
    free_port,
    recv_json,
    recv_until,
    running_facade,
    serving_runtime,
    ws_connect,
)
from opentelemetry.sdk.trace import TracerProvider
from websockets.asyncio.client import ClientConnection

from omnia_facade.runtime_client import RuntimeClient


@asynccontextmanager
async def facade_with_client(
    address: str, *, warm_calls: int = 8, **app_kwargs: Any
) -> AsyncIterator[tuple[RunningFacade, RuntimeClient]]:
    client = RuntimeClient(address, agent_name="test-agent", namespace="test-ns", warm_calls=warm_calls)
    async with running_facade(facade_settings(runtime_address=address), runtime_client=client, **app_kwargs) as running:
        yield running, client


async def turns_finished(running: RunningFacade) -> None:
    """Until the facade has finished every turn (the client may see ``done`` a little earlier)."""
    async with asyncio.timeout(RECV_TIMEOUT):
        await running.server.app.state.facade.wait_idle()


async def turn(ws: ClientConnection, content: str, session_id: str) -> dict[str, object]:
    await ws.send(json.dumps({"type": "message", "content": content, "session_id": session_id}))
    frames = await recv_until(ws, "done")
    assert not [frame for frame in frames if frame["type"] == "error"]
    return frames[-1]


HELLO_TIMING = pytest.mark.parametrize("hello_at_open", [False, True], ids=["hello-after-message", "hello-at-open"])


@HELLO_TIMING
async def test_the_next_turn_goes_out_on_the_call_opened_when_the_previous_turn_ended(
    runtime: ScriptedRuntime, hello_at_open: bool
) -> None:
    runtime.hello_at_open = hello_at_open  # the warm call's hello is read ahead, or after the turn's message
    async with facade_with_client(f"127.0.0.1:{runtime.port}") as (running, client), ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        await turn(ws, "one", session)
        await runtime.wait_calls(lambda r: r.calls_opened == 2 and r.idle_calls == 1)
        assert client.warm_call_count == 1
        done = await turn(ws, "two", session)
        await runtime.wait_calls(lambda r: r.idle_calls == 1 and len(r.requests) == 2)
        assert runtime.calls_opened == 3
    assert runtime.request_calls == [1, 2], "the second turn did not use the call opened after the first"
    assert done["content"] == "echo:two"
    first, second = runtime.metadata
    assert second["x-omnia-session-id"] == first["x-omnia-session-id"] == session
    assert second["x-omnia-origin"] == first["x-omnia-origin"] == "anonymous"
    assert second["x-omnia-request-id"] != first["x-omnia-request-id"]


@HELLO_TIMING
async def test_a_warm_call_left_behind_by_a_restarted_runtime_falls_back_to_a_fresh_call(hello_at_open: bool) -> None:
    port = free_port()
    before, after = ScriptedRuntime(hello_at_open=hello_at_open), ScriptedRuntime(hello_at_open=hello_at_open)
    async with facade_with_client(f"127.0.0.1:{port}") as (running, client), ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        async with serving_runtime(before, port=port):
            await turn(ws, "one", session)
            await before.wait_calls(lambda r: r.idle_calls == 1)
        async with serving_runtime(after, port=port):
            done = await turn(ws, "two", session)
            assert client.warm_call_count == 1
    assert done["content"] == "echo:two"
    assert [request.content for request in after.requests] == ["two"]


async def test_a_warm_call_that_fails_before_any_answer_is_retried_on_a_fresh_call(runtime: ScriptedRuntime) -> None:
    async with facade_with_client(f"127.0.0.1:{runtime.port}") as (running, _), ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        await turn(ws, "one", session)
        await runtime.wait_calls(lambda r: r.idle_calls == 1)
        runtime.fail_next_turns = 1
        done = await turn(ws, "two", session)
    assert done["content"] == "echo:two"
    assert [request.content for request in runtime.requests] == ["one", "two", "two"]


async def test_a_turn_failing_after_the_runtime_answered_is_not_retried(runtime: ScriptedRuntime) -> None:
    async with facade_with_client(f"127.0.0.1:{runtime.port}") as (running, _), ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        await turn(ws, "one", session)
        await runtime.wait_calls(lambda r: r.idle_calls == 1)
        await ws.send(json.dumps({"type": "message", "content": "crash now", "session_id": session}))
        frames = await recv_until(ws, "error")
    assert frames[-1]["error"]["code"] == "AGENT_UNAVAILABLE"
    assert [request.content for request in runtime.requests] == ["one", "crash now"]


@HELLO_TIMING
async def test_closing_the_websocket_closes_its_warm_call(runtime: ScriptedRuntime, hello_at_open: bool) -> None:
    runtime.hello_at_open = hello_at_open  # the read of the hello, ahead of the turn, ends with the call
    async with facade_with_client(f"127.0.0.1:{runtime.port}") as (running, client):
        async with ws_connect(running.ws_url) as ws:
            session = (await recv_json(ws))["session_id"]
            await turn(ws, "one", session)
            await runtime.wait_calls(lambda r: r.idle_calls == 1)
        await runtime.wait_calls(lambda r: r.open_calls == 0)
        assert client.warm_call_count == 0


async def test_stopping_the_facade_closes_every_warm_call(runtime: ScriptedRuntime) -> None:
    async with contextlib.AsyncExitStack() as sockets:
        async with facade_with_client(f"127.0.0.1:{runtime.port}") as (running, client):
            for _ in range(2):
                ws = await sockets.enter_async_context(ws_connect(running.ws_url))
                await turn(ws, "one", (await recv_json(ws))["session_id"])
            await runtime.wait_calls(lambda r: r.idle_calls == 2)
        await runtime.wait_calls(lambda r: r.open_calls == 0)
        assert client.warm_call_count == 0


async def test_warm_calls_never_exceed_the_configured_number(runtime: ScriptedRuntime) -> None:
    address = f"127.0.0.1:{runtime.port}"
    async with facade_with_client(address, warm_calls=2) as (running, client):
        async with ws_connect(running.ws_url) as a, ws_connect(running.ws_url) as b, ws_connect(running.ws_url) as c:
            sessions = [(ws, (await recv_json(ws))["session_id"]) for ws in (a, b, c)]
            for _ in range(2):
                for ws, session in sessions:
                    await turn(ws, "again", session)
                    await turns_finished(running)
                    assert client.warm_call_count <= 2
            assert client.warm_call_count == 2
            await runtime.wait_calls(lambda r: r.idle_calls == 2)
        await runtime.wait_calls(lambda r: r.open_calls == 0)
    assert len(runtime.requests) == 6
    # 6 turns: a and b got warm calls after each of their turns (4), c found no room and opened both its own (2);
    # a and b's first turns opened their own too (2).
    assert runtime.calls_opened == 8


async def test_with_trace_context_every_turn_opens_its_own_call(runtime: ScriptedRuntime) -> None:
    provider = TracerProvider()
    address = f"127.0.0.1:{runtime.port}"
    async with (
        facade_with_client(address, tracer_provider=provider) as (running, client),
        ws_connect(running.ws_url) as ws,
    ):
        session = (await recv_json(ws))["session_id"]
        await turn(ws, "one", session)
        await turns_finished(running)
        assert client.warm_call_count == 0
        await turn(ws, "two", session)
        await turns_finished(running)
        assert client.warm_call_count == 0
    provider.shutdown()
    assert runtime.calls_opened == 2
    first, second = runtime.metadata
    assert first["traceparent"] != second["traceparent"]


async def test_switching_a_connection_to_another_session_closes_the_warm_call_of_the_one_it_left(
    runtime: ScriptedRuntime,
) -> None:
    async with facade_with_client(f"127.0.0.1:{runtime.port}") as (running, client):
        async with ws_connect(running.ws_url) as first:
            earlier = (await recv_json(first))["session_id"]
            await turn(first, "one", earlier)
        await runtime.wait_calls(lambda r: r.open_calls == 0)
        async with ws_connect(running.ws_url) as second:
            current = (await recv_json(second))["session_id"]
            await turn(second, "two", current)
            await runtime.wait_calls(lambda r: r.idle_calls == 1)
            await turn(second, "back to the earlier one", earlier)
            await turns_finished(running)
            assert client.warm_call_count == 1
            await runtime.wait_calls(lambda r: r.open_calls == 1 and r.idle_calls == 1)
            warm_for_earlier = runtime.calls_opened
            await turn(second, "three", earlier)
    assert runtime.request_calls[-1] == warm_for_earlier
