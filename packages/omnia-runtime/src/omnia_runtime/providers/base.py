"""The one small interface every LLM provider implements.

A provider takes a ``ChatRequest`` (system prompt, history, offered tools, generation parameters) and returns
an async stream of events: ``TextDelta`` pieces of the answer, complete ``ToolCallRequest``s (adapters
assemble the vendor's partial argument deltas before emitting), one ``Usage`` and a final ``Finish``.
Vendor SDK types never leave the adapter modules; vendor errors leave them as ``ProviderUnavailableError``
(retry may help) or ``ProviderError`` (it will not).
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from omnia_runtime.tools.base import ToolSpec

Role = Literal["user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCallRequest:
    """A tool call the model asked for."""

    id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class Message:
    """One entry of the conversation history (the system prompt travels separately)."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCallRequest, ...] = ()
    """Calls an assistant message made."""
    tool_call_id: str = ""
    """For ``role="tool"``: the call this result answers."""
    name: str = ""
    """For ``role="tool"``: the tool's name."""
    is_error: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": dict(c.arguments)} for c in self.tool_calls]
        if self.role == "tool":
            data.update(tool_call_id=self.tool_call_id, name=self.name, is_error=self.is_error)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Message":
        calls = tuple(
            ToolCallRequest(id=str(c["id"]), name=str(c["name"]), arguments=dict(c.get("arguments") or {}))
            for c in data.get("tool_calls") or []
        )
        return cls(
            role=data["role"],
            content=str(data.get("content") or ""),
            tool_calls=calls,
            tool_call_id=str(data.get("tool_call_id") or ""),
            name=str(data.get("name") or ""),
            is_error=bool(data.get("is_error", False)),
        )


@dataclass(frozen=True)
class GenerationParams:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class ChatRequest:
    system: str
    messages: Sequence[Message]
    tools: Sequence[ToolSpec] = ()
    tool_choice: Literal["auto", "required", "none"] = "auto"
    params: GenerationParams = field(default_factory=GenerationParams)
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallEvent:
    call: ToolCallRequest


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    """Every prompt token of the request, cached ones included."""
    output_tokens: int = 0
    cached_input_tokens: int = 0
    """The part of ``input_tokens`` the vendor served from its prompt cache (billed at the cached rate)."""


@dataclass(frozen=True)
class Finish:
    reason: str = "stop"


ProviderEvent = TextDelta | ToolCallEvent | Usage | Finish


class Provider(Protocol):
    """An LLM behind the runtime."""

    name: str
    """The ``gen_ai.system`` value: mock, openai, anthropic, gemini..."""
    model: str

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        """Stream one model response."""
        ...

    async def aclose(self) -> None: ...
