"""Property test: arbitrary frames never break a connection, the protocol, or a neighbouring connection.

The facade (with a real scripted runtime behind it) runs in its own thread and event loop for the whole module, so
each hypothesis example only opens WebSocket connections.
"""

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from jsonschema import Draft202012Validator
from omnia_facade_testkit import (
    ScriptedRuntime,
    facade_settings,
    recv_json,
    running_facade,
    serving_runtime,
    ws_connect,
)

from omnia_facade.protocol import SERVER_MESSAGE_TYPES


@pytest.fixture(scope="module")
def fuzz_target_url() -> Iterator[str]:
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        holder["loop"] = asyncio.get_running_loop()
        holder["stop"] = stop
        async with serving_runtime(ScriptedRuntime(commands=False)) as runtime:
            settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", facade_max_message_size=8192)
            async with running_facade(settings) as running:
                holder["url"] = running.ws_url
                ready.set()
                await stop.wait()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(30), "facade did not start"
    yield holder["url"]
    holder["loop"].call_soon_threadsafe(holder["stop"].set)
    thread.join(30)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
message_types = st.sampled_from(
    ["message", "tool_result", "tool_call_ack", "tool_call_nack", "upload_request", "bogus", "", "MESSAGE"]
)
envelopes = st.fixed_dictionaries(
    {"type": message_types | st.text(max_size=8)},
    optional={
        "content": st.text(max_size=50) | json_values,
        "session_id": st.text(max_size=20) | json_values,
        "parts": json_values,
        "metadata": json_values,
        "tool_result": json_values,
        "upload_request": json_values,
        "extra": json_values,
    },
).map(json.dumps)
frames = st.lists(
    envelopes | st.text(max_size=200) | st.binary(max_size=100) | json_values.map(json.dumps), min_size=1, max_size=8
)


def check_frame(frame: dict[str, Any], validators: dict[str, Draft202012Validator]) -> None:
    assert frame["type"] in SERVER_MESSAGE_TYPES
    if frame["type"] in validators:
        validators[frame["type"]].validate(frame)


async def exercise(url: str, sent: list[str | bytes], validators: dict[str, Draft202012Validator]) -> None:
    async with ws_connect(url) as victim, ws_connect(url) as bystander:
        check_frame(await recv_json(victim), validators)
        check_frame(await recv_json(bystander), validators)
        for frame in sent:
            await victim.send(frame)
        probe = "probe-call-id"
        await victim.send(json.dumps({"type": "tool_result", "tool_result": {"call_id": probe}}))
        for _ in range(500):
            reply = await recv_json(victim)
            check_frame(reply, validators)
            if reply["type"] == "error" and probe in reply["error"]["message"]:
                break
        else:
            raise AssertionError("the probe was never answered")
        await bystander.send(json.dumps({"type": "message", "content": "bystander"}))
        for _ in range(50):
            reply = await recv_json(bystander)
            check_frame(reply, validators)
            if reply["type"] == "done":
                assert reply["content"] == "echo:bystander"
                break
        else:
            raise AssertionError("the bystander's turn never finished")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sent=frames)
def test_arbitrary_frames_never_break_the_connection_or_its_neighbours(
    fuzz_target_url: str, asyncapi_validators: dict[str, Draft202012Validator], sent: list[str | bytes]
) -> None:
    asyncio.run(exercise(fuzz_target_url, sent, asyncapi_validators))
