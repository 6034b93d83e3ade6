"""`omnia-operator render`: the children the operator would create, from manifests, without a cluster.

Reads the YAML a user would `kubectl apply` (files or directories, multi-document), validates our custom
resources against the CRD schemas (defaults applied, as the API server would), resolves every
AgentRuntime against the other objects of the same input, and returns the children as YAML documents.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from omnia_operator.api.crds import API_VERSION
from omnia_operator.api.models.resources import parse_agent_runtime
from omnia_operator.api.validation import validate_resource
from omnia_operator.errors import InvalidResourceError, ManifestError
from omnia_operator.resolve.plan import resolve_agent
from omnia_operator.resolve.source import KubeObject, StaticObjectSource
from omnia_operator.settings import AgentImages

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_FILES = 500
OUR_KINDS = ("AgentRuntime", "PromptPack", "Provider", "ToolRegistry")
SUFFIXES = (".yaml", ".yml", ".json")


def _files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise ManifestError(f"{path}: no such file or directory")
        if len(found) > MAX_FILES:
            raise ManifestError(f"more than {MAX_FILES} manifest files; point -f at a narrower directory")
    return found


def load_manifests(paths: Iterable[Path]) -> list[KubeObject]:
    """Every Kubernetes object in the files (Lists are flattened); raises ManifestError with file and reason."""
    objects: list[KubeObject] = []
    for path in _files(paths):
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ManifestError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        text = path.read_text(encoding="utf-8")
        try:
            docs = list(yaml.safe_load_all(text)) if path.suffix != ".json" else [json.loads(text)]
        except (yaml.YAMLError, json.JSONDecodeError) as e:
            raise ManifestError(f"{path}: not valid YAML/JSON: {e}") from e
        for index, doc in enumerate(docs):
            if doc is None:
                continue
            if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                raise ManifestError(
                    f"{path} (document {index + 1}): not a Kubernetes object (needs apiVersion and kind)"
                )
            if doc["kind"].endswith("List") and isinstance(doc.get("items"), list):
                objects.extend(i for i in doc["items"] if isinstance(i, dict))
            else:
                objects.append(doc)
    return objects


@dataclass
class RenderResult:
    children: list[KubeObject] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def prepare(objects: list[KubeObject], namespace: str, result: RenderResult) -> list[KubeObject]:
    prepared: list[KubeObject] = []
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict) or not meta.get("name"):
            result.errors.append(f"{obj.get('kind')}: metadata.name is required")
            continue
        meta.setdefault("namespace", namespace)
        label = f"{obj['kind']} {meta['namespace']}/{meta['name']}"
        if obj["kind"] in OUR_KINDS:
            if obj.get("apiVersion") != API_VERSION:
                result.errors.append(f"{label}: apiVersion must be {API_VERSION}, got {obj.get('apiVersion')}")
                continue
            obj, problems = validate_resource(obj)
            if problems:
                result.errors.extend(f"{label}: {p}" for p in problems)
                continue
        prepared.append(obj)
    return prepared


async def render(objects: list[KubeObject], images: AgentImages, *, namespace: str = "default") -> RenderResult:
    """Resolve every AgentRuntime among objects; errors say which object and what to fix."""
    result = RenderResult()
    prepared = prepare(objects, namespace, result)
    source = StaticObjectSource(prepared, default_namespace=namespace)
    agents = source.objects("AgentRuntime")
    if not agents and not result.errors:
        result.errors.append("no AgentRuntime in the input; nothing to render")
    for raw in agents:
        try:
            agent = parse_agent_runtime(raw)
        except InvalidResourceError as e:
            result.errors.append(str(e))
            continue
        resolution = await resolve_agent(agent, source, images)
        label = f"AgentRuntime {agent.namespace}/{agent.name}"
        result.notes.extend(f"{label}: {n}" for n in resolution.notes)
        for condition, check in resolution.checks.items():
            if not check.ok:
                result.errors.append(f"{label}: {condition}=False ({check.reason}): {check.message}")
        if resolution.plan is not None:
            result.children.extend(resolution.plan.children)
    return result


class _NoAliasDumper(yaml.SafeDumper):
    """Children share small dicts (labels); print them in full rather than as YAML anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(children: list[dict[str, Any]]) -> str:
    return yaml.dump_all(children, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=120)
