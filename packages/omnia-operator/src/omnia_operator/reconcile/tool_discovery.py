"""Handler checks and live tool discovery for ToolRegistry status, using the runtime's own code.

Validation is what the CRD schema cannot say: retry bounds that relate two fields, auth on a stdio MCP server, and
whatever the runtime's `parse_tools_config` rejects (the exact config the agent pods will load).

Discovery runs every self-describing network handler (MCP over streamable HTTP or SSE, OpenAPI, gRPC without an
inline `tool`) at once, each under its own timeout (the handler's `timeout`, capped by the operator's discovery
timeout), so one hung server costs its registry at most that timeout and never holds up the other handlers. Results
are cached per handler configuration for the re-discovery interval: the status write that follows a discovery
triggers another reconcile, which must not contact every server again. A credential reaches discovery as a file in
a private temporary directory (the runtime reads `authTokenPath`), deleted as soon as discovery ends.

The operator never starts a process. A stdio MCP handler's `command` runs in the agent's runtime container (the
runtime discovers its tools at start-up); run here it would execute whatever a ToolRegistry author wrote with the
operator's service account, which reads Secrets and creates Deployments, and the command lives in the runtime image
anyway. Such handlers are reported as discovered by the runtime (`is_runtime_discovered`), and `ToolDiscovery`
refuses a stdio entry outright, so no caller can make it spawn one.
"""

import asyncio
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omnia_operator.api.models.toolregistry import DiscoveredTool, Handler, RetryPolicy
from omnia_operator.errors import InvalidResourceError
from omnia_operator.resolve.durations import parse_duration

logger = logging.getLogger(__name__)

MAX_TOOLS_PER_HANDLER = 128
MAX_SCHEMA_BYTES = 32 * 1024
MAX_DESCRIPTION = 4096
SELF_DESCRIBING = ("mcp", "openapi")
RUNTIME_DISCOVERY_REASON = (
    "stdio handlers run in the agent's runtime, which lists their tools at start-up; the operator does not start them"
)


def is_runtime_discovered(handler: Handler) -> bool:
    """A stdio MCP server: only the agent's runtime starts it, so only the runtime can list its tools."""
    return handler.type == "mcp" and handler.mcp_config is not None and handler.mcp_config.transport == "stdio"


def is_self_describing(handler: Handler) -> bool:
    """The operator asks this handler's server for its tools (a network call; never a stdio process)."""
    if is_runtime_discovered(handler):
        return False
    return handler.type in SELF_DESCRIBING or (handler.type == "grpc" and handler.tool is None)


def _is_stdio_entry(entry: Mapping[str, Any]) -> bool:
    section = entry.get("mcpConfig")
    return entry.get("type") == "mcp" and (not isinstance(section, Mapping) or section.get("transport") == "stdio")


def _retry_problems(name: str, policy: RetryPolicy | None) -> list[str]:
    if policy is None:
        return []
    problems: list[str] = []
    if not 1 <= policy.max_attempts <= 10:
        problems.append(f"handler {name}: retryPolicy.maxAttempts must be 1-10, not {policy.max_attempts}")
    try:
        multiplier = float(policy.backoff_multiplier)
    except ValueError:
        multiplier = -1.0
    if not 1.0 <= multiplier <= 10.0:
        problems.append(
            f"handler {name}: retryPolicy.backoffMultiplier must be a number from 1.0 to 10.0, "
            f"not {policy.backoff_multiplier!r}"
        )
    try:
        if parse_duration(policy.initial_backoff) > parse_duration(policy.max_backoff):
            problems.append(f"handler {name}: retryPolicy.initialBackoff must not exceed maxBackoff")
    except InvalidResourceError as e:
        problems.append(f"handler {name}: retryPolicy: {e}")
    return problems


def handler_problems(handler: Handler, entry: Mapping[str, Any]) -> list[str]:
    """What is wrong with one handler (empty when valid); `entry` is its tools.yaml entry."""
    problems: list[str] = []
    name = handler.name
    config = handler.http_config or handler.open_api_config or handler.grpc_config or handler.mcp_config
    problems.extend(_retry_problems(name, getattr(config, "retry_policy", None)))
    mcp = handler.mcp_config
    if mcp is not None and mcp.transport == "stdio":
        if handler.auth is not None and handler.auth.type != "none":
            problems.append(f"handler {name}: auth is not allowed on a stdio MCP server; pass credentials in env")
        if handler.selector is not None:
            problems.append(f"handler {name}: selector makes no sense for a stdio MCP server; remove it")
    if handler.selector is not None and handler.type == "client":
        problems.append(f"handler {name}: client tools run in the browser; remove selector")
    try:
        parse_duration(handler.timeout)
    except InvalidResourceError as e:
        problems.append(f"handler {name}: timeout: {e}")
    from omnia_runtime.tools.config import parse_tools_config

    parsed = parse_tools_config({"handlers": [_with_token_path(entry, "/dev/null")]})
    problems.extend(f"handler {name}: {p.split(': ', 1)[-1]}" for p in parsed.problems)
    return problems


