"""The agent Deployment's pod: probes, resources, scheduling fields and the hardened security context."""

from typing import Any

from manifests import full_set  # pyright: ignore[reportMissingImports]

from omnia_operator.api.models.resources import parse_agent_runtime
from omnia_operator.api.validation import validate_resource
from omnia_operator.resolve.children import FACADE_RESOURCES
from omnia_operator.resolve.plan import resolve_agent
from omnia_operator.resolve.source import StaticObjectSource
from omnia_operator.settings import AgentImages

IMAGES = AgentImages(facade_image="facade:test", runtime_image="runtime:test")
RUNTIME_RESOURCES = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
TOLERATIONS = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]
        }
    }
}


async def _pod_spec(**agent_spec: Any) -> dict[str, Any]:
    objects = [validate_resource(o)[0] if o["apiVersion"].startswith("omnia") else o for o in full_set(**agent_spec)]
    agent = parse_agent_runtime(next(o for o in objects if o["kind"] == "AgentRuntime"))
    resolution = await resolve_agent(agent, StaticObjectSource(objects), IMAGES)
    assert resolution.plan is not None, resolution.checks
    deployment = next(c for c in resolution.plan.children if c["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]


def _containers(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod["containers"]}


def _port(container: dict[str, Any], name: str) -> int:
    return next(p["containerPort"] for p in container["ports"] if p["name"] == name)


async def test_both_containers_probe_their_health_port_for_readiness_and_liveness() -> None:
    containers = _containers(await _pod_spec())
    for name, health_port in (("facade", "facade-health"), ("runtime", "runtime-health")):
        container = containers[name]
        readiness, liveness = container["readinessProbe"], container["livenessProbe"]
        assert readiness["httpGet"] == {"path": "/readyz", "port": _port(container, health_port)}, name
        assert liveness["httpGet"] == {"path": "/healthz", "port": _port(container, health_port)}, name
        assert liveness["initialDelaySeconds"] > readiness["initialDelaySeconds"], name
    assert _port(containers["facade"], "facade-health") == 8081
    assert _port(containers["runtime"], "runtime-health") == 9001


async def test_runtime_gets_spec_runtime_resources_and_facade_gets_its_defaults() -> None:
    containers = _containers(await _pod_spec(runtime={"resources": RUNTIME_RESOURCES}))
    assert containers["runtime"]["resources"] == RUNTIME_RESOURCES
    assert containers["facade"]["resources"] == FACADE_RESOURCES
    assert set(FACADE_RESOURCES) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(FACADE_RESOURCES["requests"])
    assert "memory" in FACADE_RESOURCES["limits"]


async def test_facade_has_default_resources_when_the_agent_sets_none() -> None:
    containers = _containers(await _pod_spec())
    assert containers["facade"]["resources"] == FACADE_RESOURCES
    assert "resources" not in containers["runtime"]


async def test_scheduling_fields_of_spec_runtime_reach_the_pod() -> None:
    pod = await _pod_spec(
        runtime={"nodeSelector": {"pool": "agents"}, "tolerations": TOLERATIONS, "affinity": AFFINITY}
    )
    assert pod["nodeSelector"] == {"pool": "agents"}
    assert pod["tolerations"] == TOLERATIONS
    assert pod["affinity"] == AFFINITY


async def test_pod_without_scheduling_fields_carries_none() -> None:
    pod = await _pod_spec()
    assert not {"nodeSelector", "tolerations", "affinity"} & set(pod)


async def test_pod_and_every_container_run_non_root_read_only_without_capabilities() -> None:
    pod = await _pod_spec()
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == 65532
    assert security["runAsGroup"] == 65532
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        # a read-only root needs a writable /tmp
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], container["name"]


async def test_each_deployment_gets_its_own_facade_resources_object() -> None:
    first = _containers(await _pod_spec())["facade"]
    first["resources"]["limits"]["memory"] = "1Ti"
    second = _containers(await _pod_spec())["facade"]
    assert second["resources"] == FACADE_RESOURCES
    assert FACADE_RESOURCES["limits"]["memory"] != "1Ti"
