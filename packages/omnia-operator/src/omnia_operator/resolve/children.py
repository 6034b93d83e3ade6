"""Manifests of an agent's children: ConfigMap `<name>-tools`, Deployment `<name>`, Service `<name>`, HPA.

Labels follow upstream §3.3 so dashboards and selectors written for the Go operator keep working; the
Service selector leaves out the track label so it would span stable and canary pods.
"""

from dataclasses import dataclass
from typing import Any

from omnia_operator.api.crds import API_VERSION
from omnia_operator.api.models.agentruntime import AgentRuntimeSpec, Facade
from omnia_operator.resolve.durations import parse_duration
from omnia_operator.resolve.env import (
    FACADE_HEALTH_PORT,
    GRPC_PORT,
    PACK_DIR,
    RUNTIME_HEALTH_PORT,
    TOOLS_DIR,
    EnvVar,
)
from omnia_operator.resolve.promptpacks import PACK_KEY
from omnia_operator.resolve.tools import TOOL_SECRETS_DIR, ToolSecretMount

KubeObject = dict[str, Any]
CONFIG_HASH_ANNOTATION = "omnia.altairalabs.ai/config-hash"
TOOLS_KEY = "tools.yaml"
RUN_AS = 65532
FACADE_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}
"""The facade container's resources. Upstream's AgentRuntime has no field for them (only spec.runtime.resources,
which is the runtime container's), so every facade gets these: a small request so it schedules anywhere and a
memory limit with room for media uploads it buffers, so a leaking facade is restarted instead of starving the node."""


def selector_labels(name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "omnia-agent",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "omnia-operator",
        "omnia.altairalabs.ai/component": "agent",
        "omnia.altairalabs.ai/track": "stable",
    }


def service_selector(name: str) -> dict[str, str]:
    labels = selector_labels(name)
    del labels["omnia.altairalabs.ai/track"]
    return labels


@dataclass(frozen=True)
class Owner:
    name: str
    namespace: str
    uid: str

    def reference(self) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": "AgentRuntime",
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def metadata(self, name: str, labels: dict[str, str]) -> dict[str, Any]:
        return {"name": name, "namespace": self.namespace, "labels": labels, "ownerReferences": [self.reference()]}


def tools_config_map(owner: Owner, tools_yaml: str) -> KubeObject:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": owner.metadata(f"{owner.name}-tools", service_selector(owner.name)),
        "data": {TOOLS_KEY: tools_yaml},
    }


def _container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _probe(path: str, port: int, delay: int, period: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "initialDelaySeconds": delay, "periodSeconds": period}


@dataclass(frozen=True)
class PodInputs:
    facade_image: str
    runtime_image: str
    pull_policy: str
    pack_config_map: str
    has_tools: bool
    tool_secrets: list[ToolSecretMount]
    runtime_env: list[EnvVar]
    facade_env: list[EnvVar]
    config_hash: str


def _volumes(owner: Owner, spec: AgentRuntimeSpec, inputs: PodInputs) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = [
        {"name": "pack", "configMap": {"name": inputs.pack_config_map, "items": [{"key": PACK_KEY, "path": PACK_KEY}]}},
        {"name": "tmp", "emptyDir": {}},
    ]
    if inputs.has_tools:
        volumes.append({"name": "tools", "configMap": {"name": f"{owner.name}-tools"}})
    if inputs.tool_secrets:
        sources = [
            {"secret": {"name": m.secret_name, "items": [{"key": m.key, "path": m.handler}]}}
            for m in inputs.tool_secrets
        ]
        volumes.append({"name": "tool-secrets", "projected": {"sources": sources, "defaultMode": 0o440}})
    storage = spec.media.storage if spec.media else None
    if storage is not None and storage.type == "local":
        claim = storage.local.volume_claim if storage.local else None
        volumes.append(
            {"name": "media", "persistentVolumeClaim": {"claimName": claim}}
            if claim
            else {"name": "media", "emptyDir": {}}
        )
    volumes.extend(spec.runtime.volumes)
    return volumes


