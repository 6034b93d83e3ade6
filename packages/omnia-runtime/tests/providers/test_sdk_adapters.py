"""Each SDK adapter streams text and a tool call from its fake vendor server, then answers the tool result."""

from collections.abc import Mapping
from typing import Any

import pytest
from starlette.applications import Starlette

from omnia_runtime.conversation.engine import ConversationEngine, Pricing
from omnia_runtime.conversation.store import MemoryConversationStore
from omnia_runtime.errors import ProviderUnavailableError
from omnia_runtime.handler import ClientToolResult, Turn, TurnUsage
from omnia_runtime.promptpack import parse_pack
from omnia_runtime.providers import (
    ChatRequest,
    Finish,
    GenerationParams,
    Message,
    ProviderEvent,
    TextDelta,
    ToolCallEvent,
    Usage,
)
from omnia_runtime.providers.claude import ClaudeProvider
from omnia_runtime.providers.gemini import GeminiProvider
from omnia_runtime.providers.openai import OpenAIProvider
from omnia_runtime.tools.base import StaticToolExecutor, ToolSpec

WEATHER = ToolSpec(
    name="get_weather",
    description="Weather in a city",
    input_schema={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


class Recorder:
    """The emitter of a turn: keeps the final answer and its usage."""

    def __init__(self) -> None:
        self.final: str | None = None
        self.usage: TurnUsage | None = None

    async def chunk(self, text: str) -> None:
        return None

    async def client_tool_call(self, name: str, arguments: Mapping[str, Any], **_: Any) -> ClientToolResult:
        raise AssertionError("no client tools in these tests")

    async def done(self, final_content: str = "", usage: TurnUsage | None = None) -> None:
        self.final, self.usage = final_content, usage


async def collect(provider: Any, request: ChatRequest) -> list[ProviderEvent]:
    return [event async for event in provider.stream(request)]


def make(kind: str, base_url: str) -> Any:
    common = {"model": "test-model", "api_key": "sk-test", "headers": {"x-extra": "yes"}, "timeout": 10.0}
    if kind == "openai":
        return OpenAIProvider(base_url=f"{base_url}/v1", **common)
    if kind == "claude":
        return ClaudeProvider(base_url=base_url, **common)
    return GeminiProvider(base_url=f"{base_url}/", **common)


@pytest.fixture(params=["openai", "claude", "gemini"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app(kind: str, openai_app: Starlette, anthropic_app: Starlette, gemini_app: Starlette) -> Starlette:
    return {"openai": openai_app, "claude": anthropic_app, "gemini": gemini_app}[kind]


async def test_adapter_streams_text_and_a_tool_call_then_answers_the_result(
    kind: str, app: Starlette, serve_app: Any, fake_vendor: Any
) -> None:
    async with serve_app(app) as base_url:
        provider = make(kind, base_url)
        first = ChatRequest(
            system="Be brief.",
            messages=[Message(role="user", content="Weather in Paris?")],
            tools=[WEATHER],
            params=GenerationParams(temperature=0.2, max_tokens=100),
        )
        events = await collect(provider, first)
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Checking."
        calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
        assert [(c.name, dict(c.arguments)) for c in calls] == [("get_weather", {"city": "Paris"})]
        usage = [e for e in events if isinstance(e, Usage)]
        assert usage
        assert usage[-1].input_tokens > 0
        assert usage[-1].output_tokens > 0
        assert isinstance(events[-1], Finish)

        second = ChatRequest(
            system="Be brief.",
            messages=[
                *first.messages,
                Message(role="assistant", content="Checking.", tool_calls=(calls[0],)),
                Message(role="tool", content='{"sky": "clear"}', tool_call_id=calls[0].id, name="get_weather"),
            ],
            tools=[WEATHER],
        )
        events = await collect(provider, second)
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "It is sunny."
        assert not [e for e in events if isinstance(e, ToolCallEvent)]
        await provider.aclose()

    first_body, second_body = fake_vendor.requests
    assert "get_weather" in str(first_body)
    assert "Be brief." in str(first_body)
    assert "clear" in str(second_body)
    assert fake_vendor.headers[0]["x-extra"] == "yes"


async def test_adapter_reports_an_overloaded_vendor_as_unavailable(
    kind: str, app: Starlette, serve_app: Any, fake_vendor: Any
) -> None:
    fake_vendor.fail_with = 503
    async with serve_app(app) as base_url:
        provider = make(kind, base_url)
        with pytest.raises(ProviderUnavailableError):
            await collect(provider, ChatRequest(system="", messages=[Message(role="user", content="hi")]))
        await provider.aclose()


async def test_adapter_reports_cached_prompt_tokens_as_part_of_the_input(
    kind: str, app: Starlette, serve_app: Any, vendor_usage: dict[str, tuple[int, int, int]]
) -> None:
    async with serve_app(app) as base_url:
        provider = make(kind, base_url)
        events = await collect(provider, ChatRequest(system="", messages=[Message(role="user", content="hi")]))
        await provider.aclose()
    usage = [e for e in events if isinstance(e, Usage)][-1]
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens) == vendor_usage[kind]


async def run_weather_turn(base_url: str, kind: str, pricing: Pricing) -> Recorder:
    """One turn (tool call, then answer: two model calls) against the fake vendor, priced by ``pricing``."""
    pack = parse_pack(
        {
            "id": "p",
            "name": "P",
            "version": "1.0.0",
            "template_engine": {"version": "v1", "syntax": "{{variable}}"},
            "prompts": {"main": {"id": "main", "name": "M", "version": "1.0.0", "system_template": "Be brief."}},
        }
    )
    executor = StaticToolExecutor()
    executor.add(WEATHER, lambda city: {"city": city, "sky": "clear"})
    recorder = Recorder()
    provider = make(kind, base_url)
    engine = ConversationEngine(
        pack=pack,
        prompt=pack.prompts["main"],
        provider=provider,
        executor=executor,
        store=MemoryConversationStore(ttl=60),
        pricing=pricing,
    )
    await engine.run_turn(Turn(session_id="cost", content="Weather in Paris?"), recorder)
    await provider.aclose()
    return recorder


async def test_turn_cost_bills_cached_prompt_tokens_at_the_cached_rate(
    kind: str, app: Starlette, serve_app: Any, vendor_usage: dict[str, tuple[int, int, int]]
) -> None:
    async with serve_app(app) as base_url:
        recorder = await run_weather_turn(base_url, kind, Pricing(input_cost=3.0, output_cost=15.0, cached_cost=0.3))
    assert recorder.final == "It is sunny."
    prompt, cached, output = vendor_usage[kind]
    # Two model calls (the tool call, then the answer), each reporting the same usage.
    expected = 2 * ((prompt - cached) / 1000 * 3.0 + cached / 1000 * 0.3 + output / 1000 * 15.0)
    assert recorder.usage is not None
    assert recorder.usage.input_tokens == 2 * prompt
    assert recorder.usage.output_tokens == 2 * output
    assert recorder.usage.cost_usd == pytest.approx(expected)
    assert recorder.usage.cost_usd < 2 * (prompt / 1000 * 3.0 + output / 1000 * 15.0)  # the cache made it cheaper


async def test_cached_prompt_tokens_cost_the_input_rate_when_no_cached_price_is_set(
    kind: str, app: Starlette, serve_app: Any, vendor_usage: dict[str, tuple[int, int, int]]
) -> None:
    async with serve_app(app) as base_url:
        recorder = await run_weather_turn(base_url, kind, Pricing(input_cost=3.0, output_cost=15.0))
    prompt, _, output = vendor_usage[kind]
    assert recorder.usage is not None
    assert recorder.usage.cost_usd == pytest.approx(2 * (prompt / 1000 * 3.0 + output / 1000 * 15.0))
