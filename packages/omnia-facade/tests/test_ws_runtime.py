import asyncio
import json

import pytest
from omnia_facade_testkit import (
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
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed


async def test_runtime_crash_mid_stream_is_agent_unavailable_and_the_next_message_works(
    facade: RunningFacade, runtime: ScriptedRuntime
) -> None:
    async with ws_connect(facade.ws_url) as ws:
        hello = await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "crash now"}))
        frames = await recv_until(ws, "error")
        await ws.send(json.dumps({"type": "message", "content": "again", "session_id": hello["session_id"]}))
        after = await recv_until(ws, "done")
    assert frames[-1]["error"]["code"] == "AGENT_UNAVAILABLE"
    assert after[-1]["content"] == "echo:again"
    assert after[-1]["session_id"] == hello["session_id"]


async def test_runtime_down_is_agent_unavailable_and_the_session_works_once_it_is_back() -> None:
    port = free_port()
    settings = facade_settings(runtime_address=f"127.0.0.1:{port}", runtime_connect_timeout=0.5)
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        hello = await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "anyone?"}))
        error = (await recv_until(ws, "error"))[-1]
        assert error["error"]["code"] == "AGENT_UNAVAILABLE"
        async with serving_runtime(ScriptedRuntime(), port=port):
            await ws.send(json.dumps({"type": "message", "content": "back?", "session_id": hello["session_id"]}))
            frames = await recv_until(ws, "done")
    assert frames[-1]["content"] == "echo:back?"


async def test_resuming_a_known_session_continues_it(facade: RunningFacade) -> None:
    async with ws_connect(facade.ws_url) as first:
        hello = await recv_json(first)
        await first.send(json.dumps({"type": "message", "content": "one"}))
        await recv_until(first, "done")
    async with ws_connect(facade.ws_url) as second:
        other = await recv_json(second)
        assert other["session_id"] != hello["session_id"]
        await second.send(json.dumps({"type": "message", "content": "two", "session_id": hello["session_id"]}))
        frames = await recv_until(second, "done")
    assert frames[-1]["session_id"] == hello["session_id"]
    async with asyncio.timeout(10):
        await facade.server.app.state.facade.wait_idle()  # the reply is saved after `done`
    store = facade.server.app.state.facade.store
    log = await store.messages(hello["session_id"])
    assert [(m.role, m.content) for m in log] == [
        ("user", "one"),
        ("assistant", "echo:one"),
        ("user", "two"),
        ("assistant", "echo:two"),
    ]


async def test_resuming_an_unknown_session_is_session_expired_and_the_connection_stays_open(
    facade: RunningFacade,
) -> None:
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "hi", "session_id": "never-issued"}))
        error = (await recv_until(ws, "error"))[-1]
        await ws.send(json.dumps({"type": "message", "content": "fresh"}))
        frames = await recv_until(ws, "done")
    assert error["error"]["code"] == "SESSION_EXPIRED"
    assert frames[-1]["content"] == "echo:fresh"


async def test_session_the_runtime_still_knows_is_resumable_after_the_store_lost_it(
    facade: RunningFacade, runtime: ScriptedRuntime
) -> None:
    runtime.known_sessions.add("kept-by-runtime")
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "hi", "session_id": "kept-by-runtime"}))
        frames = await recv_until(ws, "done")
    assert frames[-1]["session_id"] == "kept-by-runtime"


async def test_resume_query_parameter_reattaches_a_known_session(facade: RunningFacade) -> None:
    async with ws_connect(facade.ws_url) as ws:
        hello = await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "one"}))
        await recv_until(ws, "done")
    async with ws_connect(facade.ws_url + f"&resume={hello['session_id']}") as ws:
        again = await recv_json(ws)
    assert again["session_id"] == hello["session_id"]
    assert again["connected"]["resumed"] is True


async def test_client_disconnect_cancels_the_runtime_stream(facade: RunningFacade, runtime: ScriptedRuntime) -> None:
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "hold it"}))
        async with asyncio.timeout(10):
            await runtime.holding.wait()
    async with asyncio.timeout(10):
        await runtime.cancelled.wait()
    state = facade.server.app.state.facade
    async with asyncio.timeout(10):
        while state.turns_in_flight:
            await asyncio.sleep(0.01)


async def read_until_closed(ws: ClientConnection) -> None:
    for _ in range(100):
        await recv_json(ws)


async def test_hangup_cancels_the_turn_and_closes_normally(facade: RunningFacade, runtime: ScriptedRuntime) -> None:
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "hold it"}))
        async with asyncio.timeout(10):
            await runtime.holding.wait()
        await ws.send(json.dumps({"type": "hangup"}))
        with pytest.raises(ConnectionClosed):
            await read_until_closed(ws)
        assert ws.close_code == 1000
    async with asyncio.timeout(10):
        await runtime.cancelled.wait()


async def test_many_small_runtime_chunks_arrive_complete_and_in_order(
    facade: RunningFacade, runtime: ScriptedRuntime
) -> None:
    async with ws_connect(facade.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "many 500"}))
        frames = await recv_until(ws, "done")
    chunks = [f["content"] for f in frames if f["type"] == "chunk"]
    assert "".join(chunks) == "x" * 500
    assert 1 <= len(chunks) <= 500


async def test_message_without_agent_parameter_or_setting_is_refused_with_400(runtime: ScriptedRuntime) -> None:
    from websockets.exceptions import InvalidStatus

    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", agent_name="")
    async with running_facade(settings) as running:
        with pytest.raises(InvalidStatus) as refused:
            async with ws_connect(f"ws://127.0.0.1:{running.server.port}/ws"):
                pass
    assert refused.value.response.status_code == 400
