"""The operator scenarios of issue #6, written once and run twice: on the FakeKubeAPI (test_scenarios_fake.py, every
CI run) and on a real cluster (test_scenarios_cluster.py, marker e2e, only with KUBECONFIG).

Each scenario is `async def scenario(cluster, namespace)`: it gets a fresh namespace, runs the operator logic
in-process (`operator()`, as `omnia-operator run --namespaces <ns>` assembles it) and observes only through the
Kubernetes API, so what it checks holds on both backends:

- quickstart converges: Deployment (facade + runtime), Service, tools ConfigMap, owner references, finalizer,
  dependency conditions True (the pods need the images to become ready, so `Ready` itself is not awaited);
- idempotency: after convergence a forced reconcile writes nothing to the children during a quiet window,
  observed with a watch (no event on the Service or the tools ConfigMap, none that changes the Deployment beyond
  its status; afterwards their resourceVersions, and the Deployment's generation, are unchanged); where the
  backend counts requests (the fake), not even a no-op write may reach a child;
- missing Provider and PromptPack ConfigMap: conditions False with a reason, then True once they are created,
  without restarting the operator;
- repair: a deleted Service is recreated, a hand-edited Deployment (runtime image and env) is put back;
- deletion: the finalizer is dropped, the AgentRuntime goes, its children are garbage-collected;
- leader election: two instances on one Lease, only the holder reconciles; stop it and the other takes over.

Fault injection (5xx, dropped watches, 410 relists) needs control over the API server, so it stays in the
fake-only operator tests (packages/omnia-operator/tests/test_operator.py).

One deliberate allowance for real clusters: the Deployment controller writes the Deployment's status and its
`deployment.kubernetes.io/revision` annotation, so the idempotency check ignores those two on the Deployment
(the fake has no such controller and never writes them).
"""

import asyncio
import contextlib
import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from e2e_cluster import Cluster, eventually, get_or_none, operator, operator_settings, single_error
from prometheus_client import REGISTRY

from omnia_operator.controller.controller import Controller, ObjectKey
from omnia_operator.controller.manager import Manager
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.process import build_manager
from omnia_operator.reconcile.agentruntime import FINALIZER
from omnia_operator.reconcile.kube_source import KINDS
from omnia_operator.render import load_manifests

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
AGENT = "quickstart"
TOOLS_CONFIG_MAP = f"{AGENT}-tools"
PACK_CONFIG_MAP = "quickstart-pack"
TOOL_REGISTRY = "e2e-tools"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
DEPENDENCY_CONDITIONS = ("PromptPackReady", "ProviderReady", "ToolRegistryReady", "DeploymentReady", "ServiceReady")
CHILDREN = ((kinds.DEPLOYMENT, AGENT), (kinds.SERVICE, AGENT), (kinds.CONFIG_MAP, TOOLS_CONFIG_MAP))

Scenario = Callable[[Cluster, str], Awaitable[None]]


# ---------------------------------------------------------------- manifests
def tool_registry() -> dict[str, Any]:
    """An HTTP tool with its schema inline: nothing to discover, so it resolves on any cluster."""
    handler = {
        "name": "weather",
        "type": "http",
        "tool": {"name": "get_weather", "description": "Weather for a city", "inputSchema": {"type": "object"}},
        "httpConfig": {"endpoint": "http://weather.invalid:8080/v1/current", "method": "GET"},
    }
    return {
        "apiVersion": f"{kinds.OMNIA_GROUP}/{kinds.OMNIA_VERSION}",
        "kind": "ToolRegistry",
        "metadata": {"name": TOOL_REGISTRY},
        "spec": {"handlers": [handler]},
    }


