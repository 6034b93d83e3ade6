"""The four CustomResourceDefinitions, built from the schema modules (the single source of truth)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omnia_operator.api.schema import agentruntime, promptpack, provider, toolregistry
from omnia_operator.api.schema.dsl import JsonSchema

GROUP = "omnia.altairalabs.ai"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"


@dataclass(frozen=True)
class CrdDefinition:
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    description: str
    spec: Callable[[], JsonSchema]
    status: Callable[[], JsonSchema]
    columns: tuple[tuple[str, str, str, str], ...]  # name, type, jsonPath, description

    @property
    def name(self) -> str:
        return f"{self.plural}.{GROUP}"


_AGE = ("Age", "date", ".metadata.creationTimestamp", "Time since the object was created.")

DEFINITIONS: tuple[CrdDefinition, ...] = (
    CrdDefinition(
        kind="AgentRuntime",
        plural="agentruntimes",
        singular="agentruntime",
        short_names=("agent", "ar"),
        description="AgentRuntime deploys one LLM agent: a pod with a WebSocket facade and a PromptPack runtime.",
        spec=agentruntime.spec_schema,
        status=agentruntime.status_schema,
        columns=(
            ("Phase", "string", ".status.phase", "Lifecycle phase."),
            ("Ready", "string", ".status.replicas.ready", "Ready pods."),  # upstream types it string
            ("Version", "string", ".status.activeVersion", "PromptPack version the pods run."),
            _AGE,
        ),
    ),
    CrdDefinition(
        kind="PromptPack",
        plural="promptpacks",
        singular="promptpack",
        short_names=("pp",),
        description="PromptPack is a versioned, compiled pack of prompts stored in a ConfigMap.",
        spec=promptpack.spec_schema,
        status=promptpack.status_schema,
        columns=(
            ("Version", "string", ".spec.version", "Pack version."),
            ("Phase", "string", ".status.phase", "Lifecycle phase."),
            # v0.2's column for the rollout field we keep (HEAD dropped both); v0.2 put it after Phase
            ("Strategy", "string", ".spec.rollout.type", "Rollout strategy."),
            _AGE,
        ),
    ),
    CrdDefinition(
        kind="Provider",
        plural="providers",
        singular="provider",
        short_names=("prov",),
        description="Provider is a reusable LLM endpoint: vendor, model, credentials, defaults and pricing.",
        spec=provider.spec_schema,
        status=provider.status_schema,
        columns=(
            ("Type", "string", ".spec.type", "Vendor."),
            ("Model", "string", ".spec.model", "Model."),
            ("Phase", "string", ".status.phase", "Lifecycle phase."),
            _AGE,
        ),
    ),
    CrdDefinition(
        kind="ToolRegistry",
        plural="toolregistries",
        singular="toolregistry",
        short_names=("tr",),
        description="ToolRegistry lists the tool handlers (HTTP, OpenAPI, gRPC, MCP, client) agents may call.",
        spec=toolregistry.spec_schema,
        status=toolregistry.status_schema,
        columns=(
            ("Tools", "integer", ".status.discoveredToolsCount", "Number of tools offered."),
            ("Phase", "string", ".status.phase", "Lifecycle phase."),
            _AGE,
        ),
    ),
)


def build_crd(definition: CrdDefinition) -> dict[str, Any]:
    """The CustomResourceDefinition manifest of one kind."""
    schema = {
        "description": definition.description,
        "type": "object",
        "properties": {
            "apiVersion": {"description": "Versioned schema of this representation of an object.", "type": "string"},
            "kind": {"description": "REST resource this object represents.", "type": "string"},
            "metadata": {"type": "object"},
            "spec": definition.spec(),
            "status": definition.status(),
        },
        "required": ["spec"],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": definition.name,
            "labels": {"app.kubernetes.io/part-of": "omnia", "app.kubernetes.io/managed-by": "omnia-operator"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": definition.kind,
                "listKind": f"{definition.kind}List",
                "plural": definition.plural,
                "singular": definition.singular,
                "shortNames": list(definition.short_names),
                "categories": ["omnia"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": n, "type": t, "jsonPath": p, "description": d} for n, t, p, d in definition.columns
                    ],
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def all_crds() -> list[dict[str, Any]]:
    """Every CRD manifest, in a stable order."""
    return [build_crd(d) for d in DEFINITIONS]


def definition_for(kind: str) -> CrdDefinition:
    for d in DEFINITIONS:
        if d.kind == kind:
            return d
    raise KeyError(kind)
