"""The kinds the fake API serves: built-in ones, and those that CustomResourceDefinitions register.

A `KindInfo` holds what the server needs to decide semantics per kind: scope, whether `/status` is a
subresource (then main-resource writes keep the stored status and `/status` writes keep everything else),
whether `metadata.generation` is maintained, and for custom kinds the CRD's schema for validation.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KindInfo:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    has_status: bool = False
    has_generation: bool = False
    custom: bool = False
    singular: str = ""
    short_names: tuple[str, ...] = ()
    schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """`plural.group` as the API server names it in messages (`configmaps`, `deployments.apps`)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def discovery_entry(self) -> dict[str, Any]:
        verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        return {
            "name": self.plural,
            "singularName": self.singular or self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
            **({"shortNames": list(self.short_names)} if self.short_names else {}),
        }


BUILTIN_KINDS: tuple[KindInfo, ...] = (
    KindInfo("", "v1", "ConfigMap", "configmaps", short_names=("cm",)),
    KindInfo("", "v1", "Secret", "secrets"),
    KindInfo("", "v1", "Service", "services", has_status=True, short_names=("svc",)),
    KindInfo("", "v1", "Event", "events", short_names=("ev",)),
    KindInfo("", "v1", "Pod", "pods", has_status=True, has_generation=True, short_names=("po",)),
    KindInfo("", "v1", "ServiceAccount", "serviceaccounts", short_names=("sa",)),
    KindInfo("", "v1", "Namespace", "namespaces", namespaced=False, has_status=True, short_names=("ns",)),
    KindInfo("events.k8s.io", "v1", "Event", "events", short_names=("ev",)),
    KindInfo("apps", "v1", "Deployment", "deployments", has_status=True, has_generation=True, short_names=("deploy",)),
    KindInfo("coordination.k8s.io", "v1", "Lease", "leases"),
    KindInfo("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", has_status=True, has_generation=True,
             short_names=("pdb",)),
    KindInfo("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    KindInfo("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    KindInfo("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    KindInfo("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    KindInfo(
        "autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", has_status=True,
        has_generation=True, short_names=("hpa",),
    ),
    KindInfo(
        "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced=False,
        has_status=True, has_generation=True, short_names=("crd", "crds"),
    ),
)  # fmt: skip


def kinds_from_crd(crd: dict[str, Any]) -> list[KindInfo]:
    """One KindInfo per served version of a CustomResourceDefinition manifest."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    kinds: list[KindInfo] = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        kinds.append(
            KindInfo(
                group=group,
                version=version["name"],
                kind=names.get("kind", ""),
                plural=names.get("plural", ""),
                namespaced=namespaced,
                has_status="status" in subresources,
                has_generation=True,
                custom=True,
                singular=names.get("singular", ""),
                short_names=tuple(names.get("shortNames") or ()),
                schema=schema,
            )
        )
    return kinds


class KindRegistry:
    """Kinds by (group, version, plural); CRD kinds come and go with their CRD."""

    def __init__(self) -> None:
        self._kinds: dict[tuple[str, str, str], KindInfo] = {}
        self._by_crd: dict[str, list[KindInfo]] = {}
        for info in BUILTIN_KINDS:
            self._kinds[(info.group, info.version, info.plural)] = info

    def lookup(self, group: str, version: str, plural: str) -> KindInfo | None:
        return self._kinds.get((group, version, plural))

    def register_crd(self, crd: dict[str, Any]) -> list[KindInfo]:
        name = crd["metadata"]["name"]
        self.unregister_crd(name)
        kinds = kinds_from_crd(crd)
        for info in kinds:
            self._kinds[(info.group, info.version, info.plural)] = info
        self._by_crd[name] = kinds
        return kinds

    def unregister_crd(self, name: str) -> list[KindInfo]:
        kinds = self._by_crd.pop(name, [])
        for info in kinds:
            self._kinds.pop((info.group, info.version, info.plural), None)
        return kinds

    def all(self) -> list[KindInfo]:
        return list(self._kinds.values())

    def groups(self) -> dict[str, list[str]]:
        """Group name → served versions, for `/apis` discovery (the core group is served under `/api`)."""
        groups: dict[str, list[str]] = {}
        for info in self._kinds.values():
            if info.group:
                versions = groups.setdefault(info.group, [])
                if info.version not in versions:
                    versions.append(info.version)
        return groups


def established_status(crd: dict[str, Any], now: str) -> dict[str, Any]:
    """The status the API server gives an accepted CRD: NamesAccepted and Established, stored versions."""
    spec = crd.get("spec") or {}
    return {
        "acceptedNames": dict(spec.get("names") or {}),
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": now},
        ],
        "storedVersions": [v["name"] for v in spec.get("versions", []) if v.get("storage")],
    }  # fmt: skip
