"""What every handler adapter offers the router.

An adapter serves one handler of ``tools.yaml``. ``start()`` connects (where the transport has a connection)
and returns the tools the handler offers; ``call()`` makes ONE attempt at one call and either returns the
result or raises a ``ToolBackendError`` (transient or backend failure) or ``ToolRejectedError`` (the backend
refused the request). Retries, timeouts, the circuit breaker, argument validation, metrics and spans are the
router's job, so they behave the same for every transport.
"""

import re
from collections.abc import Mapping
from typing import Any, Protocol

from omnia_runtime.tools.base import ToolCallContext, ToolResult, ToolSpec
from omnia_runtime.tools.config import HandlerConfig, ToolDefinition

__all__ = ["MAX_RESPONSE_BYTES", "ToolAdapter", "context_metadata", "spec_from_definition"]

_UNSAFE_KEY = re.compile(r"[^a-z0-9_.-]")
_UNSAFE_VALUE = re.compile(r"[^\x20-\x7e]")

MAX_RESPONSE_BYTES = 4 * 1024 * 1024
"""Largest tool answer read from a backend; larger answers are refused rather than buffered."""


class ToolAdapter(Protocol):
    handler: HandlerConfig

    async def start(self) -> list[ToolSpec]:
        """Connect if needed and list the handler's tools; raise ToolDiscoveryError on failure."""
        ...

    async def call(self, tool: ToolSpec, arguments: Mapping[str, Any], context: ToolCallContext) -> ToolResult:
        """One attempt at one call."""
        ...

    async def aclose(self) -> None:
        """Release connections and subprocesses; safe to call twice."""
        ...


def spec_from_definition(handler: HandlerConfig, tool: ToolDefinition) -> ToolSpec:
    return ToolSpec(name=tool.name, description=tool.description, input_schema=tool.input_schema, handler=handler.name)


def context_metadata(context: ToolCallContext, handler: HandlerConfig) -> dict[str, str]:
    """``x-omnia-*`` headers/metadata telling the backend who is calling (lower-case names, gRPC-safe)."""
    values = {
        "x-omnia-session-id": context.session_id,
        "x-omnia-tool-call-id": context.call_id,
        "x-omnia-agent-name": context.agent_name,
        "x-omnia-namespace": context.namespace,
        "x-omnia-handler-name": handler.name,
    }
    for key, value in context.metadata.items():
        name = _UNSAFE_KEY.sub("-", key.lower())
        values[name if name.startswith("x-omnia-") else f"x-omnia-{name}"] = _UNSAFE_VALUE.sub(" ", value)
    return {k: v for k, v in values.items() if v}
