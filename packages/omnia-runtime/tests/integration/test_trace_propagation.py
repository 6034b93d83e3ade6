"""With tracing enabled, a Converse carrying the facade's W3C trace context continues that trace."""

import json
from pathlib import Path

import grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_runtime.server.app import running_runtime
from omnia_runtime.settings import RuntimeSettings

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def sdk_provider() -> TracerProvider:
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        current = trace.get_tracer_provider()
    assert isinstance(current, TracerProvider)
    return current


async def test_turn_span_joins_the_trace_of_the_incoming_call(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    sdk_provider().add_span_processor(SimpleSpanProcessor(exporter))
    pack = {
        "id": "t",
        "name": "T",
        "version": "1.0.0",
        "template_engine": {"version": "v1", "syntax": "{{variable}}"},
        "prompts": {"main": {"id": "main", "name": "M", "version": "1.0.0", "system_template": "S"}},
    }
    (tmp_path / "pack.json").write_text(json.dumps(pack))
    settings = RuntimeSettings(
        bind_host="127.0.0.1",
        grpc_port=0,
        health_port=0,
        promptpack_path=tmp_path / "pack.json",
        tools_config_path=tmp_path / "none.yaml",
        tracing_enabled=True,
        shutdown_grace=1,
    )
    async with (
        running_runtime(settings) as servers,
        grpc.aio.insecure_channel(f"127.0.0.1:{servers.grpc_port}") as channel,
    ):
        call = runtime_pb2_grpc.RuntimeServiceStub(channel).Converse(
            metadata=(("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01"),), timeout=30
        )
        await call.write(runtime_pb2.ClientMessage(session_id="traced-grpc", content="hello"))
        for _ in range(50):
            frame = await call.read()
            if not isinstance(frame, runtime_pb2.ServerMessage) or frame.HasField("done"):
                break
    turns = [
        s
        for s in exporter.get_finished_spans()
        if s.name == "omnia.runtime.conversation.turn" and (s.attributes or {}).get("session.id") == "traced-grpc"
    ]
    assert len(turns) == 1
    context = turns[0].get_span_context()
    assert context is not None
    assert format(context.trace_id, "032x") == TRACE_ID
