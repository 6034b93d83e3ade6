"""Saving a known session's messages beside the turn, not in front of it."""

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from omnia_facade_testkit import (
    RECV_TIMEOUT,
    ScriptedRuntime,
    facade_settings,
    recv_json,
    recv_until,
    running_facade,
    ws_connect,
)

from omnia_facade.errors import SessionStoreError
from omnia_facade.sessions.base import Session, StoredMessage
from omnia_facade.sessions.memory import InMemorySessionStore

TWO_TURNS = [("user", "one"), ("assistant", "echo:one"), ("user", "two"), ("assistant", "echo:two")]
"""The session's log after the turns "one" and "two" against the scripted runtime."""


class GatedStore(InMemorySessionStore):
    """An in-memory store whose reads wait while ``open`` is clear, and whose appends can be made to fail."""

    def __init__(self) -> None:
        super().__init__(ttl=3600, max_messages=100)
        self.open = asyncio.Event()
        self.open.set()
        self.reads_waiting = asyncio.Event()
        self.fail_appends = False
        self.gate_replies = False
        """While ``open`` is clear, saving an assistant reply waits too."""

    async def get(self, session_id: str) -> Session | None:
        if not self.open.is_set():
            self.reads_waiting.set()
            await self.open.wait()
        return await super().get(session_id)

    async def append(self, session_id: str, message: StoredMessage) -> None:
        if message.role == "assistant" and not self.open.is_set() and self.gate_replies:
            self.reads_waiting.set()
            await self.open.wait()
        if self.fail_appends:
            raise SessionStoreError("the session store is unavailable")
        await super().append(session_id, message)


async def test_a_known_sessions_turn_reaches_the_runtime_while_the_store_is_still_answering(
    runtime: ScriptedRuntime,
) -> None:
    store = GatedStore()
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings, session_store=store) as running, ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        await ws.send(json.dumps({"type": "message", "content": "one"}))
        await recv_until(ws, "done")
        store.open.clear()
        await ws.send(json.dumps({"type": "message", "content": "two", "session_id": session}))
        async with asyncio.timeout(RECV_TIMEOUT):
            await store.reads_waiting.wait()
        done = (await recv_until(ws, "done"))[-1]
        assert [request.content for request in runtime.requests] == ["one", "two"]
        store.open.set()
        async with asyncio.timeout(RECV_TIMEOUT):
            await running.server.app.state.facade.wait_idle()
        log = await store.messages(session)
    assert done["content"] == "echo:two"
    assert [(m.role, m.content) for m in log] == TWO_TURNS


async def test_a_store_failure_while_saving_a_known_sessions_message_does_not_fail_the_turn(
    runtime: ScriptedRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    store = GatedStore()
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings, session_store=store) as running, ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        await ws.send(json.dumps({"type": "message", "content": "one"}))
        await recv_until(ws, "done")
        store.fail_appends = True
        with caplog.at_level(logging.WARNING, logger="omnia_facade.session_writes"):
            await ws.send(json.dumps({"type": "message", "content": "two", "session_id": session}))
            frames = await recv_until(ws, "done")
            async with asyncio.timeout(RECV_TIMEOUT):
                await running.server.app.state.facade.wait_idle()
    assert [frame["type"] for frame in frames if frame["type"] == "error"] == []
    assert frames[-1]["content"] == "echo:two"
    assert f"could not save the user message of session {session}" in caplog.text


async def test_a_first_message_the_store_cannot_take_is_an_error_and_no_turn(runtime: ScriptedRuntime) -> None:
    store = GatedStore()
    store.fail_appends = True
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings, session_store=store) as running, ws_connect(running.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "one"}))
        frames = await recv_until(ws, "error")
    assert frames[-1]["error"]["code"] == "INTERNAL_ERROR"
    assert runtime.requests == []


@pytest.mark.parametrize("stuck_on", ["the session read", "the reply"])
async def test_a_client_leaving_while_the_store_is_stuck_leaves_no_turn_in_flight_and_loses_no_message(
    runtime: ScriptedRuntime, stuck_on: str
) -> None:
    store = GatedStore()
    store.gate_replies = stuck_on == "the reply"
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings, session_store=store) as running:
        state = running.server.app.state.facade
        async with ws_connect(running.ws_url) as ws:
            session = (await recv_json(ws))["session_id"]
            await ws.send(json.dumps({"type": "message", "content": "one"}))
            await recv_until(ws, "done")
            store.open.clear()
            await ws.send(json.dumps({"type": "message", "content": "two", "session_id": session}))
            await recv_until(ws, "done")
            async with asyncio.timeout(RECV_TIMEOUT):
                await store.reads_waiting.wait()
        async with asyncio.timeout(RECV_TIMEOUT):
            await state.wait_no_turns()
        assert state.turns_in_flight == 0
        assert state.saves_pending >= 1  # the closed connection still waits for the store
        store.open.set()
        async with asyncio.timeout(RECV_TIMEOUT):
            await state.wait_idle()
        log = await store.messages(session)
    assert [(m.role, m.content) for m in log] == TWO_TURNS


class SlowReplies(InMemorySessionStore):
    """An in-memory store that holds every assistant reply until ``replies`` is set."""

    def __init__(self) -> None:
        super().__init__(ttl=3600, max_messages=100)
        self.replies = asyncio.Event()

    async def append(self, session_id: str, message: StoredMessage) -> None:
        if message.role == "assistant":
            await self.replies.wait()
        await super().append(session_id, message)


async def test_a_user_message_saved_behind_a_slow_write_keeps_the_time_it_arrived(runtime: ScriptedRuntime) -> None:
    store = SlowReplies()
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings, session_store=store) as running, ws_connect(running.ws_url) as ws:
        session = (await recv_json(ws))["session_id"]
        await ws.send(json.dumps({"type": "message", "content": "one"}))
        await recv_until(ws, "done")  # the reply's save is held: the next user message queues behind it
        sent = datetime.now(UTC)
        await ws.send(json.dumps({"type": "message", "content": "two", "session_id": session}))
        await recv_until(ws, "done")
        # Not a wait for a condition: the time that passes here is what the user message's stamp must not show.
        await asyncio.sleep(0.3)
        store.replies.set()
        async with asyncio.timeout(RECV_TIMEOUT):
            await running.server.app.state.facade.wait_idle()
        log = await store.messages(session)
    assert [(m.role, m.content) for m in log] == TWO_TURNS
    arrived = datetime.fromisoformat(log[2].timestamp)
    assert sent - timedelta(milliseconds=1) <= arrived < sent + timedelta(milliseconds=250)
