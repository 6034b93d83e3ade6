import asyncio
import gc
import json

import httpx
import pytest
from omnia_facade_testkit import (
    ScriptedRuntime,
    facade_settings,
    recv_json,
    recv_until,
    running_facade,
    ws_connect,
)
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from omnia_facade.app import create_app
from omnia_facade.server import FacadeServer


async def read_until_closed(ws: ClientConnection) -> list[dict[str, object]]:
    frames = []
    for _ in range(100):
        frames.append(await recv_json(ws))
    return frames


async def test_health_endpoints_and_metrics_report_traffic(runtime: ScriptedRuntime) -> None:
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "hi"}))
        await recv_until(ws, "done")
        async with httpx.AsyncClient(base_url=running.health_url, timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            metrics = (await http.get("/metrics")).text
    labels = 'agent="test-agent",namespace="test-ns"'
    assert f"omnia_agent_connections_active{{{labels}}} 1.0" in metrics
    assert f"omnia_agent_connections_total{{{labels}}} 1.0" in metrics
    assert f"omnia_agent_sessions_active{{{labels}}} 1.0" in metrics
    assert f'omnia_agent_requests_total{{{labels},status="success"}} 1.0' in metrics
    assert f"omnia_agent_requests_inflight{{{labels}}} 0.0" in metrics
    assert f"omnia_agent_messages_received_total{{{labels}}} 1.0" in metrics
    assert f"omnia_agent_messages_sent_total{{{labels}}} " in metrics
    assert "omnia_agent_request_duration_seconds_bucket" in metrics
    assert f"omnia_facade_upload_bytes_total{{{labels}}} 0.0" in metrics, "a chat turn uploads nothing"


async def test_upgrades_beyond_max_connections_get_503(runtime: ScriptedRuntime) -> None:
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", facade_max_connections=2)
    async with running_facade(settings) as running, ws_connect(running.ws_url) as a, ws_connect(running.ws_url) as b:
        await recv_json(a)
        await recv_json(b)
        with pytest.raises(InvalidStatus) as refused:
            async with ws_connect(running.ws_url):
                pass
        assert refused.value.response.status_code == 503


async def test_drain_refuses_new_upgrades_lets_the_turn_finish_then_closes_with_1001(runtime: ScriptedRuntime) -> None:
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", facade_drain_timeout=10)
    frames: list[dict[str, object]] = []
    async with (
        running_facade(settings) as running,
        ws_connect(running.ws_url) as busy,
        ws_connect(running.ws_url) as idle,
    ):
        await recv_json(busy)
        await recv_json(idle)
        await busy.send(json.dumps({"type": "message", "content": "hold please"}))
        async with asyncio.timeout(10):
            await runtime.holding.wait()
        running.stop.set()
        state = running.server.app.state.facade
        async with asyncio.timeout(10):
            while not state.draining:
                await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=running.health_url, timeout=10) as http:
            assert (await http.get("/readyz")).status_code == 503
        with pytest.raises(InvalidStatus) as refused:
            async with ws_connect(running.ws_url):
                pass
        assert refused.value.response.status_code == 503
        runtime.release.set()
        with pytest.raises(ConnectionClosed):
            await read_until_closed_into(busy, frames)
        with pytest.raises(ConnectionClosed):
            await read_until_closed(idle)
    assert frames[-1]["type"] == "done"
    assert frames[-1]["content"] == "released"
    assert busy.close_code == 1001
    assert idle.close_code == 1001


async def read_until_closed_into(ws: ClientConnection, frames: list[dict[str, object]]) -> None:
    for _ in range(100):
        frames.append(await recv_json(ws))


async def test_drain_timeout_cuts_a_turn_that_does_not_finish(runtime: ScriptedRuntime) -> None:
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", facade_drain_timeout=0.2)
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "hold forever"}))
        async with asyncio.timeout(10):
            await runtime.holding.wait()
        running.stop.set()
        with pytest.raises(ConnectionClosed):
            await read_until_closed(ws)
        assert ws.close_code == 1001
    async with asyncio.timeout(10):
        await runtime.cancelled.wait()


async def test_browser_console_is_served_only_when_enabled() -> None:
    async with (
        running_facade(facade_settings(handler_mode="echo")) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
    ):
        assert (await http.get("/")).status_code == 404
    settings = facade_settings(handler_mode="echo", facade_console_enabled=True)
    async with (
        running_facade(settings) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
    ):
        page = await http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'const agent = params.get("agent") || "test-agent";' in page.text


def test_websocket_listener_uses_the_reference_heartbeat_and_no_compression_by_default() -> None:
    from omnia_facade.app import create_app
    from omnia_facade.server import websocket_config
    from omnia_facade.settings import FacadeSettings

    settings = FacadeSettings()
    config = websocket_config(create_app(settings, session_store=None), settings)
    assert (config.ws_ping_interval, config.ws_ping_timeout) == (30.0, 60.0)
    assert config.ws_per_message_deflate is False
    assert config.ws_max_size >= settings.facade_max_message_size


async def test_permessage_deflate_is_not_negotiated_even_when_the_client_offers_it() -> None:
    async with (
        running_facade(facade_settings(handler_mode="echo")) as running,
        ws_connect(running.ws_url, compression="deflate") as ws,
    ):
        await recv_json(ws)
        extensions = list(ws.protocol.extensions)
    assert extensions == []


async def test_a_client_that_never_answers_pings_is_disconnected() -> None:
    settings = facade_settings(handler_mode="echo", facade_ping_interval=0.1, facade_ping_timeout=0.2)
    async with running_facade(settings) as running:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.server.port)
        writer.write(
            b"GET /ws?agent=a HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await writer.drain()
        async with asyncio.timeout(10):
            status = await reader.readline()
            received = await reader.read()  # frames (connected, pings, close) until the server drops us
        writer.close()
        state = running.server.app.state.facade
        async with asyncio.timeout(10):
            while state.connections:
                await asyncio.sleep(0.01)
    assert status.startswith(b"HTTP/1.1 101")
    assert b"\x89" in received, "the server sent ping frames"


async def test_the_process_server_freezes_its_start_up_objects_once_listening() -> None:
    settings = facade_settings(handler_mode="echo")
    gc.unfreeze()
    try:
        for freeze in (False, True):
            server = FacadeServer(settings, create_app(settings), freeze_startup_objects=freeze)
            stop = asyncio.Event()
            run = asyncio.create_task(server.run(stop))
            await asyncio.wait_for(server.ready.wait(), timeout=10)
            frozen = gc.get_freeze_count()
            stop.set()
            await asyncio.wait_for(run, timeout=10)
            # Off (tests running many servers in one process), nothing is frozen; on, every start-up object is.
            assert (frozen > 1000) is freeze
    finally:
        gc.unfreeze()