def quickstart_objects(namespace: str, *, leave_out: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """examples/quickstart plus a ToolRegistry the agent references, minus the objects named in `leave_out`."""
    objects = [*load_manifests([QUICKSTART]), tool_registry()]
    for obj in objects:
        obj["metadata"]["namespace"] = namespace
        if obj["kind"] == "AgentRuntime":
            obj["spec"]["toolRegistryRef"] = {"name": TOOL_REGISTRY}
    return [o for o in objects if f"{o['kind']}/{o['metadata']['name']}" not in leave_out]


async def create_all(cluster: Cluster, objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        await cluster.kube.create(KINDS[obj["kind"]], obj)


# ---------------------------------------------------------------- observations
async def conditions(cluster: Cluster, namespace: str) -> dict[str, dict[str, Any]]:
    agent = await get_or_none(cluster, kinds.AGENT_RUNTIME, AGENT, namespace)
    found = ((agent or {}).get("status") or {}).get("conditions") or []
    return {c["type"]: c for c in found}


async def wait_condition(cluster: Cluster, namespace: str, type_: str, status: str, reason: str | None = None) -> None:
    async def matches() -> bool:
        condition = (await conditions(cluster, namespace)).get(type_) or {}
        return condition.get("status") == status and (reason is None or condition.get("reason") == reason)

    await eventually(cluster, matches, f"{type_}={status}" + (f" ({reason})" if reason else ""))


async def wait_exists(cluster: Cluster, kind: kinds.ResourceKind, name: str, namespace: str) -> dict[str, Any]:
    async def exists() -> bool:
        return await get_or_none(cluster, kind, name, namespace) is not None

    await eventually(cluster, exists, f"{kind.kind} {namespace}/{name}")
    return await cluster.kube.get(kind, name, namespace)


async def wait_gone(cluster: Cluster, kind: kinds.ResourceKind, name: str, namespace: str) -> None:
    async def gone() -> bool:
        return await get_or_none(cluster, kind, name, namespace) is None

    await eventually(cluster, gone, f"{kind.kind} {namespace}/{name} to be deleted")


async def converge(cluster: Cluster, namespace: str) -> None:
    """Wait until the quickstart's children exist and every dependency condition is True."""
    for kind, name in CHILDREN:
        await wait_exists(cluster, kind, name, namespace)
    for type_ in DEPENDENCY_CONDITIONS:
        await wait_condition(cluster, namespace, type_, "True")


def reconcile_count(name: str = "agentruntime") -> float:
    """Reconciles finished by `name` controllers in this process (the operator's own Prometheus histogram)."""
    return REGISTRY.get_sample_value("controller_runtime_reconcile_time_seconds_count", {"controller": name}) or 0.0


def controller(manager: Manager, name: str = "agentruntime") -> Controller:
    return next(c for c in manager.controllers if c.name == name)


def idle(manager: Manager) -> bool:
    return all(not c.queue.processing and not len(c.queue) and not c.in_flight for c in manager.controllers)


def runtime_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "runtime")


def content(obj: dict[str, Any]) -> dict[str, Any]:
    """What the operator owns in a child: everything but status and server-kept metadata (and the revision
    annotation, which the Deployment controller writes on a real cluster)."""
    meta = obj.get("metadata") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != REVISION_ANNOTATION}
    return {
        "labels": meta.get("labels") or {},
        "annotations": annotations,
        "ownerReferences": meta.get("ownerReferences"),
        "spec": obj.get("spec"),
        "data": obj.get("data"),
    }


async def watch_for_writes(
    cluster: Cluster,
    kind: kinds.ResourceKind,
    namespace: str,
    baseline: dict[str, Any],
    since: str,
    writes: list[str],
) -> None:
    """Record in `writes` every event on `baseline` after `since`, except, on a Deployment, one that leaves its
    content alone (a status update by the Deployment controller)."""
    name = baseline["metadata"]["name"]
    stream = cluster.kube.watch(
        kind, namespace=namespace, resource_version=since, timeout_seconds=int(cluster.quiet_s) + 30
    )
    async with contextlib.aclosing(stream):
        async for event in stream:
            if event.type == "BOOKMARK" or event.object["metadata"].get("name") != name:
                continue
            if event.type == "DELETED" or kind != kinds.DEPLOYMENT or content(event.object) != content(baseline):
                writes.append(f"{event.type} {kind.kind}/{name} (resourceVersion {event.resource_version})")


