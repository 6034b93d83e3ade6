import asyncio
import json

from jsonschema import Draft202012Validator
from omnia_facade_testkit import RunningFacade, ScriptedRuntime, recv_json, recv_until, ws_connect


async def test_connected_is_sent_on_connect_with_capabilities_matching_the_asyncapi_schema(
    facade: RunningFacade, asyncapi_validators: dict[str, Draft202012Validator]
) -> None:
    async with ws_connect(facade.ws_url) as ws:
        hello = await recv_json(ws)
    asyncapi_validators["connected"].validate(hello)
    assert hello["type"] == "connected"
    assert hello["connected"]["capabilities"] == {
        "binary_frames": False,
        "max_payload_size": 16 * 1024 * 1024,
        "protocol_version": 1,
    }
    assert hello["connected"]["resumed"] is False
    assert len(hello["session_id"]) == 36


async def test_message_streams_chunks_then_done_and_every_frame_validates(
    facade: RunningFacade, runtime: ScriptedRuntime, asyncapi_validators: dict[str, Draft202012Validator]
) -> None:
    async with ws_connect(facade.ws_url) as ws:
        hello = await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "hi there", "metadata": {"k": "v"}, "extra": 1}))
        frames = await recv_until(ws, "done")
    for frame in frames:
        asyncapi_validators[frame["type"]].validate(frame)
    chunks = "".join(f["content"] for f in frames if f["type"] == "chunk")
    assert chunks == "echo:hi there"
    done = frames[-1]
    assert done["content"] == "echo:hi there"
    assert done["usage"] == {"input_tokens": 3, "output_tokens": 2, "cost_usd": 0.5}
    assert done["session_id"] == hello["session_id"]
    sent = runtime.requests[-1]
    assert (sent.session_id, sent.content, dict(sent.metadata)) == (hello["session_id"], "hi there", {"k": "v"})
    headers = runtime.metadata[-1]
    assert headers["x-omnia-agent-name"] == "test-agent"
    assert headers["x-omnia-namespace"] == "test-ns"
    assert headers["x-omnia-session-id"] == hello["session_id"]
    assert headers["x-omnia-request-id"]
    assert "authorization" not in headers


async def test_unknown_type_gets_invalid_message_and_the_connection_stays_usable(facade: RunningFacade) -> None:
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "dance"}))
        error = await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "still there?"}))
        frames = await recv_until(ws, "done")
    assert error["error"]["code"] == "INVALID_MESSAGE"
    assert "dance" in error["error"]["message"]
    assert frames[-1]["content"] == "echo:still there?"


async def test_malformed_frames_each_get_invalid_message(facade: RunningFacade) -> None:
    bad_frames: list[str | bytes] = [
        "{not json",
        "[1, 2]",
        '{"type": 5}',
        '{"type": "message"}',
        '{"type": "message", "content": 12}',
        '{"type": "message", "content": "x", "metadata": {"a": 1}}',
        '{"type": "tool_result"}',
        "[" * 100_000,
        b"\x00\x01binary",
    ]
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        for frame in bad_frames:
            await ws.send(frame)
            reply = await recv_json(ws)
            assert reply["type"] == "error", frame
            assert reply["error"]["code"] == "INVALID_MESSAGE", (frame, reply)


async def test_frame_over_the_size_limit_is_refused_and_the_connection_survives(runtime: ScriptedRuntime) -> None:
    from omnia_facade_testkit import facade_settings, running_facade

    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", facade_max_message_size=4096)
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        hello = await recv_json(ws)
        assert hello["connected"]["capabilities"]["max_payload_size"] == 4096
        await ws.send(json.dumps({"type": "message", "content": "x" * 5000}))
        error = await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "small"}))
        frames = await recv_until(ws, "done")
    assert error["error"]["code"] == "INVALID_MESSAGE"
    assert frames[-1]["content"] == "echo:small"


async def test_frame_far_over_the_size_limit_closes_the_socket_with_1009_and_spares_its_neighbours(
    runtime: ScriptedRuntime,
) -> None:
    """Past the limit plus 64 KiB the frame is not read at all: the WebSocket layer closes with 1009."""
    from omnia_facade_testkit import facade_settings, running_facade
    from websockets.exceptions import ConnectionClosed

    from omnia_facade.server import FRAME_SLACK_BYTES

    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", facade_max_message_size=4096)
    async with (
        running_facade(settings) as running,
        ws_connect(running.ws_url) as big,
        ws_connect(running.ws_url) as neighbour,
    ):
        await recv_json(big)
        await recv_json(neighbour)
        await big.send(json.dumps({"type": "message", "content": "x" * (4096 + FRAME_SLACK_BYTES + 1)}))
        async with asyncio.timeout(10):
            try:
                while True:
                    await big.recv()
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else None
        await neighbour.send(json.dumps({"type": "message", "content": "still here"}))
        frames = await recv_until(neighbour, "done")
    assert code == 1009
    assert frames[-1]["content"] == "echo:still here"


