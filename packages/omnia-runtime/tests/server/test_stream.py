import asyncio

from omnia_runtime.server.stream import StreamEmitter


async def test_text_queued_while_the_consumer_is_busy_is_coalesced_into_one_chunk() -> None:
    emitter = StreamEmitter(client_tool_timeout=5)
    frames = emitter.frames()
    await emitter.chunk("a")
    first = await anext(frames)  # the first chunk is available at once, not held back
    for piece in ("b", "c", "d"):  # the consumer is busy writing "a" meanwhile
        await emitter.chunk(piece)
    await emitter.done("abcd")
    emitter.close()
    rest = [frame async for frame in frames]
    assert first.chunk.content == "a"
    assert [f.WhichOneof("message") for f in rest] == ["chunk", "done"]
    assert rest[0].chunk.content == "bcd"
    assert rest[1].done.final_content == "abcd"


async def test_client_tool_call_is_sent_and_answered_by_call_id() -> None:
    emitter = StreamEmitter(client_tool_timeout=5)
    frames = emitter.frames()
    async with asyncio.TaskGroup() as group:
        waiting = group.create_task(emitter.client_tool_call("where", {"precise": True}, consent_message="ok?"))
        frame = await anext(frames)
        from omnia_protos.runtime.v1 import runtime_pb2

        assert emitter.deliver(runtime_pb2.ClientToolResult(call_id=frame.tool_call.id, result_json='{"x": 1}'))
    assert frame.tool_call.execution == runtime_pb2.TOOL_EXECUTION_CLIENT
    assert frame.tool_call.arguments_json == '{"precise": true}'
    assert waiting.result().result_json == '{"x": 1}'


async def test_client_tool_call_times_out_as_a_rejection() -> None:
    emitter = StreamEmitter(client_tool_timeout=0.05)
    result = await emitter.client_tool_call("where", {})
    assert result.is_rejected
    assert "in time" in result.rejection_reason


async def test_results_for_unknown_calls_are_not_delivered() -> None:
    from omnia_protos.runtime.v1 import runtime_pb2

    assert not StreamEmitter(client_tool_timeout=1).deliver(runtime_pb2.ClientToolResult(call_id="nobody"))
