import asyncio

from omnia_protos.runtime.v1 import runtime_pb2
from omnia_runtime.server.stream import StreamEmitter


async def test_text_queued_during_a_pending_write_is_coalesced_into_one_chunk() -> None:
    written: list[runtime_pb2.ServerMessage] = []
    first_write_started = asyncio.Event()
    release = asyncio.Event()

    async def slow_write(message: runtime_pb2.ServerMessage) -> None:
        written.append(message)
        if len(written) == 1:
            first_write_started.set()
            await release.wait()

    emitter = StreamEmitter(slow_write, client_tool_timeout=5)
    async with asyncio.TaskGroup() as group:
        writer = group.create_task(emitter.run_writer())
        await emitter.chunk("a")
        async with asyncio.timeout(5):
            await first_write_started.wait()
        for piece in ("b", "c", "d"):
            await emitter.chunk(piece)
        await emitter.done("abcd")
        release.set()
        emitter.close()
        await writer
    assert [m.WhichOneof("message") for m in written] == ["chunk", "chunk", "done"]
    assert [written[0].chunk.content, written[1].chunk.content] == ["a", "bcd"]


async def test_client_tool_call_times_out_as_a_rejection() -> None:
    async def write(message: runtime_pb2.ServerMessage) -> None:
        return None

    emitter = StreamEmitter(write, client_tool_timeout=0.05)
    async with asyncio.TaskGroup() as group:
        writer = group.create_task(emitter.run_writer())
        result = await emitter.client_tool_call("where", {})
        emitter.close()
        await writer
    assert result.is_rejected
    assert "in time" in result.rejection_reason


async def test_results_for_unknown_calls_are_not_delivered() -> None:
    async def write(message: runtime_pb2.ServerMessage) -> None:
        return None

    emitter = StreamEmitter(write, client_tool_timeout=1)
    assert not emitter.deliver(runtime_pb2.ClientToolResult(call_id="nobody"))
