from pathlib import Path

import pytest

from omnia_runtime.errors import ConfigError
from omnia_runtime.providers import (
    ChatRequest,
    Message,
    MockProvider,
    ProviderEvent,
    TextDelta,
    ToolCallEvent,
    Usage,
    build_provider,
)
from omnia_runtime.settings import RuntimeSettings


async def run(provider: MockProvider, messages: list[Message], **metadata: str) -> list[ProviderEvent]:
    request = ChatRequest(system="sys", messages=messages, metadata=metadata)
    return [event async for event in provider.stream(request)]


def text(events: list[ProviderEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_promptkit_mock_file_drives_a_tool_call_then_an_answer(conformance_dir: Path) -> None:
    provider = MockProvider.from_file(
        conformance_dir / "promptpack/mock-provider/promptkit-client-tools.mock-responses.yaml"
    )
    history = [Message(role="user", content="where am I?")]
    first = await run(provider, history, mock_scenario="consent-grant")
    calls = [e.call for e in first if isinstance(e, ToolCallEvent)]
    assert [(c.name, dict(c.arguments)) for c in calls] == [("get_location", {"accuracy": "high"})]
    history += [
        Message(role="assistant", tool_calls=tuple(calls)),
        Message(role="tool", content="{}", tool_call_id=calls[0].id),
    ]
    second = await run(provider, history, mock_scenario="consent-grant")
    assert text(second).startswith("Based on your location")
    assert len([e for e in second if isinstance(e, TextDelta)]) > 3


async def test_scenario_is_chosen_by_matching_the_user_message() -> None:
    provider = MockProvider({"scenarios": {"refund": {"match": ["money back"], "turns": {1: "Refund started."}}}})
    assert text(await run(provider, [Message(role="user", content="I want my MONEY BACK")])) == "Refund started."
    assert text(await run(provider, [Message(role="user", content="hello")])) == "Mock response to: hello"


async def test_text_streams_word_by_word_keeping_every_space() -> None:
    reply = "  Two leading spaces, a  double one and a trailing one "
    events = await run(MockProvider({"defaultResponse": reply}), [Message(role="user", content="hi")])
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == reply
    assert deltas[:3] == [" ", " Two", " leading"]  # the empty first word is skipped, its space is not
    assert len(deltas) == reply.count(" ")


async def test_mock_reports_usage() -> None:
    events = await run(MockProvider({"defaultResponse": "one two three"}), [Message(role="user", content="a b")])
    usage = next(e for e in events if isinstance(e, Usage))
    assert (usage.input_tokens, usage.output_tokens) == (3, 3)


def test_a_broken_mock_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "mock.yaml"
    path.write_text("scenarios: [1, 2]")
    with pytest.raises(ConfigError, match="scenarios"):
        MockProvider.from_file(path)


def test_mock_is_the_default_provider() -> None:
    assert isinstance(build_provider(RuntimeSettings()), MockProvider)


def test_ollama_needs_a_base_url() -> None:
    with pytest.raises(ConfigError, match="OMNIA_PROVIDER_BASE_URL"):
        build_provider(RuntimeSettings(provider_type="ollama"))


async def test_content_type_metadata_picks_the_matching_scenario() -> None:
    provider = MockProvider({"scenarios": {"image-analysis": {"turns": {1: "A cat."}}}})
    events = await run(provider, [Message(role="user", content="look")], content_type="image")
    assert text(events) == "A cat."
