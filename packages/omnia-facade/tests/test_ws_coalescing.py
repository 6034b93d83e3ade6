"""The relay merges text deltas that piled up while the socket was busy, and never holds back the first one."""

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

from omnia_facade.handlers.base import TextDelta, TurnDone, TurnEvent
from omnia_facade.relay import relay_turn


class GatedSocket:
    """Stands in for the ASGI socket: each send waits until the test opens the gate."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.gate = asyncio.Event()
        self.sending = asyncio.Event()

    async def send_text(self, text: str) -> None:
        self.sending.set()
        await self.gate.wait()
        self.gate.clear()
        self.sent.append(json.loads(text))


class QueueStream:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[TurnEvent] = asyncio.Queue()

    async def events(self) -> AsyncGenerator[TurnEvent, None]:
        while True:
            event = await self.queue.get()
            yield event
            if isinstance(event, TurnDone):
                return

    async def send_tool_result(self, call_id: str, result_json: str, *, rejected: bool, reason: str = "") -> None:
        raise AssertionError("no tool calls here")


async def test_deltas_queued_while_a_frame_is_being_written_go_out_as_one_chunk() -> None:
    socket = GatedSocket()
    stream = QueueStream()
    async with asyncio.TaskGroup() as group:
        relay = group.create_task(relay_turn(stream, "s", socket.send_text, {}, 60.0))
        await stream.queue.put(TextDelta("first"))
        async with asyncio.timeout(5):
            await socket.sending.wait()
        for piece in ("b", "c", "d"):
            await stream.queue.put(TextDelta(piece))
        async with asyncio.timeout(5):
            while not stream.queue.empty():
                await asyncio.sleep(0)
        for _ in range(10):
            await asyncio.sleep(0)
        socket.gate.set()
        await stream.queue.put(TurnDone(content="firstbcd"))
        for _ in range(2):
            async with asyncio.timeout(5):
                while socket.gate.is_set():
                    await asyncio.sleep(0)
            socket.gate.set()
        async with asyncio.timeout(5):
            done = await relay
    assert [(f["type"], f.get("content")) for f in socket.sent] == [
        ("chunk", "first"),
        ("chunk", "bcd"),
        ("done", "firstbcd"),
    ]
    assert done.content == "firstbcd"
