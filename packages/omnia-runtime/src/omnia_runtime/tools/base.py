"""The tool interface between the conversation loop and whatever executes tools.

The conversation loop sees only ``ToolSpec`` (what the model may call), ``ToolExecutor`` (how to run a
server-side call) and ``ToolResult`` (what goes back to the model). Tools whose ``execution`` is
``"client"`` are never executed here: the loop hands them to the client over the Converse stream.
Adapters for HTTP, gRPC, MCP and OpenAPI handlers implement ``ToolExecutor`` behind a router that reads
``tools.yaml``; ``StaticToolExecutor`` serves tests and custom runtimes with plain Python functions.
"""

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "StaticToolExecutor",
    "ToolCallContext",
    "ToolExecutor",
    "ToolFunction",
    "ToolResult",
    "ToolSpec",
]


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call."""

    name: str
    description: str
    input_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    """JSON Schema of the arguments object."""
    handler: str = ""
    """Name of the ToolRegistry handler that serves it (empty for tools defined in code)."""
    execution: Literal["server", "client"] = "server"
    consent_message: str = ""
    """Shown to the user before a client-side tool runs."""
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolResult:
    """What a tool call returns to the model: JSON text, marked as an error when the call failed."""

    content: str
    is_error: bool = False

    @classmethod
    def error(cls, message: str) -> "ToolResult":
        return cls(content=json.dumps({"error": message}), is_error=True)


@dataclass(frozen=True)
class ToolCallContext:
    """Who is calling: forwarded to tool backends as ``x-omnia-*`` metadata where the transport allows."""

    session_id: str = ""
    call_id: str = ""
    agent_name: str = ""
    namespace: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class ToolExecutor(Protocol):
    """Runs server-side tool calls. Implementations never raise for a failed call: they return an error result."""

    def specs(self) -> Sequence[ToolSpec]:
        """Every tool this executor offers (client-side ones included, marked ``execution="client"``)."""
        ...

    async def execute(self, name: str, arguments: Mapping[str, Any], *, context: ToolCallContext) -> ToolResult:
        """Run one call. Unknown tools, bad arguments and backend failures come back as error results."""
        ...

    async def aclose(self) -> None:
        """Release connections and subprocesses; safe to call twice."""
        ...


ToolFunction = Callable[..., Any] | Callable[..., Awaitable[Any]]


class StaticToolExecutor:
    """A ``ToolExecutor`` over plain Python functions (sync or async) taking the arguments as keywords.

    Useful in tests and in custom runtimes built on the SDK. A function's return value is sent to the model
    as JSON; an exception it raises becomes an error result.
    """

    def __init__(self, tools: Mapping[str, tuple[ToolSpec, ToolFunction]] | None = None) -> None:
        self._tools: dict[str, tuple[ToolSpec, ToolFunction]] = dict(tools or {})

    def add(self, spec: ToolSpec, function: ToolFunction) -> None:
        self._tools[spec.name] = (spec, function)

    def specs(self) -> Sequence[ToolSpec]:
        return [spec for spec, _ in self._tools.values()]

    async def execute(self, name: str, arguments: Mapping[str, Any], *, context: ToolCallContext) -> ToolResult:
        entry = self._tools.get(name)
        if entry is None:
            return ToolResult.error(f"unknown tool {name!r}")
        _, function = entry
        try:
            value = function(**arguments)
            if inspect.isawaitable(value):
                value = await value
        except Exception as e:  # the tool's own failure goes back to the model
            return ToolResult.error(f"{type(e).__name__}: {e}")
        return ToolResult(content=value if isinstance(value, str) else json.dumps(value))

    async def aclose(self) -> None:
        return None
