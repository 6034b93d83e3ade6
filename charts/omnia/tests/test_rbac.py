"""The chart's RBAC grants everything the operator does, and the check would notice if it did not.

The operator runs for real (`omnia-operator run`, with the environment the chart's Deployment gives it) against
the project's fake Kubernetes API, which logs every request. After it has reconciled the examples, every logged
request must be allowed by the roles the chart binds to the operator's ServiceAccount.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import chart_harness as ch
import httpx
import pytest

from omnia_operator.testing import fakekube

SERVICE_ACCOUNT = "omnia"
AGENT_NAMESPACE = "default"
EXAMPLE_DIRS = ["quickstart", "tools", "providers"]


def _rbac_objects(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return ch.manifests(ch.render({"leaderElection": {"enabled": True}, **(values or {})}))


# ------------------------------------------------------------------ the checker itself


def test_checker_denies_what_no_rule_grants() -> None:
    objects = _rbac_objects()
    requests = [
        ("create", "", "pods", "", AGENT_NAMESPACE),
        ("delete", "", "secrets", "", AGENT_NAMESPACE),
        ("update", "omnia.altairalabs.ai", "agentruntimes", "scale", AGENT_NAMESPACE),
        ("create", "coordination.k8s.io", "leases", "", AGENT_NAMESPACE),
    ]
    assert ch.rbac_denials(objects, requests, SERVICE_ACCOUNT) == [
        "create coordination.k8s.io/leases in default",
        "create core/pods in default",
        "delete core/secrets in default",
        "update omnia.altairalabs.ai/agentruntimes/scale in default",
    ]


def test_checker_allows_what_the_roles_grant_in_their_scope() -> None:
    objects = _rbac_objects()
    requests = [
        ("watch", "omnia.altairalabs.ai", "agentruntimes", "", None),
        ("patch", "omnia.altairalabs.ai", "agentruntimes", "status", AGENT_NAMESPACE),
        ("create", "apps", "deployments", "", "team-x"),
        ("list", "", "secrets", "", None),
        ("update", "coordination.k8s.io", "leases", "", ch.NAMESPACE),
    ]
    assert ch.rbac_denials(objects, requests, SERVICE_ACCOUNT) == []


def test_namespaced_mode_denies_requests_outside_the_watched_namespaces() -> None:
    objects = _rbac_objects({"operator": {"watchNamespaces": ["team-a"]}})
    requests = [
        ("create", "apps", "deployments", "", "team-a"),
        ("create", "apps", "deployments", "", "team-b"),
        ("list", "omnia.altairalabs.ai", "agentruntimes", "", None),
    ]
    assert ch.rbac_denials(objects, requests, SERVICE_ACCOUNT) == [
        "create apps/deployments in team-b",
        "list omnia.altairalabs.ai/agentruntimes in <cluster>",
    ]


# ------------------------------------------------------------------ the operator against the fake API


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _collection_path(obj: dict[str, Any], plurals: dict[tuple[str, str], str]) -> str:
    group, _, version = obj["apiVersion"].rpartition("/")
    plural = plurals[(group, obj["kind"])]
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return f"{prefix}/namespaces/{AGENT_NAMESPACE}/{plural}"


@pytest.fixture
async def api() -> AsyncIterator[Any]:
    async with fakekube.FakeKubeAPI(crds=list(ch.load_crds().values())) as server:
        yield server


async def _apply_examples(api: Any) -> list[dict[str, Any]]:
    plurals = {
        ("", "ConfigMap"): "configmaps",
        ("", "Secret"): "secrets",
        **{(g, k): crd["spec"]["names"]["plural"] for (g, k), crd in ch.load_crds().items()},
    }
    applied: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as client:
        for directory in EXAMPLE_DIRS:
            for path in sorted((ch.EXAMPLES_DIR / directory).glob("*.yaml")):
                for obj in ch.load_example_objects(path):
                    response = await client.post(_collection_path(obj, plurals), json=obj)
                    assert response.status_code == 201, f"{path.name}: {obj['kind']}: {response.text}"
                    applied.append(obj)
    return applied


async def _apply_canary(api: Any) -> None:
    """Apply examples/canary like `kubectl apply`: create what is new, update what exists."""
    plurals = {
        ("", "ConfigMap"): "configmaps",
        **{(g, k): crd["spec"]["names"]["plural"] for (g, k), crd in ch.load_crds().items()},
    }
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as client:
        for path in sorted((ch.EXAMPLES_DIR / "canary").glob("*.yaml")):
            for obj in ch.load_example_objects(path):
                collection = _collection_path(obj, plurals)
                response = await client.post(collection, json=obj)
                if response.status_code == 409:
                    item = f"{collection}/{obj['metadata']['name']}"
                    current = (await client.get(item)).json()
                    updated = {**current, "spec": obj["spec"]}
                    response = await client.put(item, json=updated)
                assert response.status_code in (200, 201), f"{path.name}: {obj['kind']}: {response.text}"


# What _apply_canary itself sends: excluded from the operator's requests in the window it runs.
_TEST_CLIENT_REQUESTS = {
    (verb, resource) for verb in ("create", "get", "update") for resource in ("configmaps", "promptpacks")
}


def _deployment_exists(api: Any, name: str) -> bool:
    deployments = api.store.kinds.lookup("apps", "v1", "deployments")
    return deployments is not None and api.store.peek(deployments, AGENT_NAMESPACE, name) is not None


def _reconciled(api: Any, agents: list[str]) -> bool:
    store = api.store
    deployments = store.kinds.lookup("apps", "v1", "deployments")
    runtimes = store.kinds.lookup("omnia.altairalabs.ai", "v1alpha1", "agentruntimes")
    for name in agents:
        runtime = store.peek(runtimes, AGENT_NAMESPACE, name)
        if runtime is None or deployments is None or store.peek(deployments, AGENT_NAMESPACE, name) is None:
            return False
        if runtime.get("status", {}).get("observedGeneration") != runtime["metadata"].get("generation"):
            return False
    return True


def _operator_environment(api: Any, tmp_path: Path, values: dict[str, Any]) -> dict[str, str]:
    (deployment,) = ch.find(_rbac_objects(values), "Deployment", "omnia")
    env: dict[str, str] = {}
    for entry in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        env[entry["name"]] = entry.get("value", ch.NAMESPACE)  # fieldRefs: the pod's namespace (and a name)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("OMNIA_")},
        **env,
        "HOME": str(tmp_path),
        "OMNIA_OPERATOR_KUBE_URL": api.url,
        "OMNIA_OPERATOR_BIND_HOST": "127.0.0.1",
        "OMNIA_OPERATOR_HEALTH_PORT": str(_free_port()),
        "OMNIA_OPERATOR_METRICS_PORT": str(_free_port()),
    }


# Cluster mode (ClusterRole) and namespaced mode (a Role in the agents' namespace only).
MODES = {"cluster": {}, "namespaced": {"operator": {"watchNamespaces": [AGENT_NAMESPACE]}}}


@pytest.mark.integration
@pytest.mark.parametrize("mode", sorted(MODES))
async def test_every_request_of_the_operator_reconciling_the_examples_is_granted_by_the_chart(
    mode: str, api: Any, tmp_path: Path
) -> None:
    values = MODES[mode]
    applied = await _apply_examples(api)
    agents = [o["metadata"]["name"] for o in applied if o["kind"] == "AgentRuntime"]
    first_operator_request = len(api.request_log)
    executable = Path(sys.executable).parent / "omnia-operator"
    process = await asyncio.create_subprocess_exec(
        str(executable),
        "run",
        env=_operator_environment(api, tmp_path, values),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = b""
    canary_started = False
    own_requests = range(0)  # the test's own requests while it applies the canary example
    try:
        async with asyncio.timeout(90):
            while not _reconciled(api, agents):
                if process.returncode is not None:
                    break
                await asyncio.sleep(0.05)  # bounded by the timeout: the fake API has no "reconciled" event
            if process.returncode is None:
                # Then the canary example: a new pack version rolled out beside the stable pods.
                own_start = len(api.request_log)
                await _apply_canary(api)
                own_requests = range(own_start, len(api.request_log))
                while not (canary_started := _deployment_exists(api, "quickstart-canary")):
                    if process.returncode is not None:
                        break
                    await asyncio.sleep(0.05)
    except TimeoutError:
        pass
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
        except TimeoutError:
            process.kill()
            output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert _reconciled(api, agents), f"the operator did not reconcile {agents} within 90s; its output:\n{text[-4000:]}"
    assert canary_started, f"the canary example started no quickstart-canary Deployment; output:\n{text[-4000:]}"

    requests = [
        (r.verb, r.group, r.resource, r.subresource, r.namespace)
        for index, r in enumerate(api.request_log)
        if index >= first_operator_request
        and not (index in own_requests and (r.verb, r.resource) in _TEST_CLIENT_REQUESTS)
    ]
    assert requests, "the operator made no request at all"
    assert ch.rbac_denials(_rbac_objects(values), requests, SERVICE_ACCOUNT) == []
    made = {(verb, resource) for verb, _, resource, _, _ in requests}
    assert ("create", "deployments") in made
    assert {("watch", "agentruntimes"), ("create", "leases")} <= made
