import json

from omnia_facade_testkit import ScriptedRuntime, facade_settings, recv_json, recv_until, running_facade, ws_connect
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


async def test_each_message_gets_a_span_whose_context_reaches_the_runtime(runtime: ScriptedRuntime) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")
    async with running_facade(settings, tracer_provider=provider) as running, ws_connect(running.ws_url) as ws:
        hello = await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "trace me"}))
        await recv_until(ws, "done")
    provider.shutdown()
    spans = [span for span in exporter.get_finished_spans() if span.name == "omnia.facade.message"]
    assert len(spans) == 1
    span = spans[0]
    assert span.attributes is not None
    assert span.attributes["session.id"] == hello["session_id"]
    traceparent = runtime.metadata[-1]["traceparent"]
    assert span.context is not None
    assert format(span.context.trace_id, "032x") in traceparent
