"""The SDK example in the package README runs and serves the contract."""

import re
from pathlib import Path
from typing import Any

import grpc

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_runtime.sdk import RuntimeSettings, serving

README = Path(__file__).resolve().parents[1] / "README.md"


def example_namespace() -> dict[str, Any]:
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert code is not None, "the README lost its SDK example"
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    return namespace


async def read(call: Any) -> runtime_pb2.ServerMessage:
    frame = await call.read()
    assert isinstance(frame, runtime_pb2.ServerMessage)
    return frame


async def test_readme_sdk_example_answers_a_turn_with_a_client_tool_round_trip() -> None:
    handler = example_namespace()["Shout"]()
    settings = RuntimeSettings(bind_host="127.0.0.1", grpc_port=0, health_port=0, shutdown_grace=1)
    async with (
        serving(handler, settings) as servers,
        grpc.aio.insecure_channel(f"127.0.0.1:{servers.grpc_port}") as channel,
    ):
        call = runtime_pb2_grpc.RuntimeServiceStub(channel).Converse(timeout=30)
        await call.write(runtime_pb2.ClientMessage(session_id="s", content="hey"))
        assert (await read(call)).HasField("runtime_hello")
        tool_call = (await read(call)).tool_call
        assert tool_call.consent_message == "Shout it?"
        result = runtime_pb2.ClientToolResult(call_id=tool_call.id, is_rejected=True)
        await call.write(runtime_pb2.ClientMessage(client_tool_result=result))
        done = await read(call)
    assert done.done.final_content == "Fine, I will whisper."
