import json

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from omnia_runtime.tools.base import ToolCallContext, ToolExecutor
from omnia_runtime.tools.config import ToolsConfig, parse_tools_config
from omnia_runtime.tools.router import ToolRouter

CONTEXT = ToolCallContext(session_id="s")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def error_of(content: str) -> str:
    return json.loads(content)["error"]


async def test_retry_honours_retry_after_then_succeeds(backend, make_http_handler, fake_sleep) -> None:
    url, state = backend
    delays, sleep = fake_sleep
    state.failures = [(503, {"Retry-After": "7"}), (429, {"Retry-After": "3"})]
    handler = make_http_handler(f"{url}/echo", retryPolicy={"maxAttempts": 3, "initialBackoff": "100ms"})
    router = ToolRouter(sleep=sleep)
    await router.start(ToolsConfig(handlers=[handler]))
    result = await router.execute("echo", {"q": "x"}, context=CONTEXT)
    await router.aclose()
    assert not result.is_error
    assert delays == [7.0, 3.0]
    assert state.hits("/echo") == 3


async def test_retry_after_is_capped_by_max_backoff_and_attempts_run_out(
    backend, make_http_handler, fake_sleep
) -> None:
    url, state = backend
    delays, sleep = fake_sleep
    state.failures = [(503, {"Retry-After": "3600"})] * 3
    handler = make_http_handler(f"{url}/echo", retryPolicy={"maxAttempts": 2, "maxBackoff": "10s"})
    router = ToolRouter(sleep=sleep)
    await router.start(ToolsConfig(handlers=[handler]))
    result = await router.execute("echo", {}, context=CONTEXT)
    await router.aclose()
    assert result.is_error
    assert error_of(result.content).startswith("HTTP 503")
    assert delays == [10.0]
    assert state.hits("/echo") == 2


async def test_client_errors_are_not_retried(backend, make_http_handler, fake_sleep) -> None:
    url, state = backend
    delays, sleep = fake_sleep
    state.failures = [(400, {})]
    handler = make_http_handler(f"{url}/echo", retryPolicy={"maxAttempts": 5})
    router = ToolRouter(sleep=sleep)
    await router.start(ToolsConfig(handlers=[handler]))
    result = await router.execute("echo", {}, context=CONTEXT)
    await router.aclose()
    assert result.is_error
    assert delays == []
    assert state.hits("/echo") == 1


async def test_breaker_opens_after_five_failures_and_half_opens_after_cool_down(backend, make_http_handler) -> None:
    url, state = backend
    clock = FakeClock()
    router = ToolRouter(clock=clock, cool_down=30.0)
    await router.start(ToolsConfig(handlers=[make_http_handler(f"{url}/echo")]))
    state.failures = [(502, {})] * 5
    for _ in range(5):
        assert (await router.execute("echo", {}, context=CONTEXT)).is_error
    assert router.breaker_state("echo") == "open"
    refused = await router.execute("echo", {}, context=CONTEXT)
    assert refused.is_error
    assert "circuit open" in error_of(refused.content)
    assert state.hits("/echo") == 5

    clock.now += 30.0
    assert router.breaker_state("echo") == "half-open"
    state.failures = [(502, {})]
    assert (await router.execute("echo", {}, context=CONTEXT)).is_error  # the trial fails: open again
    assert router.breaker_state("echo") == "open"
    assert state.hits("/echo") == 6

    clock.now += 30.0
    assert not (await router.execute("echo", {}, context=CONTEXT)).is_error  # the trial succeeds: closed
    assert router.breaker_state("echo") == "closed"
    await router.aclose()


async def test_rejections_do_not_trip_the_breaker(backend, make_http_handler) -> None:
    url, state = backend
    router = ToolRouter(clock=FakeClock())
    await router.start(ToolsConfig(handlers=[make_http_handler(f"{url}/echo")]))
    state.failures = [(404, {})] * 6
    for _ in range(6):
        assert (await router.execute("echo", {}, context=CONTEXT)).is_error
    assert router.breaker_state("echo") == "closed"
    await router.aclose()


async def test_handler_timeout_gives_an_error_result(backend, make_http_handler) -> None:
    url, _ = backend
    handler = make_http_handler(f"{url}/slow", top={"timeout": "200ms"})
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[handler]))
    result = await router.execute("echo", {}, context=CONTEXT)
    await router.aclose()
    assert result.is_error
    assert "handler timeout of 0.2s" in error_of(result.content)


