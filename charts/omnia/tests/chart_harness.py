"""Render the chart offline and validate what comes out.

Helm itself runs in-process through ``helm-python-sdk`` (Helm's Go library behind a C ABI, no ``helm``
binary), so ``helm lint`` and ``helm template`` here are the real thing. Rendered Kubernetes objects are
checked against the upstream OpenAPI schemas shipped by ``kubernetes-validate`` (strict: unknown fields
fail) at the oldest and newest Kubernetes minor we claim; custom resources are checked against our own
CRDs in ``charts/omnia/crds/``.

``CONFIGURATIONS`` is the list of value sets the chart is tested in: the defaults plus one per feature.
``make chart-check`` and the pytest suite both walk it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

CHART_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = CHART_DIR.parents[1]
CRD_DIR = CHART_DIR / "crds"
EXAMPLES_DIR = REPO_ROOT / "examples"
SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"

RELEASE = "omnia"
NAMESPACE = "omnia-system"
# Chart.yaml says kubeVersion >=1.26; validate at that floor and at the newest schemas we ship.
KUBE_VERSIONS = ("1.26.0", "1.33.0")
# Prometheus Operator kinds have no upstream schema in kubernetes-validate; they are checked by hand below.
MONITORING_KINDS = {"ServiceMonitor", "PodMonitor"}

Manifest = dict[str, Any]

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "ha": {"replicaCount": 3, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}},
    "namespaced": {"operator": {"watchNamespaces": ["team-a", "team-b"]}},
    "monitoring": {
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "podMonitor": {"enabled": True, "interval": "15s"},
    },
    "network-policy": {
        "networkPolicy": {
            "enabled": True,
            "agentNamespaces": ["agents"],
            "ingress": {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}}]},
            "egress": {
                "llmProviders": {"cidrs": [{"cidr": "203.0.113.0/24"}], "ports": [443]},
                "toolServices": [
                    {
                        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tools"}}}],
                        "ports": [{"port": 8080, "protocol": "TCP"}],
                    }
                ],
            },
        },
        "redis": {"enabled": True},
    },
    "redis": {"redis": {"enabled": True, "urlSecretNamespaces": ["agents"]}},
    "tracing": {"tracing": {"enabled": True, "endpoint": "otel-collector.observability:4317", "sampleRate": 0.25}},
    "customised": {
        "image": {"repository": "registry.example.com/omnia-operator", "tag": "1.2.3", "pullPolicy": "Always"},
        "agentImages": {
            "facade": {"repository": "registry.example.com/omnia-facade", "tag": "1.2.3"},
            "runtime": {"repository": "registry.example.com/omnia-runtime", "tag": "1.2.3"},
        },
        "imagePullSecrets": [{"name": "regcred"}],
        "operator": {"workers": 8, "logLevel": "debug", "extraEnv": [{"name": "EXTRA", "value": "1"}]},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "omnia", "effect": "NoSchedule"}],
        "podAnnotations": {"example.com/team": "platform"},
        "priorityClassName": "system-cluster-critical",
    },
    "minimal": {
        "metrics": {"enabled": False, "port": 8080},
        "rbac": {"create": False},
        "serviceAccount": {"create": False, "name": "preexisting"},
    },
}


def load_chart() -> helm.Chart:
    return helm.Chart.load(CHART_DIR)


def lint(values: Mapping[str, Any] | None = None) -> list[str]:
    """Every lint finding of warning severity or worse, as text (empty when clean)."""
    report = helm.lint(CHART_DIR, dict(values or {}), strict=True, namespace=NAMESPACE)
    findings = [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2]
    return findings + list(report["errors"])


def render(values: Mapping[str, Any] | None = None, chart: helm.Chart | None = None) -> dict[str, str]:
    """``helm template``: schema validation first (as install does), then the rendered files by path."""
    chart = chart or load_chart()
    chart.validate_schema(dict(values or {}))
    return chart.render(dict(values or {}), name=RELEASE, namespace=NAMESPACE, is_install=True)


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that rejects duplicate mapping keys, as the API server's strict decoding does."""


def _construct_unique_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def load_yaml_documents(text: str) -> list[Manifest]:
    return [doc for doc in yaml.load_all(text, Loader=_StrictLoader) if doc]


def manifests(rendered: Mapping[str, str]) -> list[Manifest]:
    """The objects in rendered templates (NOTES.txt excluded), in a stable order."""
    objects: list[Manifest] = []
    for path, text in rendered.items():
        if path.endswith("NOTES.txt"):
            continue
        objects.extend(load_yaml_documents(text))
    return sorted(objects, key=object_key)


