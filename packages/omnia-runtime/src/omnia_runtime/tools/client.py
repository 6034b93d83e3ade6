"""Client-side tools (``type: client``): declared here, executed by the user's client.

The conversation loop sees ``execution="client"`` on the spec and sends a ``tool_call`` to the client over the
Converse stream, with the consent message and categories; the runtime never runs these tools itself.
"""

from collections.abc import Mapping
from typing import Any

from omnia_runtime.tools.base import ToolCallContext, ToolResult, ToolSpec
from omnia_runtime.tools.config import HandlerConfig

__all__ = ["ClientToolAdapter"]


class ClientToolAdapter:
    def __init__(self, handler: HandlerConfig) -> None:
        if handler.tool is None:
            raise ValueError("a client handler needs a tool")
        self.handler = handler

    async def start(self) -> list[ToolSpec]:
        tool = self.handler.tool
        assert tool is not None
        client = self.handler.client_config
        return [
            ToolSpec(
                name=tool.name,
                description=tool.description,
                input_schema=tool.input_schema,
                handler=self.handler.name,
                execution="client",
                consent_message=client.consent_message if client else "",
                categories=tuple(client.categories) if client else (),
            )
        ]

    async def call(self, tool: ToolSpec, arguments: Mapping[str, Any], context: ToolCallContext) -> ToolResult:
        return ToolResult.error(f"{tool.name} is a client-side tool: the client runs it, not the runtime")

    async def aclose(self) -> None:
        return None
