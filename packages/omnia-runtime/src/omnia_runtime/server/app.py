"""Start-up wiring: settings → pack, provider, store, tools → a ``Handler`` → gRPC + health servers.

``serve_handler`` serves any handler (the SDK's ``serve`` uses it); ``run_runtime`` builds the PromptPack
handler from ``OMNIA_*`` settings. An invalid pack does not stop the process: the servers come up, ``/readyz``
answers 503 listing every problem (also logged), and Converse answers with an error, so Kubernetes shows why.
Validators of the served prompt that the runtime cannot enforce do not block readiness: they are logged once
(WARNING) at start-up, listed as ``warning:`` lines of a ready ``/readyz`` and counted by the
``omnia_runtime_validators_not_enforced{prompt, validator_type}`` gauge.

Lint findings (what ``validate-pack`` rejects beyond the schema: a prompt listing a tool defined nowhere,
a template variable that is not declared) do not block readiness either: upstream serves such packs (tools
come from the ToolRegistry, variables from the turn) and so do valid conformance packs. They are made visible
the same way: one WARNING per finding at start-up and one ``warning:`` line each in ``/readyz``. A listed tool
that the ToolRegistry (``tools.yaml``) offers is not a finding.
"""

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from omnia_runtime import metrics
from omnia_runtime.conversation.engine import ConversationEngine, Pricing
from omnia_runtime.conversation.store import ConversationStore, MemoryConversationStore, RedisConversationStore
from omnia_runtime.errors import ConfigError, OmniaRuntimeError, PackError
from omnia_runtime.handler import Emitter, Handler, Turn, TurnUsage
from omnia_runtime.promptpack import lint_pack_data, parse_pack, resolve_entry_prompt, unenforced_validators
from omnia_runtime.promptpack.loader import read_pack_file
from omnia_runtime.providers.base import GenerationParams, Provider
from omnia_runtime.providers.factory import build_provider
from omnia_runtime.server.grpc_service import RuntimeService, start_grpc_server
from omnia_runtime.server.health_http import HealthServer, Readiness
from omnia_runtime.settings import RuntimeSettings
from omnia_runtime.tools.base import StaticToolExecutor, ToolExecutor

logger = logging.getLogger(__name__)

CAPABILITIES = ("invoke", "client_tools")
"""Only what this runtime really does: consent grants, duplex audio and media references are not offered."""


class PackHandler:
    """The PromptPack runtime as a ``Handler`` (and ``Invoker`` / ``ConversationProber``)."""

    def __init__(self, engine: ConversationEngine) -> None:
        self.engine = engine

    def capabilities(self) -> Sequence[str]:
        return CAPABILITIES

    async def converse(self, turn: Turn, emitter: Emitter) -> None:
        await self.engine.run_turn(turn, emitter)

    async def invoke(self, input_data: Mapping[str, Any], metadata: Mapping[str, str]) -> tuple[Any, TurnUsage]:
        collector = _Collector()
        content = str(input_data.get("input") or metadata.get("content") or "Run the task with the given input.")
        await self.engine.run_turn(Turn(session_id="", content=content, metadata=metadata), collector, input_data)
        try:  # a JSON answer (function mode packs usually ask for one) is returned as is
            return json.loads(collector.final), collector.usage
        except json.JSONDecodeError:
            return {"output": collector.final}, collector.usage

    async def has_conversation(self, session_id: str) -> bool | None:
        return await self.engine.has_conversation(session_id)


class _Collector:
    def __init__(self) -> None:
        self.final = ""
        self.usage = TurnUsage()

    async def chunk(self, text: str) -> None:
        return None

    async def client_tool_call(self, name: str, arguments: Mapping[str, Any], **_: Any) -> Any:
        from omnia_runtime.handler import ClientToolResult

        return ClientToolResult("", is_rejected=True, rejection_reason="client tools are not available in Invoke")

    async def done(self, final_content: str = "", usage: TurnUsage | None = None) -> None:
        self.final, self.usage = final_content, usage or TurnUsage()


