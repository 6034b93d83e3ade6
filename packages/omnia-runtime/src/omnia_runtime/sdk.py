"""The public API for custom runtimes: write a ``Handler``, call ``run(handler)``, and you serve the same
``omnia.runtime.v1`` contract (hello frame, chunks, client tool calls, done/error, Health, identity metadata)
with ``/healthz``, ``/readyz`` and ``/metrics`` on the health port.

    from omnia_runtime.sdk import Emitter, Turn, run

    class Echo:
        def capabilities(self) -> list[str]:
            return ["client_tools"]

        async def converse(self, turn: Turn, emitter: Emitter) -> None:
            await emitter.chunk("You said: ")
            await emitter.chunk(turn.content)
            await emitter.done(f"You said: {turn.content}")

    run(Echo())

Add ``invoke`` (and the ``invoke`` capability) for function mode, ``has_conversation`` for the resume probe.
Ports and limits come from the same ``OMNIA_*`` variables as the built-in runtime (``RuntimeSettings``).
"""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

from omnia_runtime.handler import (
    ClientToolResult,
    ConversationProber,
    Emitter,
    Handler,
    Invoker,
    Turn,
    TurnUsage,
)
from omnia_runtime.server.app import RunningServers, freeze_startup_objects, start_servers, stop_servers
from omnia_runtime.server.health_http import Readiness
from omnia_runtime.settings import RuntimeSettings, load_settings
from omnia_runtime.tools.base import StaticToolExecutor, ToolSpec

__all__ = [
    "ClientToolResult",
    "ConversationProber",
    "Emitter",
    "Handler",
    "Invoker",
    "RunningServers",
    "RuntimeSettings",
    "StaticToolExecutor",
    "ToolSpec",
    "Turn",
    "TurnUsage",
    "run",
    "serve",
    "serving",
]


@contextlib.asynccontextmanager
async def serving(handler: Handler, settings: RuntimeSettings | None = None) -> AsyncIterator[RunningServers]:
    """Serve ``handler`` for the duration of the block (ports 0 pick free ones: see ``grpc_port``)."""
    settings = settings or load_settings()
    readiness = Readiness()
    servers = await start_servers(handler, settings, readiness)
    readiness.set_ready()
    try:
        yield servers
    finally:
        await stop_servers(servers, settings.shutdown_grace)


async def serve(handler: Handler, settings: RuntimeSettings | None = None, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set (by default: until SIGTERM or SIGINT), then shut down gracefully."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
    from omnia_runtime.tracing import tracing

    settings = settings or load_settings()
    async with tracing(settings), serving(handler, settings):
        freeze_startup_objects()
        await stop.wait()


def run(handler: Handler, settings: RuntimeSettings | None = None) -> None:
    """Blocking entry point: ``asyncio.run(serve(handler))`` with logging configured from the settings."""
    from omnia_runtime.logs import configure_logging

    settings = settings or load_settings()
    configure_logging(settings.log_format, settings.log_level)
    asyncio.run(serve(handler, settings))