# ---------------------------------------------------------------- scenarios
async def quickstart_converges_to_its_children_and_dependency_conditions(cluster: Cluster, namespace: str) -> None:
    await create_all(cluster, quickstart_objects(namespace))
    async with operator(cluster, namespace):
        await converge(cluster, namespace)
        agent = await cluster.kube.get(kinds.AGENT_RUNTIME, AGENT, namespace)
        assert FINALIZER in agent["metadata"]["finalizers"]
        deployment = await cluster.kube.get(kinds.DEPLOYMENT, AGENT, namespace)
        containers = deployment["spec"]["template"]["spec"]["containers"]
        assert [c["name"] for c in containers] == ["facade", "runtime"]
        facade_env = {e["name"]: e.get("value") for e in containers[0]["env"]}
        assert facade_env["OMNIA_FACADE_PORT"] == "8080"
        assert facade_env["OMNIA_FACADE_ALLOW_UNAUTHENTICATED"] == "true"
        runtime_env = {e["name"]: e.get("value") for e in containers[1]["env"]}
        assert runtime_env["OMNIA_PROVIDER_TYPE"] == "mock"
        assert runtime_env["OMNIA_PROMPTPACK_PATH"] == "/etc/omnia/pack/pack.json"
        service = await cluster.kube.get(kinds.SERVICE, AGENT, namespace)
        assert [p["port"] for p in service["spec"]["ports"]] == [8080]
        tools = await cluster.kube.get(kinds.CONFIG_MAP, TOOLS_CONFIG_MAP, namespace)
        assert "get_weather" in tools["data"]["tools.yaml"]
        for kind, name in CHILDREN:
            child = await cluster.kube.get(kind, name, namespace)
            owners = [(o["kind"], o["name"], o["uid"]) for o in child["metadata"]["ownerReferences"]]
            assert owners == [("AgentRuntime", AGENT, agent["metadata"]["uid"])], (kind.kind, owners)
        status = (await cluster.kube.get(kinds.AGENT_RUNTIME, AGENT, namespace))["status"]
        assert status["activeVersion"] == "1.0.0"
        assert status["observedGeneration"] == agent["metadata"]["generation"]


async def a_converged_agent_reconciled_again_writes_nothing_to_its_children(cluster: Cluster, namespace: str) -> None:
    await create_all(cluster, quickstart_objects(namespace))
    async with operator(cluster, namespace) as manager:
        await converge(cluster, namespace)

        async def settled() -> bool:
            return idle(manager)

        await eventually(cluster, settled, "the operator's queues to drain")
        baselines: list[tuple[kinds.ResourceKind, dict[str, Any], str]] = []
        for kind, name in CHILDREN:
            listed = await cluster.kube.list(kind, namespace)
            child = next(o for o in listed.items if o["metadata"]["name"] == name)
            baselines.append((kind, child, listed.resource_version))
        counted = _mutations(cluster, namespace)
        reconciles = reconcile_count()
        controller(manager).queue.add(ObjectKey(namespace, AGENT))
        writes: list[str] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(cluster.quiet_s), asyncio.TaskGroup() as group:
                for kind, child, since in baselines:
                    group.create_task(watch_for_writes(cluster, kind, namespace, child, since, writes))
        assert writes == [], f"the operator rewrote children of a converged agent: {writes}"

        async def reconciled() -> bool:
            return idle(manager) and reconcile_count() > reconciles

        await eventually(cluster, reconciled, "the forced reconcile to run")
        assert _mutations(cluster, namespace) == counted, "write requests (even no-op ones) reached the children"
        for kind, child, _since in baselines:
            now = await cluster.kube.get(kind, child["metadata"]["name"], namespace)
            if kind == kinds.DEPLOYMENT:  # its status is the Deployment controller's on a real cluster
                assert now["metadata"]["generation"] == child["metadata"]["generation"]
            else:
                assert now["metadata"]["resourceVersion"] == child["metadata"]["resourceVersion"], kind.kind