class UnreadyHandler:
    """Stands in while the pack is invalid: every turn ends with the reason."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons

    def capabilities(self) -> Sequence[str]:
        return ()

    async def converse(self, turn: Turn, emitter: Emitter) -> None:
        raise ConfigError("the runtime is not ready: " + "; ".join(self.reasons[:5]))


@dataclass
class RunningServers:
    grpc_server: grpc.aio.Server
    grpc_port: int
    health: HealthServer
    health_port: int
    readiness: Readiness


async def start_servers(handler: Handler, settings: RuntimeSettings, readiness: Readiness) -> RunningServers:
    service = RuntimeService(
        handler,
        max_content_length=settings.max_content_length,
        client_tool_timeout=settings.client_tool_timeout,
        not_ready_reasons=lambda: readiness.reasons,
    )
    grpc_server, grpc_port = await start_grpc_server(
        service,
        host=settings.bind_host,
        port=settings.grpc_port,
        max_message_size=settings.grpc_max_message_size,
        tracing=settings.tracing_enabled,
    )
    health = HealthServer(readiness)
    try:
        health_port = await health.start(settings.bind_host, settings.health_port)
    except OSError:
        await grpc_server.stop(None)
        raise
    logger.info(
        "serving gRPC on %s:%d, health on %s:%d", settings.bind_host, grpc_port, settings.bind_host, health_port
    )
    return RunningServers(grpc_server, grpc_port, health, health_port, readiness)


async def stop_servers(servers: RunningServers, grace: float) -> None:
    await servers.health.stop()
    await servers.grpc_server.stop(grace)


async def build_store(settings: RuntimeSettings) -> ConversationStore:
    if settings.context_type == "redis" or settings.context_url:
        if not settings.context_url:
            raise ConfigError("OMNIA_CONTEXT_TYPE=redis needs OMNIA_CONTEXT_URL (or OMNIA_SESSION_URL)")
        store = RedisConversationStore(
            settings.context_url,
            ttl=settings.context_ttl,
            prefix=settings.context_key_prefix,
            max_messages=settings.context_max_messages,
        )
        try:
            async with asyncio.timeout(5):
                await store.ping()
        except BaseException:
            await store.aclose()
            raise
        return store
    return MemoryConversationStore(settings.context_ttl, settings.context_max_messages)


async def build_tools(settings: RuntimeSettings) -> ToolExecutor:
    """The tool router from tools.yaml when the file exists, else no tools."""
    if not settings.tools_config_path.is_file():
        return StaticToolExecutor()
    from omnia_runtime.tools.config import load_tools_config
    from omnia_runtime.tools.router import ToolRouter

    router = ToolRouter()
    try:
        await router.start(
            load_tools_config(settings.tools_config_path), discovery_timeout=settings.tool_discovery_timeout
        )
    except BaseException:
        await router.aclose()
        raise
    return router


@dataclass
class Components:
    handler: Handler
    closers: list[Callable[[], Awaitable[None]]]
    warnings: list[str] = field(default_factory=list)
    """What serves, but not as the pack asks (shown by ``/readyz``)."""


def report_unenforced_validators(prompt_name: str, validator_types: Sequence[str]) -> list[str]:
    """Log once and count the served prompt's validators that cannot be enforced; the ``/readyz`` warnings."""
    if not validator_types:
        return []
    listed = ", ".join(validator_types)
    logger.warning(
        "prompt %s: validators not enforced by this runtime (answers pass them unchecked): %s", prompt_name, listed
    )
    for validator_type in validator_types:
        metrics.VALIDATORS_NOT_ENFORCED.labels(prompt_name, validator_type).set(1)
    return [f"prompt {prompt_name}: validators not enforced by this runtime: {listed}"]


def report_pack_lint(findings: Sequence[str]) -> list[str]:
    """Log each lint finding of the served pack once (WARNING); the ``/readyz`` warnings."""
    for finding in findings:
        logger.warning("PromptPack warning (serving anyway): %s", finding)
    return [f"PromptPack: {finding}" for finding in findings]


