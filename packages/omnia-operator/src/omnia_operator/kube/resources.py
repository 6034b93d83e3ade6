"""Resource kinds the operator reads and writes, and how each maps onto an API path.

A `ResourceKind` names a kind the way the API server serves it (group, version, plural). The client builds URLs
from it, so adding a kind is adding a constant, not code.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

KubeObject = dict[str, Any]
"""A manifest as the API server returns it. Only the adapter and the reconcilers' model layer see these."""

WatchEventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]


@dataclass(frozen=True)
class ObjectList:
    """A list answer: the items and the collection's resourceVersion to watch from."""

    items: list[KubeObject]
    resource_version: str


@dataclass(frozen=True)
class WatchEvent:
    type: WatchEventType
    object: KubeObject = field(repr=False)

    @property
    def resource_version(self) -> str:
        return str((self.object.get("metadata") or {}).get("resourceVersion", ""))


OMNIA_GROUP = "omnia.altairalabs.ai"
OMNIA_VERSION = "v1alpha1"


@dataclass(frozen=True)
class ResourceKind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        """`apiVersion` as written in manifests: `v1` for the core group, `group/version` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection_path(self, namespace: str | None = None) -> str:
        """Path of the collection; all namespaces when `namespace` is None for a namespaced kind."""
        if self.namespaced and namespace:
            return f"{self.api_prefix}/namespaces/{namespace}/{self.plural}"
        return f"{self.api_prefix}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None, subresource: str | None = None) -> str:
        if self.namespaced and not namespace:
            raise ValueError(f"{self.kind} is namespaced: pass the namespace of {name!r}")
        path = f"{self.collection_path(namespace if self.namespaced else None)}/{name}"
        return f"{path}/{subresource}" if subresource else path

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


CONFIG_MAP = ResourceKind("", "v1", "ConfigMap", "configmaps")
SECRET = ResourceKind("", "v1", "Secret", "secrets")
SERVICE = ResourceKind("", "v1", "Service", "services")
EVENT = ResourceKind("", "v1", "Event", "events")
POD = ResourceKind("", "v1", "Pod", "pods")
NAMESPACE = ResourceKind("", "v1", "Namespace", "namespaces", namespaced=False)
SERVICE_ACCOUNT = ResourceKind("", "v1", "ServiceAccount", "serviceaccounts")
DEPLOYMENT = ResourceKind("apps", "v1", "Deployment", "deployments")
PDB = ResourceKind("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets")
ROLE = ResourceKind("rbac.authorization.k8s.io", "v1", "Role", "roles")
ROLE_BINDING = ResourceKind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings")
LEASE = ResourceKind("coordination.k8s.io", "v1", "Lease", "leases")
HPA = ResourceKind("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers")
SCALED_OBJECT = ResourceKind("keda.sh", "v1alpha1", "ScaledObject", "scaledobjects")
CRD = ResourceKind("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False)

AGENT_RUNTIME = ResourceKind(OMNIA_GROUP, OMNIA_VERSION, "AgentRuntime", "agentruntimes")
PROMPT_PACK = ResourceKind(OMNIA_GROUP, OMNIA_VERSION, "PromptPack", "promptpacks")
PROVIDER = ResourceKind(OMNIA_GROUP, OMNIA_VERSION, "Provider", "providers")
TOOL_REGISTRY = ResourceKind(OMNIA_GROUP, OMNIA_VERSION, "ToolRegistry", "toolregistries")
