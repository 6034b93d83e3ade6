"""The real operator process (`omnia-operator run`, with the environment the chart's Deployment gives it)
against the project's fake Kubernetes API, for the RBAC and example-status tests.

The test applies objects like `kubectl apply` through plain HTTP; every one of its requests carries
`fieldManager=chart-test`, so the fake's request log tells the test's requests from the operator's.
Waiting is a bounded poll of the fake's store: the fake has no "reconciled" event to wait on.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chart_harness as ch
import httpx

from omnia_operator.testing import fakekube

AGENT_NAMESPACE = "default"
TEST_FIELD_MANAGER = "chart-test"
POLL_SECONDS = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def example_objects(directory: str) -> list[dict[str, Any]]:
    return [o for p in sorted((ch.EXAMPLES_DIR / directory).glob("*.yaml")) for o in ch.load_example_objects(p)]


def _collection_path(obj: dict[str, Any]) -> str:
    plurals = {
        ("", "ConfigMap"): "configmaps",
        ("", "Secret"): "secrets",
        **{(g, k): crd["spec"]["names"]["plural"] for (g, k), crd in ch.load_crds().items()},
    }
    group, _, version = obj["apiVersion"].rpartition("/")
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return f"{prefix}/namespaces/{AGENT_NAMESPACE}/{plurals[(group, obj['kind'])]}"


async def apply(api: fakekube.FakeKubeAPI, objects: list[dict[str, Any]]) -> None:
    """Like `kubectl apply`: create what is new, replace the spec (and data) of what exists."""
    params = {"fieldManager": TEST_FIELD_MANAGER}
    async with httpx.AsyncClient(base_url=api.url, timeout=10, params=params) as client:
        for obj in objects:
            collection = _collection_path(obj)
            response = await client.post(collection, json=obj)
            if response.status_code == 409:
                item = f"{collection}/{obj['metadata']['name']}"
                current = (await client.get(item)).json()
                updated = {**current, **{k: obj[k] for k in ("spec", "data", "stringData") if k in obj}}
                response = await client.put(item, json=updated)
            assert response.status_code in (200, 201), f"{obj['kind']} {obj['metadata']['name']}: {response.text}"


def operator_requests(api: fakekube.FakeKubeAPI, since: int = 0) -> list[tuple[str, str, str, str, str | None]]:
    """(verb, group, resource, subresource, namespace) of every request after `since` that the test did not send."""
    return [
        (r.verb, r.group, r.resource, r.subresource, r.namespace)
        for r in api.request_log[since:]
        if r.query.get("fieldManager") != TEST_FIELD_MANAGER
    ]


def operator_environment(api_url: str, home: Path, values: dict[str, Any]) -> dict[str, str]:
    """The environment of the chart's operator container (rendered with `values`), pointed at `api_url`."""
    objects = ch.manifests(ch.render({"leaderElection": {"enabled": True}, **values}))
    (deployment,) = ch.find(objects, "Deployment", "omnia")
    env: dict[str, str] = {}
    for entry in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        env[entry["name"]] = entry.get("value", ch.NAMESPACE)  # fieldRefs: the pod's namespace (and a name)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("OMNIA_")},
        **env,
        "HOME": str(home),
        "OMNIA_OPERATOR_KUBE_URL": api_url,
        "OMNIA_OPERATOR_BIND_HOST": "127.0.0.1",
        "OMNIA_OPERATOR_HEALTH_PORT": str(free_port()),
        "OMNIA_OPERATOR_METRICS_PORT": str(free_port()),
    }


@dataclass
class RunningOperator:
    process: asyncio.subprocess.Process
    output: bytearray = field(default_factory=bytearray)

    def tail(self) -> str:
        return self.output.decode(errors="replace")[-4000:]

    async def wait_for(self, what: str, condition: Callable[[], bool], timeout: float = 60) -> None:
        """Poll `condition` until it holds; fail naming `what`, with the operator's output, if it never does."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    if self.process.returncode is not None:
                        break
                    await asyncio.sleep(POLL_SECONDS)
        except TimeoutError:
            pass
        if not condition():
            state = "exited" if self.process.returncode is not None else f"still running after {timeout}s"
            raise AssertionError(f"the operator ({state}) never reached: {what}; its output:\n{self.tail()}")


@asynccontextmanager
async def running_operator(
    api: fakekube.FakeKubeAPI, home: Path, values: dict[str, Any]
) -> AsyncIterator[RunningOperator]:
    executable = Path(sys.executable).parent / "omnia-operator"
    process = await asyncio.create_subprocess_exec(
        str(executable),
        "run",
        env=operator_environment(api.url, home, values),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    running = RunningOperator(process)

    async def read_output() -> None:
        assert process.stdout is not None
        while chunk := await process.stdout.read(65536):
            running.output.extend(chunk)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(read_output())
            try:
                yield running
            finally:
                if process.returncode is None:
                    process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=20)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
