"""ToolRegistry reconcile: validate handlers, resolve endpoints, discover tools, publish them in status.

Per handler: checks (tool_discovery.handler_problems), the credential Secret when auth is set, the endpoint
(Service discovery by label selector, see resolve/endpoints.py), then tools: an inline `tool` is listed as
declared; self-describing network handlers (MCP over streamable HTTP/SSE, OpenAPI, gRPC without `tool`) are asked
live through the runtime's discovery code, all at once and each under a timeout. A stdio MCP handler is never
started here (its command would run with the operator's service account, and it lives in the runtime image): it
gets one `Unknown` entry saying the agent's runtime lists its tools at start-up, which is the normal state of such
a handler, so it neither degrades the registry nor turns `ToolsDiscovered` False; its condition message names it.
Phase: Failed when a handler is invalid, Degraded when a tool is unavailable, else Ready. The key is requeued every
re-discovery interval so servers that change their tools (or come up late) are picked up, and so is a handler whose
selector now matches another Service (the operator does not watch Services it does not manage); `lastDiscoveryTime`
only moves when the result changed, so an unchanged registry causes no writes.
"""

from typing import Any

from omnia_operator.api.models.resources import parse_tool_registry
from omnia_operator.api.models.toolregistry import DiscoveredTool, Handler, ToolRegistryStatus
from omnia_operator.errors import InvalidResourceError
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.reconcile.agentruntime import Outcome
from omnia_operator.reconcile.conditions import make_condition, now
from omnia_operator.reconcile.status_writer import invalid_spec_status, write_status
from omnia_operator.reconcile.tool_discovery import (
    RUNTIME_DISCOVERY_REASON,
    ToolDiscovery,
    handler_problems,
    is_runtime_discovered,
    is_self_describing,
)
from omnia_operator.resolve.endpoints import endpoint_from_services, selector_string
from omnia_operator.resolve.providers import secret_value
from omnia_operator.resolve.source import ObjectSource
from omnia_operator.resolve.tools import handler_entry

SECRET_REQUEUE = 30.0
MAX_STATUS_TOOLS = 512


def _unavailable(handler: Handler, error: str, endpoint: str | None = None) -> DiscoveredTool:
    return DiscoveredTool(
        name=handler.tool.name if handler.tool else handler.name,
        handler_name=handler.name,
        description=handler.tool.description if handler.tool else f"tools of the {handler.type} handler",
        status="Unavailable",
        error=error[:4096],
        endpoint=endpoint or None,
    )


def _runtime_discovered(handler: Handler) -> DiscoveredTool:
    return DiscoveredTool(
        name=handler.tool.name if handler.tool else handler.name,
        handler_name=handler.name,
        description=RUNTIME_DISCOVERY_REASON,
        status="Unknown",
    )


def _declared(handler: Handler, endpoint: str | None) -> DiscoveredTool:
    assert handler.tool is not None
    return DiscoveredTool(
        name=handler.tool.name,
        handler_name=handler.name,
        description=handler.tool.description,
        status="Available",
        input_schema=handler.tool.input_schema,
        output_schema=handler.tool.output_schema,
        endpoint=endpoint or None,
    )