def _mutations(cluster: Cluster, namespace: str) -> dict[str, int] | None:
    if cluster.mutations is None:
        return None
    return {f"{kind.kind}/{name}": cluster.mutations(kind, namespace, name) for kind, name in CHILDREN}


async def missing_provider_and_pack_config_map_block_until_they_are_created(cluster: Cluster, namespace: str) -> None:
    missing = ("Provider/mock", f"ConfigMap/{PACK_CONFIG_MAP}")
    everything = quickstart_objects(namespace)
    await create_all(cluster, quickstart_objects(namespace, leave_out=missing))
    async with operator(cluster, namespace):
        await wait_condition(cluster, namespace, "ProviderReady", "False", "ProviderNotFound")
        await wait_condition(cluster, namespace, "PromptPackReady", "False", "ConfigMapNotFound")
        found = await conditions(cluster, namespace)
        assert found["Ready"]["status"] == "False"
        assert "mock" in found["ProviderReady"]["message"]
        assert await get_or_none(cluster, kinds.DEPLOYMENT, AGENT, namespace) is None

        await create_all(cluster, [o for o in everything if o["kind"] == "Provider"])
        await wait_condition(cluster, namespace, "ProviderReady", "True")
        assert (await conditions(cluster, namespace))["PromptPackReady"]["status"] == "False"

        await create_all(cluster, [o for o in everything if o["kind"] == "ConfigMap"])
        await converge(cluster, namespace)


async def a_deleted_service_is_recreated_and_an_edited_deployment_put_back(cluster: Cluster, namespace: str) -> None:
    await create_all(cluster, quickstart_objects(namespace))
    async with operator(cluster, namespace):
        await converge(cluster, namespace)
        old_service = await cluster.kube.get(kinds.SERVICE, AGENT, namespace)
        await cluster.kube.delete(kinds.SERVICE, AGENT, namespace=namespace)

        async def recreated() -> bool:
            service = await get_or_none(cluster, kinds.SERVICE, AGENT, namespace)
            return service is not None and service["metadata"]["uid"] != old_service["metadata"]["uid"]

        await eventually(cluster, recreated, "the deleted Service to be recreated")

        deployment = await cluster.kube.get(kinds.DEPLOYMENT, AGENT, namespace)
        wanted = copy.deepcopy(runtime_container(deployment))
        index = deployment["spec"]["template"]["spec"]["containers"].index(wanted)
        base = f"/spec/template/spec/containers/{index}"
        edit = [
            {"op": "replace", "path": f"{base}/image", "value": "example.invalid/tampered:1"},
            {"op": "add", "path": f"{base}/env/-", "value": {"name": "OMNIA_E2E_TAMPERED", "value": "1"}},
        ]
        edited = await cluster.kube.patch(kinds.DEPLOYMENT, AGENT, edit, namespace=namespace, patch_type="json")
        assert runtime_container(edited)["image"] == "example.invalid/tampered:1"

        async def put_back() -> bool:
            current = await cluster.kube.get(kinds.DEPLOYMENT, AGENT, namespace)
            container = runtime_container(current)
            return container["image"] == wanted["image"] and container["env"] == wanted["env"]

        await eventually(cluster, put_back, "the hand-edited Deployment to be put back")


