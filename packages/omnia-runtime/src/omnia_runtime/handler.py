"""The contract between the gRPC server and whatever answers turns (the PromptPack engine or a custom
handler written with the SDK). The server owns the wire protocol; a handler only sees these types."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Turn:
    """One user turn."""

    session_id: str
    content: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    identity: Mapping[str, str] = field(default_factory=dict)
    """The ``x-omnia-*`` call metadata (agent name, user id, request id...), keys without the prefix."""
    consent_grants: Sequence[str] = ()


@dataclass(frozen=True)
class ClientToolResult:
    """What the client answered to a client-side tool call."""

    call_id: str
    result_json: str = ""
    is_rejected: bool = False
    rejection_reason: str = ""


@dataclass(frozen=True)
class TurnUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class Emitter(Protocol):
    """How a handler answers: text chunks, client tool calls (awaiting the client's result), then done."""

    async def chunk(self, text: str) -> None: ...

    async def client_tool_call(
        self,
        name: str,
        arguments: Mapping[str, Any],
        *,
        call_id: str = "",
        consent_message: str = "",
        categories: Sequence[str] = (),
    ) -> ClientToolResult:
        """Send a ``ToolCall{execution: CLIENT}`` and wait (bounded) for the client's result."""
        ...

    async def done(self, final_content: str = "", usage: TurnUsage | None = None) -> None: ...


@runtime_checkable
class Handler(Protocol):
    """Answers turns. ``capabilities`` is advertised in Health and RuntimeHello (``client_tools``, ``invoke``...)."""

    def capabilities(self) -> Sequence[str]: ...

    async def converse(self, turn: Turn, emitter: Emitter) -> None: ...


@runtime_checkable
class Invoker(Protocol):
    """Optional: function mode. Must be advertised with the ``invoke`` capability."""

    async def invoke(self, input_data: Mapping[str, Any], metadata: Mapping[str, str]) -> tuple[Any, TurnUsage]: ...


@runtime_checkable
class ConversationProber(Protocol):
    """Optional: the resume probe. ``None`` means the store could not answer (UNAVAILABLE)."""

    async def has_conversation(self, session_id: str) -> bool | None: ...