def _facade_container(spec: AgentRuntimeSpec, facade: Facade, inputs: PodInputs) -> dict[str, Any]:
    mounts = [{"name": "pack", "mountPath": PACK_DIR, "readOnly": True}, {"name": "tmp", "mountPath": "/tmp"}]
    storage = spec.media.storage if spec.media else None
    if storage is not None and storage.type == "local":
        mounts.append(
            {"name": "media", "mountPath": storage.local.base_path if storage.local else "/var/lib/omnia/media"}
        )
    return {
        "name": "facade",
        "image": facade.image or inputs.facade_image,
        "imagePullPolicy": inputs.pull_policy,
        "ports": [
            {"name": "facade", "containerPort": facade.port, "protocol": "TCP"},
            {"name": "facade-health", "containerPort": FACADE_HEALTH_PORT, "protocol": "TCP"},
        ],
        "env": inputs.facade_env,
        "readinessProbe": _probe("/readyz", FACADE_HEALTH_PORT, 5, 10),
        "livenessProbe": _probe("/healthz", FACADE_HEALTH_PORT, 15, 20),
        "volumeMounts": mounts,
        "resources": {k: dict(v) for k, v in FACADE_RESOURCES.items()},
        "securityContext": _container_security(),
    }


def _runtime_container(spec: AgentRuntimeSpec, inputs: PodInputs) -> dict[str, Any]:
    mounts = [{"name": "pack", "mountPath": PACK_DIR, "readOnly": True}, {"name": "tmp", "mountPath": "/tmp"}]
    if inputs.has_tools:
        mounts.append({"name": "tools", "mountPath": TOOLS_DIR, "readOnly": True})
    if inputs.tool_secrets:
        mounts.append({"name": "tool-secrets", "mountPath": TOOL_SECRETS_DIR, "readOnly": True})
    mounts.extend(spec.runtime.volume_mounts)
    image = spec.framework.image if spec.framework and spec.framework.image else inputs.runtime_image
    container: dict[str, Any] = {
        "name": "runtime",
        "image": image,
        "imagePullPolicy": inputs.pull_policy,
        "ports": [
            {"name": "grpc", "containerPort": GRPC_PORT, "protocol": "TCP"},
            {"name": "runtime-health", "containerPort": RUNTIME_HEALTH_PORT, "protocol": "TCP"},
        ],
        "env": inputs.runtime_env,
        "readinessProbe": _probe("/readyz", RUNTIME_HEALTH_PORT, 5, 10),
        "livenessProbe": _probe("/healthz", RUNTIME_HEALTH_PORT, 15, 20),
        "volumeMounts": mounts,
        "securityContext": _container_security(),
    }
    if spec.runtime.resources:
        container["resources"] = spec.runtime.resources
    return container


def deployment(
    owner: Owner,
    spec: AgentRuntimeSpec,
    inputs: PodInputs,
    pod_annotations: dict[str, str],
    *,
    replicas: int | None = -1,
) -> KubeObject:
    """The agent Deployment. `replicas` None leaves the count to an autoscaler (the field is not written, so
    the operator never fights it); the default -1 means spec.runtime.replicas unless an HPA is enabled."""
    facade = spec.facades[0]
    labels = selector_labels(owner.name)
    pod_spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": int(min(parse_duration(facade.drain_timeout), 600)) + 30,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_facade_container(spec, facade, inputs), _runtime_container(spec, inputs)],
        "volumes": _volumes(owner, spec, inputs),
    }
    runtime = spec.runtime
    if runtime.node_selector:
        pod_spec["nodeSelector"] = runtime.node_selector
    if runtime.tolerations:
        pod_spec["tolerations"] = runtime.tolerations
    if runtime.affinity:
        pod_spec["affinity"] = runtime.affinity
    deployment_spec: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {
                "labels": {**labels, "omnia.altairalabs.ai/mode": spec.mode},
                "annotations": {
                    **spec.extra_pod_annotations,
                    **pod_annotations,
                    CONFIG_HASH_ANNOTATION: inputs.config_hash,
                },
            },
            "spec": pod_spec,
        },
    }
    if replicas == -1:
        replicas = None if hpa_enabled(spec) else runtime.replicas
    if replicas is not None:
        deployment_spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": owner.metadata(owner.name, labels),
        "spec": deployment_spec,
    }


