"""The turn slot is free once ``done`` is out; the turn's store writes follow in order (real Redis, real sockets)."""

import asyncio
import json
import logging
from typing import Any

import pytest
from omnia_facade_testkit import (
    RECV_TIMEOUT,
    RunningFacade,
    ScriptedRuntime,
    facade_settings,
    recv_json,
    recv_until,
    running_facade,
    ws_connect,
)
from websockets.exceptions import ConnectionClosed

from omnia_facade.errors import SessionStoreError
from omnia_facade.sessions.base import StoredMessage
from omnia_facade.sessions.redis_store import RedisSessionStore
from omnia_facade.state import FacadeState


class ReplyGatedRedisStore(RedisSessionStore):
    """The Redis store, except that saving an assistant reply waits while ``replies_open`` is clear."""

    def __init__(self, url: str) -> None:
        super().__init__(url, ttl=3600)
        self.replies_open = asyncio.Event()
        self.reply_waiting = asyncio.Event()
        self.fail_replies = False

    async def append(self, session_id: str, message: StoredMessage) -> None:
        if message.role == "assistant":
            if not self.replies_open.is_set():
                self.reply_waiting.set()
                await self.replies_open.wait()
            if self.fail_replies:
                raise SessionStoreError("the session store is unavailable")
        await super().append(session_id, message)


def facade_state(running: RunningFacade) -> FacadeState:
    return running.server.app.state.facade


async def stored_log(redis_url: str, session_id: str) -> list[tuple[str, str]]:
    """The session's log as a fresh store (another facade replica) reads it from Redis."""
    reader = RedisSessionStore(redis_url, ttl=3600)
    try:
        return [(m.role, m.content) for m in await reader.messages(session_id)]
    finally:
        await reader.aclose()


def sample(running: RunningFacade, name: str, **labels: str) -> float | None:
    registry = running.server.app.state.metrics.registry
    return registry.get_sample_value(name, {"agent": "test-agent", "namespace": "test-ns", **labels})


async def test_a_message_sent_right_after_done_is_accepted_while_the_previous_reply_is_still_being_saved(
    runtime: ScriptedRuntime, redis_url: str
) -> None:
    store = ReplyGatedRedisStore(redis_url)
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings, session_store=store) as running, ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        await ws.send(json.dumps({"type": "message", "content": "one"}))
        await recv_until(ws, "done")
        await ws.send(json.dumps({"type": "message", "content": "two", "session_id": session}))
        frames = await recv_until(ws, "done")
        async with asyncio.timeout(RECV_TIMEOUT):
            await store.reply_waiting.wait()
        state = facade_state(running)
        assert state.saves_pending >= 1  # the first reply is still not in the store
        assert await stored_log(redis_url, session) == [("user", "one")]
        store.replies_open.set()
        async with asyncio.timeout(RECV_TIMEOUT):
            await state.wait_idle()
        log = await stored_log(redis_url, session)
    assert [frame["type"] for frame in frames if frame["type"] == "error"] == []
    assert frames[-1]["content"] == "echo:two"
    assert [request.content for request in runtime.requests] == ["one", "two"]
    assert log == [("user", "one"), ("assistant", "echo:one"), ("user", "two"), ("assistant", "echo:two")]


async def test_back_to_back_turns_without_pauses_are_all_accepted_and_logged_in_order(
    runtime: ScriptedRuntime, redis_url: str
) -> None:
    settings = facade_settings(
        runtime_address=f"127.0.0.1:{runtime.port}", session_type="redis", session_store_url=redis_url
    )
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        answers: list[Any] = []
        for number in range(20):
            await ws.send(json.dumps({"type": "message", "content": f"m{number}", "session_id": session}))
            frames = await recv_until(ws, "done")
            answers.extend(frame for frame in frames if frame["type"] in ("done", "error"))
        async with asyncio.timeout(RECV_TIMEOUT):
            await facade_state(running).wait_idle()
        log = await stored_log(redis_url, session)
    assert [frame["type"] for frame in answers] == ["done"] * 20
    expected: list[tuple[str, str]] = []
    for number in range(20):
        expected += [("user", f"m{number}"), ("assistant", f"echo:m{number}")]
    assert log == expected


async def test_a_second_message_while_a_turn_is_in_flight_is_rate_limited_and_not_logged(
    runtime: ScriptedRuntime, redis_url: str
) -> None:
    settings = facade_settings(
        runtime_address=f"127.0.0.1:{runtime.port}", session_type="redis", session_store_url=redis_url
    )
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        await ws.send(json.dumps({"type": "message", "content": "hold it"}))
        async with asyncio.timeout(RECV_TIMEOUT):
            await runtime.holding.wait()
        await ws.send(json.dumps({"type": "message", "content": "too soon", "session_id": session}))
        refused = (await recv_until(ws, "error"))[-1]
        runtime.release.set()
        done = (await recv_until(ws, "done"))[-1]
        async with asyncio.timeout(RECV_TIMEOUT):
            await facade_state(running).wait_idle()
        log = await stored_log(redis_url, session)
    assert refused["error"]["code"] == "RATE_LIMITED"
    assert done["content"] == "released"
    assert log == [("user", "hold it"), ("assistant", "released")]


