"""Relaying one turn from a handler's event stream to the WebSocket.

The relay reads the first event itself, then a pump task reads the rest into a buffer while the relay sends them.
When several text deltas arrived while the previous frame was being written (the socket had not drained), they go
out as one ``chunk`` frame: the hot path pays one frame, not one per token. The first delta is never held back, and
never waits for a hop between two tasks. Client tool calls that stay unanswered past their deadline are rejected to
the runtime.
"""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable

from omnia_facade.errors import AgentUnavailableError
from omnia_facade.handlers.base import ClientToolCall, TextDelta, TurnDone, TurnEvent, TurnStream
from omnia_facade.protocol import ServerMessage, ToolCallInfo, chunk_frame

SendFrame = Callable[[str], Awaitable[None]]


async def relay_turn(
    stream: TurnStream,
    session_id: str,
    send: SendFrame,
    pending_calls: dict[str, float],
    tool_timeout: float,
) -> TurnDone:
    """Relay one turn's events to the socket until ``TurnDone``; returns it.

    ``pending_calls`` (call id → deadline) is shared with the connection, which removes a call when the client
    answers it; a call still pending at its deadline is rejected to the runtime here.
    """
    events = stream.events()
    buffer: deque[TurnEvent] = deque()
    wake = asyncio.Event()
    go = asyncio.Event()
    failure: list[BaseException] = []
    finished = False

    async def pump() -> None:
        nonlocal finished
        await go.wait()
        try:
            async for event in events:
                buffer.append(event)
                wake.set()
        except Exception as e:
            failure.append(e)
        finished = True
        wake.set()

    # The pump starts now, while the runtime works, and waits: the first event is read here, not through the pump,
    # so it goes out without a hop between two tasks; the pump reads on from the second (during the first's send).
    pump_task = asyncio.create_task(pump())
    try:
        first = await anext(events, None)
        if first is None:
            finished = True
        else:
            buffer.append(first)
            if not isinstance(first, TurnDone):
                go.set()
        while True:
            while buffer:
                event = buffer.popleft()
                if isinstance(event, TextDelta):
                    pieces = [event.text]
                    while buffer and isinstance(buffer[0], TextDelta):
                        pieces.append(buffer.popleft().text)  # pyright: ignore[reportAttributeAccessIssue]
                    await send(chunk_frame(session_id, "".join(pieces)))
                elif isinstance(event, ClientToolCall):
                    pending_calls[event.id] = time.monotonic() + tool_timeout
                    info = ToolCallInfo(
                        id=event.id,
                        name=event.name,
                        arguments=event.arguments,
                        consent_message=event.consent_message or None,
                        categories=list(event.categories) or None,
                    )
                    await send(ServerMessage(type="tool_call", session_id=session_id, tool_call=info).encode())
                else:
                    done = ServerMessage(
                        type="done",
                        session_id=session_id,
                        content=event.content,
                        parts=event.parts or None,
                        usage=event.usage,
                    )
                    await send(done.encode())
                    return event
            if failure:
                raise failure[0]
            if finished:
                raise AgentUnavailableError("the agent ended the turn without a reply; retry the message")
            await _wait_for_events(wake, stream, pending_calls)
            wake.clear()
    finally:
        if not pump_task.done():
            pump_task.cancel()
            await asyncio.wait([pump_task])
        if not go.is_set():  # the pump never read: the events end here
            await events.aclose()


async def _wait_for_events(wake: asyncio.Event, stream: TurnStream, pending_calls: dict[str, float]) -> None:
    """Wait for the next events, rejecting client tool calls whose deadline passes meanwhile."""
    while not wake.is_set():
        if not pending_calls:
            await wake.wait()
            return
        call_id, deadline = min(pending_calls.items(), key=lambda item: item[1])
        remaining = deadline - time.monotonic()
        if remaining > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await wake.wait()
            continue
        del pending_calls[call_id]
        await stream.send_tool_result(call_id, "", rejected=True, reason="the client did not answer in time")
