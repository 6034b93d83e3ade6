"""ToolRegistry reconcile: validate handlers and publish the tools they declare.

Handlers with an explicit `tool` (http, grpc, client) are listed as Available. MCP and OpenAPI handlers
describe their own tools; the runtime enumerates them at start-up, so here they appear once per handler with
status Unknown and a message saying so (live discovery from the operator is the next operator issue).
"""

from typing import Any

from omnia_operator.api.models.resources import parse_tool_registry
from omnia_operator.api.models.toolregistry import Handler
from omnia_operator.errors import InvalidResourceError
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.reconcile.agentruntime import Outcome
from omnia_operator.reconcile.conditions import condition
from omnia_operator.reconcile.status_writer import write_status
from omnia_operator.resolve.providers import secret_value
from omnia_operator.resolve.source import ObjectSource
from omnia_operator.resolve.tools import handler_entry

SECRET_REQUEUE = 30.0


def _tool_entry(handler: Handler) -> dict[str, Any]:
    entry = handler_entry(handler)
    if handler.tool is not None:
        tool: dict[str, Any] = {
            "name": handler.tool.name,
            "handlerName": handler.name,
            "description": handler.tool.description,
            "status": "Available",
        }
        if handler.tool.input_schema is not None:
            tool["inputSchema"] = handler.tool.input_schema
        if handler.tool.output_schema is not None:
            tool["outputSchema"] = handler.tool.output_schema
    else:
        tool = {
            "name": handler.name,
            "handlerName": handler.name,
            "description": f"tools of the {handler.type} handler {handler.name}",
            "status": "Unknown",
            "error": "self-describing handler: the runtime lists its tools when it starts",
        }
    if entry.get("endpoint"):
        tool["endpoint"] = entry["endpoint"]
    return tool


class ToolRegistryReconciler:
    def __init__(self, client: KubeClient, source: ObjectSource) -> None:
        self._client = client
        self._source = source

    async def reconcile(self, namespace: str, name: str) -> Outcome:
        try:
            raw = await self._client.get(kinds.TOOL_REGISTRY, name, namespace)
        except NotFoundError:
            return Outcome()
        meta = raw.get("metadata") or {}
        generation = int(meta.get("generation") or 0)
        existing: list[dict[str, Any]] = list((raw.get("status") or {}).get("conditions") or [])
        try:
            registry = parse_tool_registry(raw)
        except InvalidResourceError as e:
            status = {
                "phase": "Failed",
                "observedGeneration": generation,
                "conditions": [condition(existing, "HandlersValid", False, "InvalidSpec", str(e), generation)],
            }
            await write_status(self._client, kinds.TOOL_REGISTRY, raw, status)
            return Outcome()
        problems: list[str] = []
        for handler in registry.spec.handlers:
            auth = handler.auth
            if auth is None or auth.secret_ref is None or auth.type == "none":
                continue
            secret = await self._source.get("Secret", namespace, auth.secret_ref.name)
            key = auth.secret_ref.key or "token"
            if secret is None:
                problems.append(f"handler {handler.name}: Secret {auth.secret_ref.name} not found")
            elif secret_value(secret, key) is None:
                problems.append(f"handler {handler.name}: Secret {auth.secret_ref.name} has no key {key}")
        tools = [_tool_entry(h) for h in registry.spec.handlers]
        valid = not problems
        conditions = [
            condition(
                existing,
                "HandlersValid",
                valid,
                "HandlersValid" if valid else "CredentialsMissing",
                "; ".join(problems) or f"{len(tools)} handler(s) valid",
                generation,
            ),
            condition(
                existing,
                "ToolsDiscovered",
                True,
                "ToolsListed",
                f"{sum(t['status'] == 'Available' for t in tools)} tool(s) declared",
                generation,
            ),
        ]
        status = {
            "phase": "Ready" if valid else "Degraded",
            "discoveredToolsCount": len(tools),
            "discoveredTools": tools,
            "observedGeneration": generation,
            "conditions": conditions,
        }
        await write_status(self._client, kinds.TOOL_REGISTRY, raw, status)
        return Outcome(None if valid else SECRET_REQUEUE)