async def test_closing_the_socket_with_a_reply_save_pending_loses_no_reply(
    runtime: ScriptedRuntime, redis_url: str
) -> None:
    store = ReplyGatedRedisStore(redis_url)
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings, session_store=store) as running:
        state = facade_state(running)
        async with ws_connect(running.ws_url) as ws:
            session = (await recv_json(ws))["session_id"]
            await ws.send(json.dumps({"type": "message", "content": "bye"}))
            await recv_until(ws, "done")
            async with asyncio.timeout(RECV_TIMEOUT):
                await store.reply_waiting.wait()
        async with asyncio.timeout(RECV_TIMEOUT):
            await state.wait_no_turns()
        assert state.saves_pending == 1
        store.replies_open.set()
        async with asyncio.timeout(RECV_TIMEOUT):
            await state.wait_idle()
    assert await stored_log(redis_url, session) == [("user", "bye"), ("assistant", "echo:bye")]


async def test_draining_the_facade_waits_for_a_pending_reply_save_before_closing_sockets(
    runtime: ScriptedRuntime, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ReplyGatedRedisStore(redis_url)
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    draining = asyncio.Event()
    async with running_facade(settings, session_store=store) as running, ws_connect(running.ws_url) as ws:
        state = facade_state(running)
        drain = state.drain

        async def observed_drain(grace_seconds: float) -> None:
            draining.set()
            await drain(grace_seconds)

        monkeypatch.setattr(state, "drain", observed_drain)
        session = (await recv_json(ws))["session_id"]
        await ws.send(json.dumps({"type": "message", "content": "last words"}))
        await recv_until(ws, "done")
        async with asyncio.timeout(RECV_TIMEOUT):
            await store.reply_waiting.wait()
        running.stop.set()
        async with asyncio.timeout(RECV_TIMEOUT):
            await draining.wait()
        async with asyncio.timeout(RECV_TIMEOUT):
            await (await ws.ping())  # the socket stays open while the reply is not saved
        store.replies_open.set()
        with pytest.raises(ConnectionClosed):
            await recv_json(ws)
        assert await stored_log(redis_url, session) == [("user", "last words"), ("assistant", "echo:last words")]
    assert ws.close_code == 1001


async def test_a_reply_the_store_cannot_take_is_logged_and_counted_and_the_session_goes_on(
    runtime: ScriptedRuntime, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = ReplyGatedRedisStore(redis_url)
    store.replies_open.set()
    store.fail_replies = True
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings, session_store=store) as running, ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        with caplog.at_level(logging.WARNING, logger="omnia_facade.session_writes"):
            await ws.send(json.dumps({"type": "message", "content": "one"}))
            await recv_until(ws, "done")
            async with asyncio.timeout(RECV_TIMEOUT):
                await facade_state(running).wait_idle()
        failures = sample(running, "omnia_facade_session_saves_failed_total", role="assistant")
        store.fail_replies = False
        await ws.send(json.dumps({"type": "message", "content": "two", "session_id": session}))
        frames = await recv_until(ws, "done")
        async with asyncio.timeout(RECV_TIMEOUT):
            await facade_state(running).wait_idle()
        log = await stored_log(redis_url, session)
    assert f"could not save the assistant reply of session {session}" in caplog.text
    assert failures == 1.0
    assert [frame["type"] for frame in frames if frame["type"] == "error"] == []
    assert log == [("user", "one"), ("user", "two"), ("assistant", "echo:two")]


async def test_the_warm_calls_gauge_counts_calls_opened_ahead_and_closed_with_the_socket(
    runtime: ScriptedRuntime,
) -> None:
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings) as running:
        assert sample(running, "omnia_facade_warm_calls") == 0.0
        async with ws_connect(running.ws_url) as ws:
            await recv_json(ws)
            await ws.send(json.dumps({"type": "message", "content": "one"}))
            await recv_until(ws, "done")
            await runtime.wait_calls(lambda r: r.idle_calls == 1)
            opened = sample(running, "omnia_facade_warm_calls")
        await runtime.wait_calls(lambda r: r.idle_calls == 0)
        closed = sample(running, "omnia_facade_warm_calls")
    assert opened == 1.0
    assert closed == 0.0