async def deleting_the_agent_drops_its_finalizer_and_collects_its_children(cluster: Cluster, namespace: str) -> None:
    await create_all(cluster, quickstart_objects(namespace))
    async with operator(cluster, namespace):
        await converge(cluster, namespace)
        await cluster.kube.delete(kinds.AGENT_RUNTIME, AGENT, namespace=namespace)
        await wait_gone(cluster, kinds.AGENT_RUNTIME, AGENT, namespace)
        for kind, name in CHILDREN:
            await wait_gone(cluster, kind, name, namespace)
        # what the agent used is not its to delete
        for kind, name in ((kinds.PROMPT_PACK, AGENT), (kinds.PROVIDER, "mock"), (kinds.CONFIG_MAP, PACK_CONFIG_MAP)):
            assert await get_or_none(cluster, kind, name, namespace) is not None, kind.kind


async def two_leader_elected_instances_reconcile_one_at_a_time(cluster: Cluster, namespace: str) -> None:
    settings = operator_settings(namespace, leader_elect=True)
    async with await cluster.connect() as first_client, await cluster.connect() as second_client:
        managers = [build_manager(first_client, settings), build_manager(second_client, settings)]
        with single_error():
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(m.run(), name=f"e2e-operator-{i}") for i, m in enumerate(managers)]
                try:
                    await _leader_hands_over(cluster, namespace, managers, tasks, settings.leader_election_id)
                finally:
                    for manager in managers:
                        manager.stop()


async def _holder(cluster: Cluster, lease_name: str, namespace: str) -> str:
    try:
        lease = await cluster.kube.get(kinds.LEASE, lease_name, namespace)
    except NotFoundError:
        return ""
    return (lease.get("spec") or {}).get("holderIdentity") or ""


def _identity(manager: Manager) -> str:
    assert manager.leader_elector is not None
    return manager.leader_elector.identity


async def _leader_hands_over(
    cluster: Cluster, namespace: str, managers: list[Manager], tasks: list[asyncio.Task[None]], lease_name: str
) -> None:
    async def one_leads() -> bool:
        return any(m.started.is_set() for m in managers)

    await eventually(cluster, one_leads, "one instance to win the lease")
    leading = [i for i, m in enumerate(managers) if m.started.is_set()]
    assert len(leading) == 1, "both instances run their controllers"
    leader, standby = managers[leading[0]], managers[1 - leading[0]]
    assert await _holder(cluster, lease_name, namespace) == _identity(leader)

    await create_all(cluster, quickstart_objects(namespace))
    await converge(cluster, namespace)

    async def standby_saw_but_did_not_reconcile() -> bool:
        return len(controller(standby).queue) > 0

    await eventually(cluster, standby_saw_but_did_not_reconcile, "the standby to queue the agent it may not reconcile")
    assert not standby.started.is_set()
    assert controller(standby).in_flight == 0

    leader.stop()
    async with asyncio.timeout(cluster.wait_s):
        await tasks[leading[0]]

    async def taken_over() -> bool:
        return standby.started.is_set() and await _holder(cluster, lease_name, namespace) == _identity(standby)

    await eventually(cluster, taken_over, "the standby to take the lease over")
    old_service = await cluster.kube.get(kinds.SERVICE, AGENT, namespace)
    await cluster.kube.delete(kinds.SERVICE, AGENT, namespace=namespace)

    async def recreated_by_new_leader() -> bool:
        service = await get_or_none(cluster, kinds.SERVICE, AGENT, namespace)
        return service is not None and service["metadata"]["uid"] != old_service["metadata"]["uid"]

    await eventually(cluster, recreated_by_new_leader, "the new leader to recreate the deleted Service")


SCENARIOS: tuple[Scenario, ...] = (
    quickstart_converges_to_its_children_and_dependency_conditions,
    a_converged_agent_reconciled_again_writes_nothing_to_its_children,
    missing_provider_and_pack_config_map_block_until_they_are_created,
    a_deleted_service_is_recreated_and_an_edited_deployment_put_back,
    deleting_the_agent_drops_its_finalizer_and_collects_its_children,
    two_leader_elected_instances_reconcile_one_at_a_time,
)
"""Every scenario, in the order both runners use (each runner parametrizes over this tuple, so they cannot drift)."""
