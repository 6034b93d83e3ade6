"""The interface between the WebSocket connection and whatever produces the reply.

A handler opens one ``TurnStream`` per user message. The stream yields our own event types (never gRPC
messages): text deltas, client-side tool calls, and a final ``TurnDone``. The connection answers tool calls with
``send_tool_result`` on the same stream, and leaving the ``turn`` context cancels whatever is still running.
"""

from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from omnia_facade.identity import Identity
from omnia_facade.protocol import ContentPart, Usage


@dataclass(frozen=True, slots=True)
class TurnRequest:
    session_id: str
    content: str
    parts: list[ContentPart]
    metadata: dict[str, str]
    identity: Identity
    request_id: str = ""
    """Empty: the handler picks one (the runtime client: a fresh id per runtime call)."""
    consent_grants: list[str] = field(default_factory=list)
    workspace: str = ""
    trace_headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ClientToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    consent_message: str = ""
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TurnDone:
    content: str
    parts: list[ContentPart] = field(default_factory=list)
    usage: Usage | None = None


TurnEvent = TextDelta | ClientToolCall | TurnDone


class TurnStream(Protocol):
    def events(self) -> AsyncGenerator[TurnEvent, None]:
        """Events until (and including) ``TurnDone``; raises a ``FacadeError`` on failure."""
        ...

    async def send_tool_result(self, call_id: str, result_json: str, *, rejected: bool, reason: str = "") -> None:
        """Answer a ``ClientToolCall`` this stream yielded."""
        ...


class TurnHandler(Protocol):
    name: str

    def turn(self, request: TurnRequest) -> AbstractAsyncContextManager[TurnStream]:
        """Open a turn; leaving the context cancels it if it is still running."""
        ...

    async def has_conversation(self, session_id: str) -> bool | None:
        """Whether the backend can resume ``session_id`` (None: it cannot tell)."""
        ...

    def session_closed(self, session_id: str) -> None:
        """The last connection of ``session_id`` went away: drop whatever was kept ready for its next turn."""
        ...

    async def ready(self) -> bool: ...

    async def aclose(self) -> None: ...