def _with_token_path(entry: Mapping[str, Any], path: str) -> dict[str, Any]:
    copied = json.loads(json.dumps(entry))
    for key in ("httpConfig", "openAPIConfig", "grpcConfig", "mcpConfig"):
        section = copied.get(key)
        if isinstance(section, dict) and "authTokenPath" in section:
            section["authTokenPath"] = path
    return copied


@dataclass(frozen=True)
class HandlerDiscovery:
    """Discovered tools (status entries) or the error that prevented discovery."""

    tools: list[DiscoveredTool] = field(default_factory=list)
    error: str | None = None


def _tool_status(tool: Any, handler: str, endpoint: str | None) -> DiscoveredTool:
    schema = dict(tool.input_schema or {})
    return DiscoveredTool(
        name=str(tool.name)[:256],
        handler_name=handler,
        description=str(tool.description or "")[:MAX_DESCRIPTION],
        status="Available",
        input_schema=schema if schema and len(json.dumps(schema)) <= MAX_SCHEMA_BYTES else None,
        endpoint=endpoint or None,
    )


class ToolDiscovery:
    """Runs the runtime's `discover` per handler, concurrently and bounded, with a per-config cache."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        ttl: float = 300.0,
        retry: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.ttl = ttl
        self.retry = min(retry, ttl)
        """A failed discovery is cached only this long, so a server that comes up is found soon."""
        self._clock = clock
        self._cache: dict[str, tuple[float, HandlerDiscovery]] = {}

    def _cache_key(self, scope: str, entry: Mapping[str, Any], credential: bytes | None) -> str:
        material = json.dumps([scope, entry, hashlib.sha256(credential or b"").hexdigest()], sort_keys=True)
        return hashlib.sha256(material.encode()).hexdigest()

    async def discover_all(
        self, scope: str, jobs: Mapping[str, tuple[Handler, dict[str, Any], bytes | None]]
    ) -> dict[str, HandlerDiscovery]:
        """Discover every job at once; jobs map handler name → (handler, tools.yaml entry, credential)."""
        now = self._clock()
        results: dict[str, HandlerDiscovery] = {}
        pending: dict[str, asyncio.Task[HandlerDiscovery]] = {}
        keys: dict[str, str] = {}
        async with asyncio.TaskGroup() as group:
            for name, (handler, entry, credential) in jobs.items():
                key = self._cache_key(scope, entry, credential)
                keys[name] = key
                cached = self._cache.get(key)
                if cached is not None and now - cached[0] < (self.ttl if cached[1].error is None else self.retry):
                    results[name] = cached[1]
                    continue
                pending[name] = group.create_task(self._discover_one(handler, entry, credential))
        for name, task in pending.items():
            results[name] = task.result()
            self._cache[keys[name]] = (self._clock(), results[name])
        self._expire(now)
        return results

    def _expire(self, now: float) -> None:
        for key in [k for k, (at, _) in self._cache.items() if now - at >= self.ttl * 2]:
            del self._cache[key]

    async def _discover_one(
        self, handler: Handler, entry: dict[str, Any], credential: bytes | None
    ) -> HandlerDiscovery:
        from omnia_runtime.tools.config import parse_tools_config
        from omnia_runtime.tools.discovery import discover
        from omnia_runtime.tools.errors import ToolDiscoveryError

        if is_runtime_discovered(handler) or _is_stdio_entry(entry):
            return HandlerDiscovery(error=f"handler {handler.name}: {RUNTIME_DISCOVERY_REASON}")
        timeout = min(parse_duration(handler.timeout), self.timeout)
        with tempfile.TemporaryDirectory(prefix="omnia-discovery-") as private:
            token_path = Path(private) / "credential"
            if credential is not None:
                token_path.write_bytes(credential)
                token_path.chmod(0o600)
            parsed = parse_tools_config({"handlers": [_with_token_path(entry, str(token_path))]})
            if not parsed.handlers:
                return HandlerDiscovery(error="; ".join(parsed.problems) or "handler could not be parsed")
            mcp = parsed.handlers[0].mcp_config
            if mcp is not None and mcp.transport == "stdio":  # never reached through the reconcile; a last guard
                return HandlerDiscovery(error=f"handler {handler.name}: {RUNTIME_DISCOVERY_REASON}")
            try:
                found = await discover(parsed.handlers[0], timeout=timeout)
            except ToolDiscoveryError as e:
                logger.info("tool discovery of handler %s failed: %s", handler.name, e)
                return HandlerDiscovery(error=str(e)[:MAX_DESCRIPTION])
            except Exception as e:  # a bug in one adapter must not fail the other handlers' discovery
                logger.warning("tool discovery of handler %s crashed", handler.name, exc_info=True)
                return HandlerDiscovery(error=f"handler {handler.name}: discovery failed: {type(e).__name__}")
        endpoint = entry.get("endpoint")
        tools = [_tool_status(t, handler.name, endpoint) for t in found[:MAX_TOOLS_PER_HANDLER]]
        if not tools:
            return HandlerDiscovery(error=f"handler {handler.name}: the server offers no tools")
        return HandlerDiscovery(tools=tools)