async def test_second_message_while_a_turn_is_in_flight_is_rate_limited(
    facade: RunningFacade, runtime: ScriptedRuntime
) -> None:
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "hold on"}))
        await recv_until(ws, "chunk")
        async with asyncio.timeout(10):
            await runtime.holding.wait()
        await ws.send(json.dumps({"type": "message", "content": "me too"}))
        error = await recv_json(ws)
        runtime.release.set()
        done = await recv_until(ws, "done")
    assert error["error"]["code"] == "RATE_LIMITED"
    assert done[-1]["content"] == "released"
    assert len(runtime.requests) == 1


async def test_a_flood_of_frames_is_rate_limited(runtime: ScriptedRuntime) -> None:
    from omnia_facade_testkit import facade_settings, running_facade

    settings = facade_settings(
        runtime_address=f"127.0.0.1:{runtime.port}", facade_message_rate=0.5, facade_message_burst=3
    )
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        await recv_json(ws)
        for _ in range(6):
            await ws.send(json.dumps({"type": "tool_call_ack", "tool_call_ack": {"call_id": "x"}}))
        codes = [(await recv_json(ws))["error"]["code"] for _ in range(6)]
    assert codes[:3] == ["INVALID_MESSAGE"] * 3
    assert codes[3:] == ["RATE_LIMITED"] * 3


async def test_client_tool_call_round_trip_reaches_the_runtime(
    facade: RunningFacade, runtime: ScriptedRuntime, asyncapi_validators: dict[str, Draft202012Validator]
) -> None:
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "tool please"}))
        call = (await recv_until(ws, "tool_call"))[-1]
        asyncapi_validators["tool_call"].validate(call)
        await ws.send(
            json.dumps({"type": "tool_result", "tool_result": {"call_id": "call-1", "result": {"city": "Oslo"}}})
        )
        frames = await recv_until(ws, "done")
    assert call["tool_call"] == {
        "id": "call-1",
        "name": "get_location",
        "arguments": {"precision": "city"},
        "consent_message": "Share your location?",
        "categories": ["location"],
    }
    assert json.loads(runtime.tool_results[-1].result_json) == {"city": "Oslo"}
    assert frames[-1]["content"] == 'tool said {"city": "Oslo"}'


async def test_tool_nack_reaches_the_runtime_as_a_rejection(facade: RunningFacade, runtime: ScriptedRuntime) -> None:
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "tool please"}))
        await recv_until(ws, "tool_call")
        await ws.send(json.dumps({"type": "tool_call_nack", "tool_call_nack": {"call_id": "call-1", "reason": "no"}}))
        frames = await recv_until(ws, "done")
    assert runtime.tool_results[-1].is_rejected
    assert runtime.tool_results[-1].rejection_reason == "no"
    assert frames[-1]["content"] == "tool said rejected"


async def test_tool_result_for_an_unknown_call_is_an_error(facade: RunningFacade) -> None:
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "tool_result", "tool_result": {"call_id": "nope", "result": 1}}))
        error = await recv_json(ws)
    assert error["error"]["code"] == "INVALID_MESSAGE"
    assert "no pending tool call" in error["error"]["message"]


async def test_unanswered_client_tool_call_is_rejected_after_the_timeout(runtime: ScriptedRuntime) -> None:
    from omnia_facade_testkit import facade_settings, running_facade

    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", facade_client_tool_timeout=0.2)
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "tool please"}))
        frames = await recv_until(ws, "done")
    assert runtime.tool_results[-1].is_rejected
    assert frames[-1]["content"] == "tool said rejected"


async def test_binary_frames_are_refused_even_when_the_client_asked_for_them(facade: RunningFacade) -> None:
    async with ws_connect(facade.ws_url + "&binary=true") as ws:
        hello = await recv_json(ws)
        await ws.send(b"OMNI" + bytes(28))
        error = await recv_json(ws)
    assert hello["connected"]["capabilities"]["binary_frames"] is False
    assert error["error"]["code"] == "INVALID_MESSAGE"
    assert "not supported" in error["error"]["message"]


async def test_session_consent_grants_stick_and_per_message_grants_override_them(
    facade: RunningFacade, runtime: ScriptedRuntime
) -> None:
    async with ws_connect(facade.ws_url + "&workspace=team-a") as ws:
        await recv_json(ws)
        first = {"type": "message", "content": "a", "session_consent_grants": ["memory:context"]}
        await ws.send(json.dumps(first))
        await recv_until(ws, "done")
        await ws.send(json.dumps({"type": "message", "content": "b"}))
        await recv_until(ws, "done")
        await ws.send(json.dumps({"type": "message", "content": "c", "consent_grants": ["memory:health"]}))
        await recv_until(ws, "done")
    assert [list(r.consent_grants) for r in runtime.requests] == [
        ["memory:context"],
        ["memory:context"],
        ["memory:health"],
    ]
    assert runtime.metadata[-1]["x-omnia-consent-grants"] == "memory:health"
    assert runtime.metadata[-1]["x-omnia-workspace"] == "team-a"