CANARY_SUFFIX = "-canary"
PACK_LABEL = "omnia.altairalabs.ai/promptpack"
TRACK_LABEL = "omnia.altairalabs.ai/track"


def canary_split(total: int, weight: int) -> tuple[int, int]:
    """(stable, canary) replicas approximating `weight` percent on the canary; both keep at least one pod."""
    total = max(total, 1)
    canary = max(1, round(total * weight / 100))
    return max(total - canary, 1), canary


def canary_deployment(owner: Owner, spec: AgentRuntimeSpec, inputs: PodInputs, replicas: int, pack: str) -> KubeObject:
    """The candidate Deployment `<name>-canary`: the same pod mounting the new pack version, track=canary.

    Its selector differs from the stable one by the track label, so the two never adopt each other's pods,
    while the agent Service (no track label) sends connections to both."""
    built = deployment(owner, spec, inputs, {}, replicas=replicas)
    labels = {**selector_labels(owner.name), TRACK_LABEL: "canary"}
    built["metadata"] = owner.metadata(f"{owner.name}{CANARY_SUFFIX}", {**labels, PACK_LABEL: pack})
    built["spec"]["selector"] = {"matchLabels": labels}
    built["spec"]["template"]["metadata"]["labels"] = {**labels, "omnia.altairalabs.ai/mode": spec.mode}
    return built


def service(owner: Owner, spec: AgentRuntimeSpec) -> KubeObject:
    facade = spec.facades[0]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": owner.metadata(owner.name, service_selector(owner.name)),
        "spec": {
            "type": "ClusterIP",
            "selector": service_selector(owner.name),
            "ports": [
                {
                    "name": "facade",
                    "port": facade.port,
                    "targetPort": "facade",
                    "protocol": "TCP",
                    "appProtocol": "http",
                }
            ],
        },
    }


def hpa_enabled(spec: AgentRuntimeSpec) -> bool:
    scaling = spec.runtime.autoscaling
    return bool(scaling and scaling.enabled and scaling.type == "hpa")


def horizontal_autoscaler(owner: Owner, spec: AgentRuntimeSpec) -> KubeObject:
    scaling = spec.runtime.autoscaling
    assert scaling is not None
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": owner.metadata(owner.name, service_selector(owner.name)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": owner.name},
            "minReplicas": max(scaling.min_replicas, 1),
            "maxReplicas": scaling.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "memory",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": scaling.target_memory_utilization_percentage,
                        },
                    },
                },
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": scaling.target_cpu_utilization_percentage,
                        },
                    },
                },
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": scaling.scale_down_stabilization_seconds}},
        },
    }


def keda_enabled(spec: AgentRuntimeSpec) -> bool:
    scaling = spec.runtime.autoscaling
    return bool(scaling and scaling.enabled and scaling.type == "keda")


KEDA_PROMETHEUS = "http://omnia-prometheus-server.omnia-system.svc.cluster.local/prometheus"
KEDA_CONNECTION_THRESHOLD = "200"


def scaled_object(owner: Owner, spec: AgentRuntimeSpec) -> KubeObject:
    """KEDA ScaledObject scaling on open WebSocket connections; minReplicas 0 allows scale to zero."""
    scaling = spec.runtime.autoscaling
    assert scaling is not None
    query = f'sum(omnia_agent_connections_active{{agent="{owner.name}",namespace="{owner.namespace}"}}) or vector(0)'
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": owner.metadata(owner.name, service_selector(owner.name)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": owner.name},
            "pollingInterval": 30,
            "cooldownPeriod": 300,
            "minReplicaCount": scaling.min_replicas,
            "maxReplicaCount": scaling.max_replicas,
            "triggers": [
                {
                    "type": "prometheus",
                    "metadata": {
                        "serverAddress": KEDA_PROMETHEUS,
                        "query": query,
                        "threshold": KEDA_CONNECTION_THRESHOLD,
                    },
                }
            ],
        },
    }


def service_endpoint(owner: Owner, spec: AgentRuntimeSpec) -> str:
    return f"{owner.name}.{owner.namespace}.svc.cluster.local:{spec.facades[0].port}"
