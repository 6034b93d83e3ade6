"""The server side of one Converse stream: an ``Emitter`` whose frames are pulled by the gRPC response
generator, coalescing text.

gRPC asks for the next frame only once the previous one is written, so text chunks queued meanwhile are
merged into one ``Chunk`` (the first chunk goes out as soon as it exists, never held back): a slow consumer
receives fewer, larger messages instead of one gRPC message per token. Client tool results arrive on the
same stream and are matched to the waiting call by ``call_id``.
"""

import asyncio
import collections
import itertools
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from omnia_protos.runtime.v1 import runtime_pb2
from omnia_runtime.handler import ClientToolResult, TurnUsage

_CLOSE = object()


class StreamEmitter:
    """Implements ``omnia_runtime.handler.Emitter`` on top of a frame writer."""

    def __init__(self, client_tool_timeout: float) -> None:
        self._timeout = client_tool_timeout
        self._queue: collections.deque[object] = collections.deque()
        self._ready = asyncio.Event()
        self._pending: dict[str, asyncio.Future[ClientToolResult]] = {}
        self._ids = itertools.count(1)
        self.done_sent = False

    async def frames(self) -> AsyncIterator[runtime_pb2.ServerMessage]:
        """Every queued frame until ``close``, consecutive text merged into one ``Chunk``."""
        while True:
            await self._ready.wait()
            item = self._queue.popleft()
            if item is _CLOSE:
                return
            if isinstance(item, str):
                parts = [item]
                while self._queue and isinstance(self._queue[0], str):
                    parts.append(self._queue.popleft())  # pyright: ignore[reportArgumentType]
                item = runtime_pb2.ServerMessage()
                item.chunk.content = "".join(parts)  # cheaper than building a Chunk and copying it in
            if not self._queue:
                self._ready.clear()
            assert isinstance(item, runtime_pb2.ServerMessage)
            yield item

    def _put(self, item: object) -> None:
        self._queue.append(item)
        self._ready.set()

    def close(self) -> None:
        self._put(_CLOSE)

    def send(self, message: runtime_pb2.ServerMessage) -> None:
        self._put(message)

    async def chunk(self, text: str) -> None:
        if text:
            self._put(text)
        await asyncio.sleep(0)  # let the writer pick up the first chunk at once

    async def client_tool_call(
        self,
        name: str,
        arguments: Mapping[str, Any],
        *,
        call_id: str = "",
        consent_message: str = "",
        categories: Sequence[str] = (),
    ) -> ClientToolResult:
        call_id = call_id or f"client-call-{next(self._ids)}"
        future: asyncio.Future[ClientToolResult] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        self.send(
            runtime_pb2.ServerMessage(
                tool_call=runtime_pb2.ToolCall(
                    id=call_id,
                    name=name,
                    arguments_json=json.dumps(dict(arguments)),
                    execution=runtime_pb2.TOOL_EXECUTION_CLIENT,
                    consent_message=consent_message,
                    categories=list(categories),
                )
            )
        )
        try:
            async with asyncio.timeout(self._timeout):
                return await future
        except TimeoutError:
            return ClientToolResult(call_id, is_rejected=True, rejection_reason="the client did not answer in time")
        finally:
            self._pending.pop(call_id, None)

    def deliver(self, result: runtime_pb2.ClientToolResult) -> bool:
        """Hand a client tool result to the waiting call; ``False`` when no call waits for that id."""
        future = self._pending.get(result.call_id)
        if future is None or future.done():
            return False
        future.set_result(
            ClientToolResult(result.call_id, result.result_json, result.is_rejected, result.rejection_reason)
        )
        return True

    async def done(self, final_content: str = "", usage: TurnUsage | None = None) -> None:
        usage = usage or TurnUsage()
        self.done_sent = True
        self.send(
            runtime_pb2.ServerMessage(
                done=runtime_pb2.Done(
                    final_content=final_content,
                    usage=runtime_pb2.Usage(
                        input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, cost_usd=usage.cost_usd
                    ),
                )
            )
        )