def object_key(obj: Manifest) -> tuple[str, str, str, str]:
    meta = obj.get("metadata", {})
    return (obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


def find(objects: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def validate_kubernetes(obj: Manifest) -> list[str]:
    """Problems of one built-in object against the Kubernetes schemas (strict), at every version we support."""
    problems: list[str] = []
    if obj["kind"] in MONITORING_KINDS:
        return _check_monitoring(obj)
    for version in KUBE_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            where = ".".join(str(p) for p in e.path)
            problems.append(f"{obj['kind']}/{obj['metadata']['name']} @ {version}: {where}: {e.message}")
    return problems


def _check_monitoring(obj: Manifest) -> list[str]:
    spec = obj.get("spec", {})
    endpoints = spec.get("endpoints") if obj["kind"] == "ServiceMonitor" else spec.get("podMetricsEndpoints")
    problems = []
    if obj.get("apiVersion") != "monitoring.coreos.com/v1":
        problems.append(f"{obj['kind']}: apiVersion must be monitoring.coreos.com/v1")
    if not spec.get("selector", {}).get("matchLabels"):
        problems.append(f"{obj['kind']}: spec.selector.matchLabels is empty: it would select nothing useful")
    if not endpoints or any(not e.get("port") for e in endpoints):
        problems.append(f"{obj['kind']}: every endpoint needs a named port")
    return problems


# ------------------------------------------------------------------ custom resources against our CRDs


def load_crds() -> dict[tuple[str, str], Manifest]:
    """Our CRDs by (group, kind). Empty when the operator has not generated them yet."""
    crds: dict[tuple[str, str], Manifest] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                crds[(doc["spec"]["group"], doc["spec"]["names"]["kind"])] = doc
    return crds


def _to_json_schema(node: Any) -> Any:
    """Translate the Kubernetes structural-schema dialect into plain JSON Schema."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    out.pop("nullable", None)
    # The API server rejects unknown fields (kubectl's default field validation is Strict), so we do too.
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def validate_custom_resource(obj: Manifest, crds: Mapping[tuple[str, str], Manifest]) -> list[str]:
    """Problems of one custom resource against the served version of its CRD (structure only, no CEL)."""
    group, _, version = obj["apiVersion"].rpartition("/")
    crd = crds.get((group, obj["kind"]))
    label = f"{obj['kind']}/{obj.get('metadata', {}).get('name', '?')}"
    if crd is None:
        return [f"{label}: no CRD for {group} {obj['kind']} in {CRD_DIR}"]
    served = [v for v in crd["spec"]["versions"] if v["name"] == version and v.get("served")]
    if not served:
        return [f"{label}: {obj['apiVersion']} is not a served version of the CRD"]
    schema = copy.deepcopy(served[0]["schema"]["openAPIV3Schema"])
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    schema["properties"].setdefault("apiVersion", {"type": "string"})
    schema["properties"].setdefault("kind", {"type": "string"})
    validator = jsonschema.Draft7Validator(_to_json_schema(schema))
    problems = [
        f"{label}: {'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in validator.iter_errors(obj)
    ]
    name = obj.get("metadata", {}).get("name", "")
    if not name:
        problems.append(f"{label}: metadata.name is required")
    return problems


def example_files() -> list[Path]:
    return sorted(EXAMPLES_DIR.rglob("*.yaml"))


def load_example_objects(path: Path) -> list[Manifest]:
    return load_yaml_documents(path.read_text())


def iter_example_objects() -> Iterator[tuple[Path, Manifest]]:
    for path in example_files():
        for obj in load_example_objects(path):
            yield path, obj


# ------------------------------------------------------------------ snapshots


def snapshot_text(objects: list[Manifest]) -> str:
    """A stable text form of rendered objects: one YAML document each, keys sorted, in object order."""
    return "".join("---\n" + yaml.safe_dump(o, sort_keys=True, width=120) for o in objects)


# ------------------------------------------------------------------ RBAC


def rule_grants(rule: Manifest, verb: str, group: str, resource: str, subresource: str = "") -> bool:
    """Whether one PolicyRule allows `verb` on `group`/`resource[/subresource]` (no wildcards: the chart has none)."""
    full = f"{resource}/{subresource}" if subresource else resource
    return group in rule.get("apiGroups", []) and full in rule.get("resources", []) and verb in rule.get("verbs", [])


def rbac_denials(
    objects: list[Manifest], requests: Sequence[tuple[str, str, str, str, str | None]], service_account: str
) -> list[str]:
    """Requests `(verb, group, resource, subresource, namespace)` that no role bound to the service account grants.

    ClusterRoles bound by a ClusterRoleBinding grant in every namespace; Roles only in their own namespace.
    """
    roles = {
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
        for o in objects
        if o["kind"] in ("Role", "ClusterRole")
    }
    grants: list[tuple[str | None, Manifest]] = []  # (namespace or None for cluster-wide, rule)
    for binding in objects:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if not any(s["kind"] == "ServiceAccount" and s["name"] == service_account for s in binding["subjects"]):
            continue
        ref = binding["roleRef"]
        role_ns = binding["metadata"].get("namespace") if ref["kind"] == "Role" else None
        role = roles.get((ref["kind"], role_ns, ref["name"]))
        scope = binding["metadata"].get("namespace") if binding["kind"] == "RoleBinding" else None
        grants.extend((scope, rule) for rule in (role or {}).get("rules", []))
    denied = []
    for verb, group, resource, subresource, namespace in requests:
        ok = any(
            (scope is None or scope == namespace) and rule_grants(rule, verb, group, resource, subresource)
            for scope, rule in grants
        )
        if not ok:
            full = f"{resource}/{subresource}" if subresource else resource
            denied.append(f"{verb} {group or 'core'}/{full} in {namespace or '<cluster>'}")
    return sorted(set(denied))
