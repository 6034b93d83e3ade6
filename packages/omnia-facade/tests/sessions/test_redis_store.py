import asyncio
import json

import redis.asyncio as redis
from omnia_facade_testkit import ScriptedRuntime, facade_settings, recv_json, recv_until, running_facade, ws_connect

from omnia_facade.sessions.base import Session, StoredMessage
from omnia_facade.sessions.memory import InMemorySessionStore
from omnia_facade.sessions.redis_store import RedisSessionStore


async def test_redis_store_keeps_metadata_and_log_under_the_documented_keys_with_a_ttl(redis_url: str) -> None:
    store = RedisSessionStore(redis_url, ttl=100, prefix="p:", max_messages=3)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await store.create(Session(id="s1", agent_name="a", namespace="n", user_id="u"))
        for index in range(5):
            await store.append("s1", StoredMessage(role="user", content=f"m{index}"))
        stored = await client.get("p:session:s1")
        assert stored is not None
        assert json.loads(stored)["agent_name"] == "a"
        assert await client.llen("p:session:s1:messages") == 3
        assert [m.content for m in await store.messages("s1")] == ["m2", "m3", "m4"]
        assert 0 < await client.ttl("p:session:s1") <= 100
        await client.expire("p:session:s1", 5)
        await client.expire("p:session:s1:messages", 5)
        found = await store.get("s1")
        assert found is not None
        assert found.user_id == "u"
        assert await client.ttl("p:session:s1") > 5
        assert await client.ttl("p:session:s1:messages") > 5
        assert await store.get("unknown") is None
        await store.delete("s1")
        assert await store.get("s1") is None
    finally:
        await client.aclose()
        await store.aclose()


async def test_redis_store_reports_unreachable_redis_as_a_store_error() -> None:
    import pytest
    from omnia_facade_testkit import free_port

    from omnia_facade.errors import SessionStoreError

    store = RedisSessionStore(f"redis://127.0.0.1:{free_port()}/0", ttl=10, timeout=0.5)
    try:
        with pytest.raises(SessionStoreError):
            await store.get("s")
        assert await store.ping() is False
    finally:
        await store.aclose()


async def test_memory_store_expires_sessions_and_caps_the_log() -> None:
    now = [0.0]
    store = InMemorySessionStore(ttl=10, max_messages=2, clock=lambda: now[0])
    await store.create(Session(id="s", agent_name="a", namespace="n"))
    now[0] = 9.0
    assert await store.get("s") is not None, "read refreshes the TTL"
    now[0] = 18.0
    assert await store.get("s") is not None
    now[0] = 28.5
    assert await store.get("s") is None
    store = InMemorySessionStore(ttl=100, max_messages=2)
    await store.create(Session(id="s", agent_name="a", namespace="n"))
    for index in range(3):
        await store.append("s", StoredMessage(role="assistant", content=str(index)))
    assert [m.content for m in await store.messages("s")] == ["1", "2"]


async def test_facade_restart_loses_no_stored_session(redis_url: str, runtime: ScriptedRuntime) -> None:
    settings = facade_settings(
        runtime_address=f"127.0.0.1:{runtime.port}", session_type="redis", session_store_url=redis_url
    )
    async with running_facade(settings) as first, ws_connect(first.ws_url) as ws:
        hello = await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "remember me"}))
        await recv_until(ws, "done")
    runtime.known_sessions.clear()
    async with running_facade(settings) as second, ws_connect(second.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "still?", "session_id": hello["session_id"]}))
        frames = await recv_until(ws, "done")
        async with asyncio.timeout(10):
            await second.server.app.state.facade.wait_idle()  # the reply is saved after `done`
        log = await second.server.app.state.facade.store.messages(hello["session_id"])
    assert frames[-1]["session_id"] == hello["session_id"]
    assert [m.content for m in log] == ["remember me", "echo:remember me", "still?", "echo:still?"]


async def test_unreachable_redis_gives_internal_error_keeps_the_socket_and_fails_readiness() -> None:
    import httpx
    from omnia_facade_testkit import free_port

    settings = facade_settings(
        handler_mode="echo", session_type="redis", session_store_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "hello?"}))
        error = await recv_json(ws)
        await ws.send(json.dumps({"type": "bogus"}))
        second = await recv_json(ws)
        async with httpx.AsyncClient(base_url=running.health_url, timeout=10) as http:
            ready = await http.get("/readyz")
    assert error["error"]["code"] == "INTERNAL_ERROR"
    assert second["error"]["code"] == "INVALID_MESSAGE"
    assert ready.status_code == 503
