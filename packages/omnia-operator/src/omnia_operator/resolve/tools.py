"""ToolRegistry → the runtime's tools.yaml (upstream-omnia.md §6.3) and the tool-secret mounts.

Credentials never appear in tools.yaml: a bearer/basic handler gets `authType` plus `authTokenPath`
pointing at `/etc/omnia/tool-secrets/<handler>`, a file projected straight from the user's Secret, so
the runtime re-reads it on every call and a rotated key needs no restart.

tools.yaml is a function of the ToolRegistry object alone (its spec, and the Service endpoints its status
resolved), so it is rendered once per registry revision and shared by every agent using it: the parsed
registry, the config and its text are memoised per (namespace, name, uid, resourceVersion), a few hundred
revisions at most. The text is produced exactly as before (same dumper and options, once), so config hashes
do not change; objects without a resourceVersion (render, local mode) are rendered every time.
"""

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import yaml

from omnia_operator.api.models.agentruntime import AgentRuntimeSpec
from omnia_operator.api.models.resources import ToolRegistry, parse_tool_registry
from omnia_operator.api.models.toolregistry import Handler
from omnia_operator.errors import InvalidResourceError
from omnia_operator.resolve.endpoints import configured_endpoint
from omnia_operator.resolve.outcome import Check
from omnia_operator.resolve.providers import secret_value
from omnia_operator.resolve.source import ObjectSource

TOOL_SECRETS_DIR = "/etc/omnia/tool-secrets"
_CONFIG_ATTRS = {
    "http": ("http_config", "httpConfig"),
    "openapi": ("open_api_config", "openAPIConfig"),
    "grpc": ("grpc_config", "grpcConfig"),
    "mcp": ("mcp_config", "mcpConfig"),
    "client": ("client_config", "clientConfig"),
}


@dataclass(frozen=True)
class ToolSecretMount:
    handler: str
    secret_name: str
    key: str


MAX_RENDERED = 256
"""Registry revisions whose rendering is kept (least recently used dropped first)."""


def dump_tools_yaml(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


@dataclass
class ToolsResolution:
    check: Check
    registry: ToolRegistry | None = None
    config: dict[str, Any] | None = None
    """Shared between agents of one registry revision: read it, never modify it."""
    secret_mounts: list[ToolSecretMount] = field(default_factory=list)
    secret_digest: str = ""
    rendered_yaml: str | None = None

    @property
    def yaml_text(self) -> str | None:
        if self.config is None:
            return None
        if self.rendered_yaml is None:
            self.rendered_yaml = dump_tools_yaml(self.config)
        return self.rendered_yaml


@dataclass(frozen=True)
class RenderedRegistry:
    """What one ToolRegistry revision renders to, whichever agent uses it."""

    registry: ToolRegistry
    config: dict[str, Any]
    yaml_text: str
    skipped: tuple[str, ...]
    """Handlers left out while their Service is not resolved."""


_rendered: OrderedDict[tuple[str, str, str, str], RenderedRegistry] = OrderedDict()


def _render(raw: dict[str, Any], registry: ToolRegistry) -> RenderedRegistry:
    # Service-discovered endpoints come from the registry's status (the ToolRegistry reconcile resolves them);
    # a handler whose Service is not resolved yet is left out rather than pointed at a placeholder.
    resolved = {
        str(t.get("handlerName")): str(t["endpoint"])
        for t in (raw.get("status") or {}).get("discoveredTools") or []
        if isinstance(t, dict) and t.get("endpoint")
    }
    entries: list[dict[str, Any]] = []
    skipped: list[str] = []
    for handler in registry.spec.handlers:
        if handler.selector is not None and handler.name not in resolved:
            skipped.append(handler.name)
            continue
        entries.append(handler_entry(handler, resolved.get(handler.name) if handler.selector else None))
    config = {"handlers": entries}
    return RenderedRegistry(registry, config, dump_tools_yaml(config), tuple(skipped))


def render_registry(raw: dict[str, Any]) -> RenderedRegistry:
    """Parse and render a ToolRegistry object, memoised per revision; raises InvalidResourceError."""
    meta = raw.get("metadata") or {}
    version = str(meta.get("resourceVersion") or "")
    if not version:
        return _render(raw, parse_tool_registry(raw))
    key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""), str(meta.get("uid") or ""), version)
    found = _rendered.get(key)
    if found is not None:
        _rendered.move_to_end(key)
        return found
    rendered = _render(raw, parse_tool_registry(raw))
    _rendered[key] = rendered
    while len(_rendered) > MAX_RENDERED:
        _rendered.popitem(last=False)
    return rendered


