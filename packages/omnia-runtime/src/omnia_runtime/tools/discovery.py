"""Which tools a handler offers: the one function the runtime and the operator share.

``create_adapter`` picks the adapter for a handler type; ``discover`` starts it under a timeout, reads its
tools and closes it again. The operator uses ``discover`` to fill ``ToolRegistry.status.discoveredTools``; the
router uses ``create_adapter`` and keeps the adapters open. Adapter modules are imported on first use, so a
process that only needs HTTP tools does not load grpc, mcp or openapi-core.
"""

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omnia_runtime.tools.adapter import ToolAdapter
from omnia_runtime.tools.base import ToolSpec
from omnia_runtime.tools.config import HandlerConfig
from omnia_runtime.tools.errors import ToolDiscoveryError

__all__ = ["CLOSE_TIMEOUT", "DiscoveredTool", "create_adapter", "discover", "start_adapter"]

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT = 5.0


@dataclass(frozen=True)
class DiscoveredTool:
    name: str
    description: str
    input_schema: Mapping[str, Any]
    handler: str


def create_adapter(handler: HandlerConfig) -> ToolAdapter:
    """A new, not yet started adapter for the handler."""
    match handler.type:
        case "http":
            from omnia_runtime.tools.http import HttpToolAdapter

            return HttpToolAdapter(handler)
        case "grpc":
            from omnia_runtime.tools.grpc import GrpcToolAdapter

            return GrpcToolAdapter(handler)
        case "mcp":
            from omnia_runtime.tools.mcp import McpToolAdapter

            return McpToolAdapter(handler)
        case "openapi":
            from omnia_runtime.tools.openapi import OpenAPIToolAdapter

            return OpenAPIToolAdapter(handler)
        case "client":
            from omnia_runtime.tools.client import ClientToolAdapter

            return ClientToolAdapter(handler)


async def close_adapter(adapter: ToolAdapter) -> None:
    """Close with a bound; a backend that hangs on close is logged, not waited for forever."""
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await adapter.aclose()
    except TimeoutError:
        logger.warning("tool handler %s did not close within %ss", adapter.handler.name, CLOSE_TIMEOUT)
    except Exception:
        logger.warning("tool handler %s failed to close cleanly", adapter.handler.name, exc_info=True)


async def start_adapter(adapter: ToolAdapter, timeout: float) -> list[ToolSpec]:  # noqa: ASYNC109
    """Start the adapter within ``timeout`` seconds; on any failure close it and raise ToolDiscoveryError."""
    name = adapter.handler.name
    try:
        async with asyncio.timeout(timeout):
            return list(await adapter.start())
    except TimeoutError as e:
        await close_adapter(adapter)
        raise ToolDiscoveryError(f"handler {name}: no tool list within {timeout:g}s; check that it is up") from e
    except ToolDiscoveryError as e:
        await close_adapter(adapter)
        raise ToolDiscoveryError(f"handler {name}: {e}") from e
    except Exception as e:
        await close_adapter(adapter)
        raise ToolDiscoveryError(f"handler {name}: discovery failed: {type(e).__name__}: {e}") from e


async def discover(handler: HandlerConfig, *, timeout: float = 10.0) -> list[DiscoveredTool]:  # noqa: ASYNC109
    """The tools the handler offers (connects, lists, disconnects). Raises ToolDiscoveryError."""
    adapter = create_adapter(handler)
    specs = await start_adapter(adapter, timeout)
    await close_adapter(adapter)
    return [DiscoveredTool(s.name, s.description, s.input_schema, handler.name) for s in specs]
