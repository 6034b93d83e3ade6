"""A gRPC client for the runtime alone: the first-chunk latency without the facade in front.

Sends one ``Converse`` turn at a time (as the facade does: one bidirectional stream per turn, the user's
message first, read until ``done``) so bench_streaming can split the full path's added latency into the
runtime's share and the facade's. Like the facade, it opens the next turn's call as soon as a turn ends
(``warm=True``, the default), so the time measured starts when the message is written; ``warm=False``
opens each call when its turn starts (the set-up cost then counts).
"""

import asyncio
import time
import uuid
from typing import Any

import grpc
from grpc import aio
from wsload import LoadResult, TurnTiming

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc

TURN_TIMEOUT_S = 30.0


async def one_turn(call: Any, session_id: str, text: str, start: float) -> TurnTiming:
    """Write the message on ``call`` (opened at or before ``start``) and read until ``done``."""
    first = 0.0
    frames = 0
    size = 0
    try:
        async with asyncio.timeout(TURN_TIMEOUT_S):
            await call.write(runtime_pb2.ClientMessage(session_id=session_id, content=text))
            async for message in call:
                kind = message.WhichOneof("message")
                if kind == "chunk":
                    if not frames:
                        first = time.perf_counter() - start
                    frames += 1
                    size += len(message.chunk.content)
                elif kind == "done":
                    return TurnTiming(first, time.perf_counter() - start, frames, size)
                elif kind == "error":
                    raise RuntimeError(f"runtime error: {message.error.message}")
    finally:
        call.cancel()
    raise RuntimeError("the runtime ended the stream without done")


async def run_open_grpc(
    address: str, *, duration_s: float, interval_s: float, text: str = "stream please", warm: bool = True
) -> LoadResult:
    """One session, one turn every ``interval_s`` for ``duration_s`` seconds."""
    result = LoadResult(sessions=1, duration_s=duration_s)
    session_id = str(uuid.uuid4())
    metadata = [("x-omnia-session-id", session_id)]
    async with aio.insecure_channel(address, compression=grpc.Compression.NoCompression) as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=TURN_TIMEOUT_S)
        stub = runtime_pb2_grpc.RuntimeServiceStub(channel)
        next_call: Any = stub.Converse(metadata=metadata) if warm else None  # pyright: ignore[reportCallIssue]
        start = time.perf_counter()
        next_at = start
        try:
            while next_at < start + duration_s:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                began = time.perf_counter()
                call = next_call if warm else stub.Converse(metadata=metadata)  # pyright: ignore[reportCallIssue]
                try:
                    result.turns.append(await one_turn(call, session_id, text, began))
                except (RuntimeError, TimeoutError, aio.AioRpcError) as e:
                    result.errors += 1
                    result.first_error = result.first_error or repr(e)
                if warm:
                    next_call = stub.Converse(metadata=metadata)  # pyright: ignore[reportCallIssue]
                next_at += interval_s
        finally:
            if next_call is not None:
                next_call.cancel()
    return result