def handler_entry(handler: Handler, resolved_endpoint: str | None = None) -> dict[str, Any]:
    """One `handlers[]` entry of tools.yaml; `resolved_endpoint` (Service discovery) wins over the spec's."""
    entry: dict[str, Any] = {"name": handler.name, "type": handler.type}
    endpoint = resolved_endpoint or configured_endpoint(handler)
    if endpoint:
        entry["endpoint"] = endpoint
    if handler.tool is not None:
        entry["tool"] = handler.tool.dump()
    entry["timeout"] = handler.timeout
    attr, key = _CONFIG_ATTRS[handler.type]
    config = getattr(handler, attr)
    if config is not None:
        section = config.dump()
        if handler.auth is not None and handler.auth.type != "none":
            section["authType"] = handler.auth.type
            section["authTokenPath"] = f"{TOOL_SECRETS_DIR}/{handler.name}"
        entry[key] = section
    return entry


async def resolve_tools(spec: AgentRuntimeSpec, namespace: str, source: ObjectSource) -> ToolsResolution:
    ref = spec.tool_registry_ref
    if ref is None:
        return ToolsResolution(Check.good("NoToolRegistry", "no tool registry referenced"))
    if ref.namespace and ref.namespace != namespace:
        return ToolsResolution(
            Check.bad(
                "ToolRegistryCrossNamespace",
                f"toolRegistryRef points at namespace {ref.namespace}; use a ToolRegistry in namespace {namespace}",
                requeue_after=None,
            )
        )
    raw = await source.get("ToolRegistry", namespace, ref.name)
    if raw is None:
        return ToolsResolution(
            Check.bad("ToolRegistryNotFound", f"ToolRegistry {ref.name} not found in {namespace}; create it")
        )
    try:
        rendered = render_registry(raw)
    except InvalidResourceError as e:
        return ToolsResolution(Check.bad("ToolRegistryInvalid", str(e), requeue_after=None))
    registry = rendered.registry
    mounts: list[ToolSecretMount] = []
    digests = hashlib.sha256()
    for handler in registry.spec.handlers:
        auth = handler.auth
        if auth is None or auth.type == "none" or auth.secret_ref is None:
            continue
        secret = await source.get("Secret", namespace, auth.secret_ref.name)
        key = auth.secret_ref.key or "token"
        if secret is None:
            return ToolsResolution(
                Check.bad(
                    "ToolSecretNotFound",
                    f"Secret {auth.secret_ref.name} (auth of tool handler {handler.name}) not found in {namespace}",
                ),
                registry,
            )
        value = secret_value(secret, key)
        if value is None:
            return ToolsResolution(
                Check.bad(
                    "ToolSecretKeyMissing", f"Secret {auth.secret_ref.name} has no key {key} for handler {handler.name}"
                ),
                registry,
            )
        digests.update(hashlib.sha256(value).digest())
        mounts.append(ToolSecretMount(handler.name, auth.secret_ref.name, key))
    count = len(rendered.config["handlers"])
    skipped = rendered.skipped
    note = f"; waiting for the Service of handler(s) {', '.join(skipped)}" if skipped else ""
    return ToolsResolution(
        Check.good("ToolRegistryResolved", f"ToolRegistry {registry.name}: {count} handler(s){note}"),
        registry,
        rendered.config,
        mounts,
        digests.hexdigest() if mounts else "",
        rendered.yaml_text,
    )
