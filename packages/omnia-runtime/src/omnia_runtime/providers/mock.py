"""A deterministic provider scripted by a YAML file of scenarios (compatible with PromptKit's mock format).

File shape::

    defaultResponse: "text used when nothing else matches"
    scenarios:
      <name>:
        match: ["refund", "money back"]   # optional (ours): picked when the user message contains one
        defaultResponse: "..."
        turns:
          1:                               # the 1st model call of the session in this scenario
            response: "Let me look."       # optional text
            tool_calls: [{name: get_order, arguments: {id: "42"}}]
          2: "Your order shipped."         # a plain string is a text answer

The scenario is metadata ``mock_scenario`` if set, else the one for metadata ``content_type`` (image →
``image-analysis``, audio → ``audio-analysis``, document → ``document-qa``), else the first scenario whose
``match`` phrase occurs in the latest user message, else the scenario named ``default``; with none, the
top-level ``defaultResponse`` (or an echo of the user message) answers. The turn number is the number of
assistant messages already in the history plus one, so a tool call in turn 1 is followed by turn 2 once the
result is fed back. Text streams word by word; usage counts whitespace-separated words.
"""

import itertools
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from omnia_runtime.errors import ConfigError
from omnia_runtime.providers.base import (
    ChatRequest,
    Finish,
    ProviderEvent,
    TextDelta,
    ToolCallEvent,
    ToolCallRequest,
    Usage,
)

MAX_MOCK_FILE_BYTES = 4 * 1024 * 1024
_CONTENT_TYPE_SCENARIOS = {"image": "image-analysis", "audio": "audio-analysis", "document": "document-qa"}


def load_scenarios(path: Path) -> dict[str, Any]:
    """The parsed mock file; ``ConfigError`` naming the file when it is unreadable or malformed."""
    try:
        if path.stat().st_size > MAX_MOCK_FILE_BYTES:
            raise ConfigError(f"mock config {path} is larger than {MAX_MOCK_FILE_BYTES} bytes")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ConfigError(f"cannot read the mock config {path}: {e.strerror}; check OMNIA_MOCK_CONFIG") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"mock config {path} is not valid YAML: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("scenarios", {}), dict):
        raise ConfigError(f"mock config {path} must be a mapping with an optional 'scenarios' mapping")
    return data


def _words(text: str) -> Iterator[str]:
    """``text.split(" ")``, one word at a time: the first delta does not wait for the whole text to be split."""
    start = 0
    while (end := text.find(" ", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


class MockProvider:
    """See the module docstring."""

    name = "mock"

    def __init__(self, config: Mapping[str, Any] | None = None, *, model: str = "mock-model") -> None:
        self.model = model or "mock-model"
        self._config: Mapping[str, Any] = config or {}
        self._call_ids = itertools.count(1)

    @classmethod
    def from_file(cls, path: Path | None, *, model: str = "") -> "MockProvider":
        return cls(load_scenarios(path) if path is not None else None, model=model)

    def _scenario(self, request: ChatRequest, user_text: str) -> Mapping[str, Any] | None:
        scenarios: Mapping[str, Any] = self._config.get("scenarios") or {}
        chosen = request.metadata.get("mock_scenario")
        if chosen and chosen in scenarios:
            return scenarios[chosen]
        by_content = _CONTENT_TYPE_SCENARIOS.get(request.metadata.get("content_type", ""))
        if by_content and by_content in scenarios:
            return scenarios[by_content]
        lowered = user_text.lower()
        for scenario in scenarios.values():
            phrases = scenario.get("match") or []
            if isinstance(phrases, str):
                phrases = [phrases]
            if any(isinstance(p, str) and p.lower() in lowered for p in phrases):
                return scenario
        return scenarios.get("default")

    def _reply(self, request: ChatRequest) -> tuple[str, list[Mapping[str, Any]]]:
        user_text = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        fallback = self._config.get("defaultResponse") or f"Mock response to: {user_text}"
        scenario = self._scenario(request, user_text)
        if scenario is None:
            return str(fallback), []
        turns: Mapping[Any, Any] = scenario.get("turns") or {}
        turn = 1 + sum(1 for m in request.messages if m.role == "assistant") if turns else 0
        step = turns.get(turn, turns.get(str(turn)))
        if step is None:
            return str(scenario.get("defaultResponse") or fallback), []
        if isinstance(step, str):
            return step, []
        return str(step.get("response") or ""), list(step.get("tool_calls") or [])

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        text, calls = self._reply(request)
        for index, word in enumerate(_words(text)):
            if word or index:
                yield TextDelta(word if index == 0 else " " + word)
        for call in calls:
            call_id = str(call.get("id") or f"mock-call-{next(self._call_ids)}")
            yield ToolCallEvent(ToolCallRequest(call_id, str(call["name"]), dict(call.get("arguments") or {})))
        prompt_words = len(request.system.split()) + sum(len(m.content.split()) for m in request.messages)
        yield Usage(input_tokens=prompt_words, output_tokens=len(text.split()))
        yield Finish("tool_calls" if calls else "stop")

    async def aclose(self) -> None:
        return None
