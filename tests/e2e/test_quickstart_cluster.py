"""examples/quickstart on a real cluster (marker e2e; skipped unless KUBECONFIG is set, see the root conftest).

Applies the CRDs and the quickstart manifests into a fresh namespace, runs the operator logic in-process against
the cluster (what `omnia-operator run --namespaces <ns>` runs), and checks what the fake-API tests check: the
Deployment with its facade and runtime containers, the Service on the facade port, and the AgentRuntime's
dependency conditions. The agent pods need the images to start; the test does not wait for them.
"""

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from omnia_operator.api.crds import all_crds
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import AlreadyExistsError, NotFoundError
from omnia_operator.process import build_manager
from omnia_operator.reconcile.kube_source import KINDS
from omnia_operator.render import load_manifests
from omnia_operator.settings import OperatorSettings

pytestmark = pytest.mark.e2e
QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
WAIT_S = 120.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT_S) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.5)
    except TimeoutError:
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


async def apply_crds(kube: KubeClient) -> None:
    for crd in all_crds():
        try:
            await kube.create(kinds.CRD, crd)
        except AlreadyExistsError:
            current = await kube.get(kinds.CRD, crd["metadata"]["name"])
            await kube.replace(kinds.CRD, {**crd, "metadata": {**crd["metadata"], **_version(current)}})

    async def served() -> bool:
        try:
            await kube.list(kinds.AGENT_RUNTIME, "default")
        except NotFoundError:
            return False
        return True

    await eventually(served, "the AgentRuntime CRD to be served")


def _version(obj: dict[str, Any]) -> dict[str, Any]:
    return {"resourceVersion": obj["metadata"]["resourceVersion"]}


async def _get(kube: KubeClient, kind: kinds.ResourceKind, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        return await kube.get(kind, name, namespace)
    except NotFoundError:
        return None


async def check_quickstart(kube: KubeClient, namespace: str) -> None:
    """Apply the quickstart into namespace, run the operator logic, check its children and status."""
    for obj in load_manifests([QUICKSTART]):
        obj["metadata"]["namespace"] = namespace
        await kube.create(KINDS[obj["kind"]], obj)
    settings = OperatorSettings(namespaces=[namespace], workers=2, shutdown_timeout=10, health_port=0, metrics_port=0)
    manager = build_manager(kube, settings)
    async with asyncio.TaskGroup() as group:
        group.create_task(manager.run())
        try:

            async def deployed() -> bool:
                return await _get(kube, kinds.DEPLOYMENT, "quickstart", namespace) is not None

            await eventually(deployed, "the quickstart Deployment")
            deployment = await kube.get(kinds.DEPLOYMENT, "quickstart", namespace)
            containers = deployment["spec"]["template"]["spec"]["containers"]
            assert [c["name"] for c in containers] == ["facade", "runtime"]
            facade_env = {e["name"]: e.get("value") for e in containers[0]["env"]}
            assert facade_env["OMNIA_FACADE_PORT"] == "8080"
            assert facade_env["OMNIA_FACADE_ALLOW_UNAUTHENTICATED"] == "true"
            runtime_env = {e["name"]: e.get("value") for e in containers[1]["env"]}
            assert runtime_env["OMNIA_PROVIDER_TYPE"] == "mock"
            assert runtime_env["OMNIA_PROMPTPACK_PATH"] == "/etc/omnia/pack/pack.json"
            owner = deployment["metadata"]["ownerReferences"][0]
            assert (owner["kind"], owner["name"]) == ("AgentRuntime", "quickstart")

            service = await kube.get(kinds.SERVICE, "quickstart", namespace)
            assert [p["port"] for p in service["spec"]["ports"]] == [8080]

            async def conditions_true() -> bool:
                agent = await kube.get(kinds.AGENT_RUNTIME, "quickstart", namespace)
                found = {c["type"]: c["status"] for c in (agent.get("status") or {}).get("conditions") or []}
                return all(found.get(t) == "True" for t in ("PromptPackReady", "ProviderReady"))

            await eventually(conditions_true, "PromptPackReady and ProviderReady on the AgentRuntime")
        finally:
            manager.stop()


@contextlib.asynccontextmanager
async def scratch_namespace(kube: KubeClient) -> AsyncIterator[str]:
    name = f"omnia-e2e-{uuid.uuid4().hex[:8]}"
    await kube.create(kinds.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield name
    finally:
        with contextlib.suppress(NotFoundError):
            await kube.delete(kinds.NAMESPACE, name)


async def test_quickstart_on_a_real_cluster_gets_its_deployment_service_and_status() -> None:
    async with await KubeClient.from_kubeconfig(os.environ.get("KUBECONFIG")) as kube:
        await apply_crds(kube)
        async with scratch_namespace(kube) as namespace:
            await check_quickstart(kube, namespace)