async def test_arguments_violating_the_schema_are_rejected_before_sending(backend, make_http_handler) -> None:
    url, state = backend
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[make_http_handler(f"{url}/echo")]))
    result = await router.execute("echo", {"q": 42}, context=CONTEXT)
    await router.aclose()
    assert result.is_error
    assert "invalid arguments for echo" in error_of(result.content)
    assert "q: 42 is not of type 'string'" in error_of(result.content)
    assert state.requests == []


async def test_unknown_tools_and_client_tools_are_not_executed() -> None:
    config = parse_tools_config(
        {
            "handlers": [
                {
                    "name": "ui",
                    "type": "client",
                    "tool": {"name": "pick_color", "description": "Ask the user"},
                    "clientConfig": {"consentMessage": "Allow?", "categories": ["ui", "input"]},
                }
            ]
        }
    )
    router = ToolRouter()
    await router.start(config)
    assert isinstance(router, ToolExecutor)
    (spec,) = router.specs()
    assert (spec.execution, spec.consent_message, spec.categories) == ("client", "Allow?", ("ui", "input"))
    assert "client-side tool" in error_of((await router.execute("pick_color", {}, context=CONTEXT)).content)
    assert "unknown tool 'nope'" in error_of((await router.execute("nope", {}, context=CONTEXT)).content)
    await router.aclose()
    await router.aclose()


async def test_calls_are_counted_by_tool_and_status(backend, make_http_handler) -> None:
    url, state = backend
    before_ok = REGISTRY.get_sample_value("omnia_tool_calls_total", {"tool": "counted", "status": "success"}) or 0
    before_err = REGISTRY.get_sample_value("omnia_tool_calls_total", {"tool": "counted", "status": "error"}) or 0
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[make_http_handler(f"{url}/echo", tool="counted")]))
    await router.execute("counted", {}, context=CONTEXT)
    state.failures = [(500, {})]
    await router.execute("counted", {}, context=CONTEXT)
    await router.aclose()
    assert (
        REGISTRY.get_sample_value("omnia_tool_calls_total", {"tool": "counted", "status": "success"}) == before_ok + 1
    )
    assert REGISTRY.get_sample_value("omnia_tool_calls_total", {"tool": "counted", "status": "error"}) == before_err + 1
    assert (REGISTRY.get_sample_value("omnia_tool_call_duration_seconds_count", {"tool": "counted"}) or 0) >= 2


async def test_duplicate_tool_names_keep_the_first_handler(backend, make_http_handler) -> None:
    url, state = backend
    first = make_http_handler(f"{url}/echo", name="first")
    second = make_http_handler(f"{url}/text", name="second")
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[first, second]))
    assert [s.handler for s in router.specs()] == ["first"]
    await router.execute("echo", {}, context=CONTEXT)
    await router.aclose()
    assert state.hits("/echo") == 1
    assert state.hits("/text") == 0


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Finished spans of this test (adds an exporter to the SDK provider, installing one if none is set)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def test_each_call_is_traced_with_handler_and_attempts(backend, make_http_handler, fake_sleep, spans) -> None:
    url, state = backend
    _, sleep = fake_sleep
    state.failures = [(503, {})]
    handler = make_http_handler(f"{url}/echo", name="traced-api", tool="traced", retryPolicy={"maxAttempts": 2})
    router = ToolRouter(sleep=sleep)
    await router.start(ToolsConfig(handlers=[handler]))
    await router.execute("traced", {}, context=CONTEXT)
    await router.aclose()
    (span,) = [s for s in spans.get_finished_spans() if s.name == "omnia.tool.call"]
    assert span.attributes is not None
    assert span.attributes["tool.name"] == "traced"
    assert span.attributes["tool.handler.name"] == "traced-api"
    assert span.attributes["tool.handler.type"] == "http"
    assert span.attributes["attempts"] == 2


async def test_a_call_inside_the_loops_tool_span_adds_to_it_instead_of_nesting_another(
    backend, make_http_handler, spans
) -> None:
    url, _ = backend
    handler = make_http_handler(f"{url}/echo", name="inner-api", tool="inner")
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[handler]))
    with trace.get_tracer("test").start_as_current_span("omnia.tool.call", attributes={"session.id": "s1"}):
        await router.execute("inner", {}, context=CONTEXT)
    await router.aclose()
    (span,) = [s for s in spans.get_finished_spans() if s.name == "omnia.tool.call"]
    assert span.attributes is not None
    assert span.attributes["session.id"] == "s1"
    assert span.attributes["tool.handler.name"] == "inner-api"
