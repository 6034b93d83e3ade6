"""The metrics of a real `omnia-operator run` process, asserted by value on its /metrics.

The process starts as a standby (another replica holds the Lease), so its informers fill the work queues but
nothing is reconciled yet: the queue depths are then exactly the number of objects per kind. Dropped watches
show up as one watch restart per informer. Once the Lease is free the process leads and reconciles; every
reconcile is counted per controller and result, and one injected Forbidden on a child create is counted as
exactly one reconcile error.
"""

import asyncio
import signal
import socket
import sys
from collections import Counter
from datetime import UTC, datetime

import aiohttp
from manifests import agent_runtime, pack_config_map, prompt_pack, provider, secret  # pyright: ignore[reportMissingImports]
from operator_loop import eventually  # pyright: ignore[reportMissingImports]
from prometheus_client.parser import text_string_to_metric_families

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.kube.resources import ResourceKind
from omnia_operator.reconcile.kube_source import KINDS
from omnia_operator.settings import OperatorSettings
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
WAIT = 20.0
AGENTS = ("a", "b", "c")
CONTROLLERS = ("agentruntime", "promptpack", "provider", "toolregistry")
LEASE_NAME = OperatorSettings.model_fields["leader_election_id"].default
RECONCILES = "controller_runtime_reconcile_total"
ERRORS = "controller_runtime_reconcile_errors_total"
RETRIES = "workqueue_retries_total"
KIND_OF_PLURAL = {v.plural: v.kind for v in vars(kinds).values() if isinstance(v, ResourceKind)}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Scraper:
    def __init__(self, http: aiohttp.ClientSession, port: int) -> None:
        self._http = http
        self._port = port

    async def samples(self) -> Samples:
        async with self._http.get(f"http://127.0.0.1:{self._port}/metrics") as response:
            assert response.status == 200
            text = await response.text()
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    """One sample's value; 0 when the labelled series does not exist yet (a counter never incremented)."""
    return samples.get((metric, frozenset(labels.items())), 0.0)