class ToolRegistryReconciler:
    def __init__(self, client: KubeClient, source: ObjectSource, discovery: ToolDiscovery | None = None) -> None:
        self._client = client
        self._source = source
        self.discovery = discovery or ToolDiscovery()

    async def _resolve_endpoint(self, handler: Handler, namespace: str) -> tuple[str | None, str]:
        if handler.selector is None:
            return None, ""
        target_ns = handler.selector.namespace or namespace
        listed = await self._client.list(
            kinds.SERVICE, target_ns, label_selector=selector_string(handler.selector.match_labels)
        )
        return endpoint_from_services(handler, target_ns, list(listed.items))

    async def _credential(self, handler: Handler, namespace: str) -> tuple[bytes | None, str]:
        auth = handler.auth
        if auth is None or auth.secret_ref is None or auth.type == "none":
            return None, ""
        secret = await self._source.get("Secret", namespace, auth.secret_ref.name)
        key = auth.secret_ref.key or "token"
        if secret is None:
            return None, f"handler {handler.name}: Secret {auth.secret_ref.name} not found; create it with key {key}"
        value = secret_value(secret, key)
        if value is None:
            return None, f"handler {handler.name}: Secret {auth.secret_ref.name} has no key {key}"
        return value, ""

    async def reconcile(self, namespace: str, name: str) -> Outcome:
        try:
            raw = await self._client.get(kinds.TOOL_REGISTRY, name, namespace)
        except NotFoundError:
            return Outcome()
        try:
            registry = parse_tool_registry(raw)
        except InvalidResourceError as e:
            invalid_spec = invalid_spec_status(
                raw, ToolRegistryStatus, phase="Failed", condition="HandlersValid", message=str(e)
            )
            await write_status(self._client, kinds.TOOL_REGISTRY, raw, invalid_spec)
            return Outcome()
        generation = registry.metadata.generation
        old_status = registry.status
        existing = old_status.conditions
        invalid: list[str] = []
        unavailable: list[str] = []
        in_runtime: list[str] = []
        per_handler: dict[str, list[DiscoveredTool]] = {}
        jobs: dict[str, tuple[Handler, dict[str, Any], bytes | None]] = {}
        for handler in registry.spec.handlers:
            endpoint, endpoint_problem = await self._resolve_endpoint(handler, namespace)
            entry = handler_entry(handler, endpoint)
            problems = handler_problems(handler, entry)
            if problems:
                invalid.extend(problems)
                per_handler[handler.name] = [_unavailable(handler, "; ".join(problems))]
                continue
            credential, secret_problem = await self._credential(handler, namespace)
            if endpoint_problem or secret_problem:
                problem = endpoint_problem or secret_problem
                unavailable.append(problem)
                per_handler[handler.name] = [_unavailable(handler, problem, endpoint)]
                continue
            if is_runtime_discovered(handler):
                in_runtime.append(handler.name)
                per_handler[handler.name] = [_runtime_discovered(handler)]
            elif is_self_describing(handler):
                jobs[handler.name] = (handler, entry, credential)
            else:
                per_handler[handler.name] = [_declared(handler, endpoint)]
        found = await self.discovery.discover_all(f"{namespace}/{name}", jobs)
        for handler_name, result in found.items():
            handler, entry, _ = jobs[handler_name]
            if result.error is not None:
                unavailable.append(result.error)
                per_handler[handler_name] = [_unavailable(handler, result.error, entry.get("endpoint"))]
            else:
                per_handler[handler_name] = result.tools
        tools = [t for h in registry.spec.handlers for t in per_handler.get(h.name, [])][:MAX_STATUS_TOOLS]
        available = sum(t.status == "Available" for t in tools)
        discovered = f"{available} tool(s) available"
        if in_runtime:
            discovered += "; listed by the agent's runtime at start-up (stdio, not started by the operator): "
            discovered += ", ".join(in_runtime)
        conditions = [
            make_condition(
                existing,
                "HandlersValid",
                not invalid,
                "HandlersValid" if not invalid else "HandlerInvalid",
                "; ".join(invalid) or f"{len(registry.spec.handlers)} handler(s) valid",
                generation,
            ),
            make_condition(
                existing,
                "ToolsDiscovered",
                not unavailable and not invalid,
                "ToolsDiscovered" if not unavailable else "DiscoveryFailed",
                discovered + (f"; unavailable: {'; '.join(unavailable)}" if unavailable else ""),
                generation,
            ),
        ]
        phase = "Failed" if invalid else ("Degraded" if unavailable else "Ready")
        status = ToolRegistryStatus(
            phase=phase,
            discovered_tools_count=available,
            discovered_tools=tools,
            observed_generation=generation,
            conditions=conditions,
        )
        # the discovery time moves only when the result did: an unchanged registry writes nothing
        unchanged = old_status.model_copy(update={"last_discovery_time": None}) == status
        kept = old_status.last_discovery_time if unchanged else None
        status = status.model_copy(update={"last_discovery_time": kept or now()})
        await write_status(self._client, kinds.TOOL_REGISTRY, registry.raw, status)
        if invalid:
            return Outcome()
        # Services are not watched here (the operator watches only its own), so a handler found through a
        # selector follows a replaced Service only by being resolved again, like a server's tools.
        periodic = bool(jobs) or any(h.selector is not None for h in registry.spec.handlers)
        if unavailable:
            return Outcome(self.discovery.retry if periodic else SECRET_REQUEUE)
        return Outcome(self.discovery.ttl if periodic else None)
