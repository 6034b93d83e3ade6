import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from omnia_runtime.conversation.engine import ConversationEngine
from omnia_runtime.conversation.store import MemoryConversationStore
from omnia_runtime.errors import InvalidRequestError, TemplateError, ValidationFailedError
from omnia_runtime.handler import ClientToolResult, Turn, TurnUsage
from omnia_runtime.promptpack import parse_pack
from omnia_runtime.providers import MockProvider
from omnia_runtime.tools.base import StaticToolExecutor, ToolSpec


class Recorder:
    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.final: str | None = None
        self.usage: TurnUsage | None = None

    async def chunk(self, text: str) -> None:
        self.chunks.append(text)

    async def client_tool_call(
        self,
        name: str,
        arguments: Mapping[str, Any],
        *,
        call_id: str = "",
        consent_message: str = "",
        categories: Sequence[str] = (),
    ) -> ClientToolResult:
        return ClientToolResult(call_id, "{}")

    async def done(self, final_content: str = "", usage: TurnUsage | None = None) -> None:
        self.final, self.usage = final_content, usage


def engine(
    prompt: dict[str, Any], turns: dict[int, Any], executor: StaticToolExecutor | None = None
) -> ConversationEngine:
    pack = parse_pack(
        {
            "id": "p",
            "name": "P",
            "version": "1.0.0",
            "template_engine": {"version": "v1", "syntax": "{{variable}}"},
            "prompts": {"main": {"id": "main", "name": "M", "version": "1.0.0", "system_template": "S", **prompt}},
        }
    )
    provider = MockProvider({"scenarios": {"default": {"turns": turns}}})
    return ConversationEngine(
        pack=pack,
        prompt=pack.prompts["main"],
        provider=provider,
        executor=executor or StaticToolExecutor(),
        store=MemoryConversationStore(ttl=60),
    )