def total(samples: Samples, metric: str, /, **labels: str) -> float:
    """The sum over every series of `metric` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, series), v in samples.items() if n == metric and wanted <= series)


def _depths(samples: Samples) -> dict[str, float]:
    return {c: value(samples, "workqueue_depth", name=c) for c in CONTROLLERS}


def _restarts_by_kind(samples: Samples) -> dict[str, float]:
    found: dict[str, float] = {}
    for (name, series), sample in samples.items():
        if name == "omnia_operator_watch_restarts_total":
            kind = dict(series)["kind"]
            found[kind] = found.get(kind, 0.0) + sample
    return found


async def _seed(kube: KubeClient) -> None:
    """Objects for three agents sharing a pack and a Provider, and a Lease another replica holds for an hour."""
    renewed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lease_spec = {"holderIdentity": "other-replica", "leaseDurationSeconds": 3600, "renewTime": renewed}
    await kube.create(kinds.LEASE, {"metadata": {"name": LEASE_NAME, "namespace": NS}, "spec": lease_spec})
    objects = [
        pack_config_map(),
        prompt_pack(),
        secret("openai-key", {"OPENAI_API_KEY": "sk-test"}),
        provider(),
        *(agent_runtime(name) for name in AGENTS),
    ]
    for obj in objects:
        meta = {k: v for k, v in obj["metadata"].items() if k not in ("uid", "generation")}
        await kube.create(KINDS[obj["kind"]], {**obj, "metadata": meta})


async def _exists(kube: KubeClient, kind: ResourceKind, name: str) -> bool:
    try:
        await kube.get(kind, name, NS)
    except NotFoundError:
        return False
    return True


async def test_operator_metrics_count_queue_depth_reconciles_errors_and_watch_restarts(api: FakeKubeAPI) -> None:
    health, metrics = _free_port(), _free_port()
    async with KubeClient.for_url(api.url) as kube:
        await _seed(kube)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "omnia_operator", "run", "--kube-url", api.url, "--health-port", str(health),
            "--metrics-port", str(metrics), "--leader-elect", "--leader-election-namespace", NS, "--workers", "2",
            env={"OMNIA_OPERATOR_BIND_HOST": "127.0.0.1", "PATH": "/usr/bin:/bin"},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            async with aiohttp.ClientSession() as http:
                scraper = Scraper(http, metrics)

                async def ready() -> bool:
                    try:
                        async with http.get(f"http://127.0.0.1:{health}/readyz") as response:
                            return response.status == 200
                    except aiohttp.ClientError:
                        return False

                await eventually(ready, "/readyz (every informer listed)")
                informers = Counter(KIND_OF_PLURAL[r.resource] for r in api.requests(verb="list"))
                count = sum(informers.values())
                assert informers["AgentRuntime"] >= 1
                await eventually(lambda: _true(api.watch_count == count), "every informer to watch")

                # Standby: the initial lists queued each object's key once (mapped duplicates coalesced).
                standby = await scraper.samples()
                assert _depths(standby) == {"agentruntime": 3, "promptpack": 1, "provider": 1, "toolregistry": 0}
                assert total(standby, RECONCILES) == 0
                assert value(standby, "leader_election_master_status", name=LEASE_NAME) == 0
                assert _restarts_by_kind(standby) == {}

                # Every dropped watch is one restart of its informer, and resuming it loses or adds nothing.
                assert api.faults.drop_watches() == count

                async def restarted() -> bool:
                    return _restarts_by_kind(await scraper.samples()) == {k: float(n) for k, n in informers.items()}

                await eventually(restarted, f"one watch restart per informer {dict(informers)}")
                await eventually(lambda: _true(api.watch_count == count), "every informer to watch again")
                assert _depths(await scraper.samples())["agentruntime"] == 3

                # The Lease is free: this process leads and works the queues down.
                await kube.delete(kinds.LEASE, LEASE_NAME, namespace=NS)

                async def settled() -> bool:
                    before = await scraper.samples()
                    if any(_depths(before).values()) or not all(
                        [await _exists(kube, kinds.DEPLOYMENT, name) for name in AGENTS]
                    ):
                        return False
                    await asyncio.sleep(0.3)
                    after = await scraper.samples()
                    return total(before, RECONCILES) == total(after, RECONCILES) and not any(_depths(after).values())

                await eventually(settled, "the leader to deploy the three agents and go idle")
                led = await scraper.samples()
                assert value(led, "leader_election_master_status", name=LEASE_NAME) == 1
                for controller in CONTROLLERS:
                    reconciles = total(led, RECONCILES, controller=controller)
                    durations = value(led, "controller_runtime_reconcile_time_seconds_count", controller=controller)
                    assert reconciles == durations, controller
                    assert value(led, ERRORS, controller=controller) == 0
                assert total(led, RECONCILES, controller="agentruntime") >= len(AGENTS)
                assert total(led, RECONCILES, controller="promptpack") >= 1
                assert total(led, RECONCILES, controller="provider") >= 1
                assert total(led, RECONCILES, controller="toolregistry") == 0

                # One Forbidden on the next create (the Service the operator puts back) fails exactly one reconcile.
                api.faults.fail_next(1, status=403, verbs={"create"})
                await kube.delete(kinds.SERVICE, "a", namespace=NS)
                await eventually(lambda: _exists(kube, kinds.SERVICE, "a"), "the deleted Service to come back")
                assert api.faults.injected == 1
                failed = await scraper.samples()
                assert value(failed, ERRORS, controller="agentruntime") == 1
                assert value(failed, RECONCILES, controller="agentruntime", result="error") == 1
                assert value(failed, RETRIES, name="agentruntime") == value(led, RETRIES, name="agentruntime") + 1
                for controller in ("promptpack", "provider", "toolregistry"):
                    assert value(failed, ERRORS, controller=controller) == 0
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    async with asyncio.timeout(WAIT):
                        await process.wait()
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _true(value: bool) -> bool:
    return value
