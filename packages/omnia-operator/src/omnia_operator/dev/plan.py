"""Manifests → the operator's AgentPlan, with the same validation and resolution as `render` and the reconciler.

Secrets a Provider or ToolRegistry refers to are often not in the YAML a developer keeps next to an agent (they
are created in the cluster by other means). Resolution needs them to exist, so a missing Secret is stood in by a
placeholder that claims every key; the env builder then reads those values from the developer's environment
instead (see env.py). Every other reference (PromptPack, ConfigMap, Provider, ToolRegistry) must be in the input:
a broken one fails with the operator's own message.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from omnia_operator.api.models.resources import AgentRuntime, parse_agent_runtime
from omnia_operator.errors import InvalidResourceError, ManifestError
from omnia_operator.render import RenderResult, load_manifests, prepare
from omnia_operator.resolve.plan import AgentPlan, resolve_agent
from omnia_operator.resolve.source import KubeObject, StaticObjectSource
from omnia_operator.settings import AgentImages

PLACEHOLDER_ANNOTATION = "omnia.altairalabs.ai/dev-placeholder"


class _EveryKey(Mapping[str, str]):
    """stringData of a placeholder Secret: holds every key (empty), so resolution goes on."""

    def __getitem__(self, key: str) -> str:
        return ""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:  # `secret.get("stringData") or {}` must keep it
        return True


def is_placeholder(obj: KubeObject) -> bool:
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(PLACEHOLDER_ANNOTATION) == "true"


class DevObjectSource(StaticObjectSource):
    """The manifests, plus a placeholder for any Secret they refer to but do not contain."""

    async def get(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        found = await super().get(kind, namespace, name)
        if found is None and kind == "Secret":
            return {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": namespace, "annotations": {PLACEHOLDER_ANNOTATION: "true"}},
                "stringData": _EveryKey(),
            }
        return found

    async def manifest_object(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        """An object of the manifests only (no placeholder)."""
        return await super().get(kind, namespace, name)


@dataclass
class DevPlan:
    agent: AgentRuntime
    plan: AgentPlan
    source: DevObjectSource
    notes: list[str] = field(default_factory=list)

    async def lookup(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        """An object the pod may mount or read: a child of the plan (the tools ConfigMap) or one of the manifests."""
        for child in self.plan.children:
            meta = child.get("metadata") or {}
            if child.get("kind") == kind and meta.get("name") == name and meta.get("namespace") == namespace:
                return child
        return await self.source.manifest_object(kind, namespace, name)


def _pick_agent(agents: list[KubeObject], wanted: str | None) -> KubeObject:
    names = [str((a.get("metadata") or {}).get("name")) for a in agents]
    if wanted is not None:
        for agent, name in zip(agents, names, strict=True):
            if name == wanted:
                return agent
        raise ManifestError(f"no AgentRuntime named {wanted!r} in the input (found: {', '.join(names) or 'none'})")
    if not agents:
        raise ManifestError("no AgentRuntime in the input; point -f at the directory or file that holds one")
    if len(agents) > 1:
        raise ManifestError(f"several AgentRuntimes in the input ({', '.join(names)}); choose one with --agent NAME")
    return agents[0]


async def plan_from_manifests(
    paths: list[Path], *, agent_name: str | None = None, namespace: str = "default"
) -> DevPlan:
    """Resolve one AgentRuntime of the manifests; raises ManifestError saying what to fix."""
    objects = load_manifests(paths)
    checked = RenderResult()
    prepared = prepare(objects, namespace, checked)
    if checked.errors:
        raise ManifestError("invalid manifests:\n  " + "\n  ".join(checked.errors))
    source = DevObjectSource(prepared, default_namespace=namespace)
    raw = _pick_agent(source.objects("AgentRuntime"), agent_name)
    try:
        agent = parse_agent_runtime(raw)
    except InvalidResourceError as e:
        raise ManifestError(str(e)) from e
    resolution = await resolve_agent(agent, source, AgentImages(), uid="local")
    label = f"AgentRuntime {agent.namespace}/{agent.name}"
    problems = [
        f"{label}: {condition}=False ({check.reason}): {check.message}"
        for condition, check in resolution.checks.items()
        if not check.ok and check.reason != "ToolRegistryNotFound"
    ]
    if resolution.plan is None or problems:
        raise ManifestError("cannot run the agent:\n  " + "\n  ".join(problems or [f"{label}: not resolvable"]))
    notes = [f"{label}: {n}" for n in resolution.notes]
    if not resolution.tool_registry.ok:
        notes.append(f"{label}: {resolution.tool_registry.message} (running without tools)")
    return DevPlan(agent, resolution.plan, source, notes)