async def build_pack_handler(
    settings: RuntimeSettings, *, provider: Provider | None = None, executor: ToolExecutor | None = None
) -> Components:
    """Everything the PromptPack handler needs. ``PackError`` when the pack is invalid."""
    data = read_pack_file(settings.promptpack_path)
    pack = parse_pack(data, source=str(settings.promptpack_path))
    prompt_name, prompt = resolve_entry_prompt(pack, settings.prompt_name)
    closers: list[Callable[[], Awaitable[None]]] = []
    try:
        provider = provider or build_provider(settings)
        closers.append(provider.aclose)
        store = await build_store(settings)
        closers.append(store.aclose)
        executor = executor or await build_tools(settings)
        closers.append(executor.aclose)
    except BaseException:
        for close in reversed(closers):
            await close()
        raise
    engine = ConversationEngine(
        pack=pack,
        prompt=prompt,
        provider=provider,
        executor=executor,
        store=store,
        pricing=Pricing(settings.provider_input_cost, settings.provider_output_cost, settings.provider_cached_cost),
        default_params=GenerationParams(
            settings.provider_temperature, settings.provider_top_p, settings.provider_max_tokens
        ),
        agent_name=settings.agent_name,
        namespace=settings.namespace,
    )
    metrics.RUNTIME_INFO.info(
        {
            "agent": settings.agent_name,
            "namespace": settings.namespace,
            "provider": provider.name,
            "model": provider.model,
            "promptpack": settings.promptpack_name or pack.id,
            "promptpack_version": settings.promptpack_version or pack.version,
        }
    )
    lint = lint_pack_data(data, known_tools=[spec.name for spec in executor.specs()])
    warnings = report_pack_lint(lint) + report_unenforced_validators(
        prompt_name, unenforced_validators(prompt.validators)
    )
    return Components(PackHandler(engine), closers, warnings)


@contextlib.asynccontextmanager
async def running_runtime(
    settings: RuntimeSettings, *, provider: Provider | None = None, executor: ToolExecutor | None = None
) -> AsyncIterator[RunningServers]:
    """Start the PromptPack runtime; yields the ``RunningServers``. ``provider``/``executor`` replace what
    the settings would build (tests, embedding)."""
    readiness = Readiness()
    components: Components | None = None
    try:
        components = await build_pack_handler(settings, provider=provider, executor=executor)
        handler: Handler = components.handler
    except PackError as e:
        problems = [str(e), *e.problems]
        for problem in problems:
            logger.error("PromptPack problem: %s", problem)
        handler = UnreadyHandler(problems)
        readiness.set_not_ready(problems)
    except OmniaRuntimeError as e:
        logger.error("start-up failed: %s", e)
        handler = UnreadyHandler([str(e)])
        readiness.set_not_ready([str(e)])
    servers = await start_servers(handler, settings, readiness)
    if components is not None:
        readiness.warnings = components.warnings
        readiness.set_ready()
    try:
        yield servers
    finally:
        await stop_servers(servers, settings.shutdown_grace)
        for close in reversed(components.closers if components else []):
            try:
                await close()
            except Exception:
                logger.exception("error while closing a runtime component")


def freeze_startup_objects() -> None:
    """Move every object that exists now (modules, pack, provider, servers: start-up state that lives as long as
    the process) out of the garbage collector's sight with ``gc.freeze()``.

    A full collection then scans only what turns created; without it one took 30-45 ms of a loaded runtime
    (measured with ``gc.callbacks`` during ``bench/bench_streaming.py``), a stall of every stream in flight.
    Called by the serving entry points once they listen, not by ``running_runtime`` (tests run many runtimes in
    one process).
    """
    gc.freeze()


async def serve_until(settings: RuntimeSettings, stop: asyncio.Event) -> None:
    """Serve the PromptPack runtime until ``stop`` is set, then shut down gracefully."""
    from omnia_runtime.tracing import tracing

    async with tracing(settings), running_runtime(settings):
        freeze_startup_objects()
        await stop.wait()
        logger.info("stopping: draining for up to %.0fs", settings.shutdown_grace)