def echo_tools(calls: list[dict[str, Any]], blocked: str = "") -> StaticToolExecutor:
    executor = StaticToolExecutor()

    def echo(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return kwargs

    executor.add(ToolSpec("echo", "Echo", {"type": "object", "properties": {"n": {"type": "integer"}}}), echo)
    if blocked:
        executor.add(ToolSpec(blocked, "Blocked"), echo)
    return executor


def span_id(span: Any) -> int:
    context = span.get_span_context()
    assert context is not None
    return context.span_id


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


async def test_calls_beyond_the_per_turn_limit_get_an_error_result() -> None:
    calls: list[dict[str, Any]] = []
    subject = engine(
        {"tool_policy": {"max_tool_calls_per_turn": 2}},
        {1: {"tool_calls": [call("echo", n=1), call("echo", n=2), call("echo", n=3)]}, 2: "ok"},
        echo_tools(calls),
    )
    await subject.run_turn(Turn("s", "go"), Recorder())
    assert calls == [{"n": 1}, {"n": 2}]
    history = await subject.store.load("s")
    assert history is not None
    results = [m for m in history if m.role == "tool"]
    assert [m.is_error for m in results] == [False, False, True]
    assert "limit" in results[2].content


async def test_rounds_are_bounded_and_the_last_one_offers_no_tools() -> None:
    calls: list[dict[str, Any]] = []
    looping = {i: {"response": f"r{i}", "tool_calls": [call("echo", n=i)]} for i in range(1, 10)}
    subject = engine({"tool_policy": {"max_rounds": 2}}, looping, echo_tools(calls))
    recorder = Recorder()
    final = await subject.run_turn(Turn("s", "go"), recorder)
    assert len(calls) == 2
    assert final == "r3"


async def test_unknown_and_blocklisted_tools_are_errors_to_the_model() -> None:
    calls: list[dict[str, Any]] = []
    subject = engine(
        {"tool_policy": {"blocklist": ["danger"]}},
        {1: {"tool_calls": [call("danger"), call("nope"), call("echo", n="x")]}, 2: "fine"},
        echo_tools(calls, blocked="danger"),
    )
    assert [s.name for s in subject.offered_tools()] == ["echo"]
    await subject.run_turn(Turn("s", "go"), Recorder())
    history = await subject.store.load("s") or []
    errors = [json.loads(m.content)["error"] for m in history if m.role == "tool"]
    assert "not available" in errors[0]
    assert "not available" in errors[1]
    assert "invalid arguments for echo" in errors[2]
    assert calls == []


async def test_fail_on_violation_turns_the_answer_into_an_error() -> None:
    validators = [{"type": "banned_words", "enabled": True, "fail_on_violation": True, "params": {"words": ["darn"]}}]
    subject = engine({"validators": validators}, {1: "oh darn"})
    recorder = Recorder()
    with pytest.raises(ValidationFailedError):
        await subject.run_turn(Turn("s", "go"), recorder)
    assert recorder.final is None


async def test_missing_required_variable_and_bad_variables_metadata_fail_the_turn() -> None:
    subject = engine(
        {"system_template": "{{x}}", "variables": [{"name": "x", "type": "string", "required": True}]}, {1: "a"}
    )
    with pytest.raises(TemplateError, match="x"):
        await subject.run_turn(Turn("s", "go"), Recorder())
    with pytest.raises(InvalidRequestError):
        await subject.run_turn(Turn("s", "go", metadata={"variables": "[1]"}), Recorder())
    await subject.run_turn(Turn("s", "go", metadata={"variables": '{"x": "ok"}'}), Recorder())
    assert subject.system_prompt({"x": "ok"}) == "ok"


def test_the_system_prompt_without_values_is_rendered_once_and_values_still_apply() -> None:
    subject = engine(
        {
            "system_template": "Hi {{x}}",
            "variables": [{"name": "x", "type": "string", "required": False, "default": "there"}],
        },
        {1: "a"},
    )
    assert subject.system_prompt({}) == "Hi there"
    assert subject.system_prompt({"x": "Ann"}) == "Hi Ann"
    assert subject.system_prompt({}) == "Hi there"


async def test_spans_chain_turn_then_chat_then_tool_call_with_the_session_id() -> None:
    exporter = InMemorySpanExporter()
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        current = trace.get_tracer_provider()
    assert isinstance(current, TracerProvider)
    current.add_span_processor(SimpleSpanProcessor(exporter))
    calls: list[dict[str, Any]] = []
    subject = engine({}, {1: {"tool_calls": [call("echo", n=1)]}, 2: "ok"}, echo_tools(calls))
    await subject.run_turn(Turn("traced", "go"), Recorder())
    spans = [s for s in exporter.get_finished_spans() if (s.attributes or {}).get("session.id") == "traced"]
    by_name = {s.name: s for s in spans}
    assert set(by_name) == {"omnia.runtime.conversation.turn", "genai.chat", "omnia.tool.call"}
    turn = by_name["omnia.runtime.conversation.turn"]
    chats = [s for s in spans if s.name == "genai.chat"]
    assert len(chats) == 2  # the tool-calling response, then the answer
    chat = chats[0]
    tool = by_name["omnia.tool.call"]
    assert chat.parent is not None
    assert chat.parent.span_id == span_id(turn)
    assert tool.parent is not None
    assert tool.parent.span_id == span_id(chat)
    assert (chat.attributes or {})["gen_ai.system"] == "mock"
    assert "gen_ai.usage.cost" in (chat.attributes or {})


async def test_concurrent_turns_of_one_session_both_land_in_the_history() -> None:
    import asyncio

    subject = engine({}, {1: "one", 2: "two"})
    async with asyncio.TaskGroup() as group:
        group.create_task(subject.run_turn(Turn("same", "a"), Recorder()))
        group.create_task(subject.run_turn(Turn("same", "b"), Recorder()))
    history = await subject.store.load("same") or []
    assert [m.content for m in history] == ["a", "one", "b", "two"]
    assert subject._session_locks == {}
