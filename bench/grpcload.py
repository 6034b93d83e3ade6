"""A gRPC client for the runtime alone: the first-chunk latency without the facade in front.

Sends one ``Converse`` turn at a time (as the facade does: one bidirectional stream per turn, the user's
message first, read until ``done``) so bench_streaming can split the full path's added latency into the
runtime's share and the facade's.
"""

import asyncio
import time
import uuid

import grpc
from grpc import aio
from wsload import LoadResult, TurnTiming

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc

TURN_TIMEOUT_S = 30.0


async def one_turn(stub: runtime_pb2_grpc.RuntimeServiceStub, session_id: str, text: str) -> TurnTiming:
    start = time.perf_counter()
    call = stub.Converse(metadata=[("x-omnia-session-id", session_id)])  # pyright: ignore[reportCallIssue]
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
        await call.done_writing()
    raise RuntimeError("the runtime ended the stream without done")


async def run_open_grpc(
    address: str, *, duration_s: float, interval_s: float, text: str = "stream please"
) -> LoadResult:
    """One session, one turn every ``interval_s`` for ``duration_s`` seconds."""
    result = LoadResult(sessions=1, duration_s=duration_s)
    session_id = str(uuid.uuid4())
    async with aio.insecure_channel(address, compression=grpc.Compression.NoCompression) as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=TURN_TIMEOUT_S)
        stub = runtime_pb2_grpc.RuntimeServiceStub(channel)
        start = time.perf_counter()
        next_at = start
        while next_at < start + duration_s:
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                result.turns.append(await one_turn(stub, session_id, text))
            except (RuntimeError, TimeoutError, aio.AioRpcError) as e:
                result.errors += 1
                result.first_error = result.first_error or repr(e)
            next_at += interval_s
    return result
