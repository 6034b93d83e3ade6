"""The generated stubs import, round-trip, and serve over a real loopback channel."""

import grpc
import pytest

from omnia_protos import CONTRACT_VERSION
from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_protos.tools.v1 import tools_pb2, tools_pb2_grpc


def test_every_message_round_trips() -> None:
    for module in (runtime_pb2, tools_pb2):
        for name, descriptor in module.DESCRIPTOR.message_types_by_name.items():
            cls = getattr(module, name)
            original = cls()
            for field in descriptor.fields:
                if field.type == field.TYPE_STRING and not field.is_repeated:
                    setattr(original, field.name, f"value-of-{field.name}")
            assert cls.FromString(original.SerializeToString()) == original, name


class _Runtime(runtime_pb2_grpc.RuntimeServiceServicer):
    async def Health(self, request: runtime_pb2.HealthRequest, context: object) -> runtime_pb2.HealthResponse:
        return runtime_pb2.HealthResponse(healthy=True, status="ok", contract_version=CONTRACT_VERSION)


class _Tools(tools_pb2_grpc.ToolServiceServicer):
    async def Execute(self, request: tools_pb2.ToolRequest, context: object) -> tools_pb2.ToolResponse:
        return tools_pb2.ToolResponse(result_json=request.arguments_json)


async def test_services_answer_over_a_loopback_channel() -> None:
    server = grpc.aio.server()
    runtime_pb2_grpc.add_RuntimeServiceServicer_to_server(_Runtime(), server)  # pyright: ignore[reportAbstractUsage] -- unimplemented methods must answer UNIMPLEMENTED
    tools_pb2_grpc.add_ToolServiceServicer_to_server(_Tools(), server)  # pyright: ignore[reportAbstractUsage] -- ListTools left out on purpose
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = await runtime_pb2_grpc.RuntimeServiceStub(channel).Health(runtime_pb2.HealthRequest())
            assert health.contract_version == "1.3.0"
            tools = tools_pb2_grpc.ToolServiceStub(channel)
            reply = await tools.Execute(tools_pb2.ToolRequest(tool_name="t", arguments_json='{"a": 1}'))
            assert reply.result_json == '{"a": 1}'
            # Methods a servicer does not implement answer UNIMPLEMENTED, as the contract requires.
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await tools.ListTools(tools_pb2.ListToolsRequest())
            assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(grace=None)
