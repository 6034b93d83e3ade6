"""The operator process logic end to end against the fake API: informers, watches, controllers, shutdown."""

import asyncio
import signal
import socket
import sys
from typing import Any

import aiohttp
from manifests import full_set, secret  # pyright: ignore[reportMissingImports]
from operator_loop import WAIT, create_all, eventually, operator_settings, running  # pyright: ignore[reportMissingImports]
from prometheus_client import REGISTRY

from omnia_operator.controller.controller import ObjectKey
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient, RetryPolicy
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.process import build_manager
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _condition(kube: KubeClient, type_: str) -> dict[str, Any] | None:
    try:
        agent = await kube.get(kinds.AGENT_RUNTIME, "support", NS)
    except NotFoundError:
        return None
    return next((c for c in (agent.get("status") or {}).get("conditions") or [] if c["type"] == type_), None)


async def _exists(kube: KubeClient, kind: kinds.ResourceKind, name: str) -> bool:
    try:
        await kube.get(kind, name, NS)
    except NotFoundError:
        return False
    return True


async def test_operator_converges_recovers_and_reacts_to_dependencies(api: FakeKubeAPI, kube: KubeClient) -> None:
    async with KubeClient.for_url(api.url) as client, running(build_manager(client, operator_settings())):
        await create_all(kube, [o for o in full_set() if o["kind"] != "Secret"])

        async def provider_blocked() -> bool:
            condition = await _condition(kube, "ProviderReady")
            return bool(condition and condition["reason"] == "SecretNotFound")

        await eventually(provider_blocked, "ProviderReady=False/SecretNotFound")
        await kube.create(kinds.SECRET, secret("openai-key", {"OPENAI_API_KEY": "sk"}))

        async def deployed() -> bool:
            condition = await _condition(kube, "DeploymentReady")
            return bool(condition and condition["status"] == "True")

        await eventually(deployed, "the agent to deploy once its Secret appears (Secret watch)")
        provider = await kube.get(kinds.PROVIDER, "openai", NS)
        assert provider["status"]["phase"] == "Ready"

        await kube.delete(kinds.SERVICE, "support", namespace=NS)
        await eventually(lambda: _exists(kube, kinds.SERVICE, "support"), "the deleted Service to be recreated")

        deployment = await kube.get(kinds.DEPLOYMENT, "support", NS)
        deployment["spec"]["replicas"] = 5
        await kube.replace(kinds.DEPLOYMENT, deployment)

        async def restored() -> bool:
            return (await kube.get(kinds.DEPLOYMENT, "support", NS))["spec"].get("replicas") == 1

        await eventually(restored, "the hand-edited Deployment to be put back")

        deployment = await kube.get(kinds.DEPLOYMENT, "support", NS)
        deployment["status"] = {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}
        await kube.replace_status(kinds.DEPLOYMENT, deployment)

        async def running_phase() -> bool:
            condition = await _condition(kube, "Ready")
            return bool(condition and condition["status"] == "True")

        await eventually(running_phase, "Ready=True after the Deployment reports a ready pod (owned watch)")

        cm = await kube.get(kinds.CONFIG_MAP, "support-pack", NS)
        cm["data"]["pack.json"] = cm["data"]["pack.json"].replace("helpful", "very helpful")
        before = deployment["spec"]["template"]["metadata"]["annotations"]["omnia.altairalabs.ai/config-hash"]
        await kube.replace(kinds.CONFIG_MAP, cm)

        async def rolled() -> bool:
            current = await kube.get(kinds.DEPLOYMENT, "support", NS)
            return current["spec"]["template"]["metadata"]["annotations"]["omnia.altairalabs.ai/config-hash"] != before

        await eventually(rolled, "a pack content change to roll the pods (config hash)")


async def test_operator_settles_and_then_writes_nothing(api: FakeKubeAPI, kube: KubeClient) -> None:
    async with KubeClient.for_url(api.url) as client, running(build_manager(client, operator_settings())) as manager:
        await create_all(kube, full_set())
        await eventually(lambda: _exists(kube, kinds.DEPLOYMENT, "support"), "the Deployment")

        async def settled() -> bool:
            before = api.write_count
            await asyncio.sleep(0.3)
            return api.write_count == before and all(not c.queue.processing for c in manager.controllers)

        await eventually(settled, "the operator to stop writing")
        before = api.write_count
        manager.controllers[0].queue.add(ObjectKey(NS, "support"))

        async def idle() -> bool:
            return not manager.controllers[0].queue.processing and manager.controllers[0].in_flight == 0

        await eventually(idle, "the extra reconcile to finish")
        assert api.write_count == before


async def test_two_instances_with_leader_election_only_one_leads(api: FakeKubeAPI) -> None:
    settings = operator_settings(leader_elect=True, leader_election_namespace=NS)
    async with KubeClient.for_url(api.url) as one, KubeClient.for_url(api.url) as two:
        first, second = build_manager(one, settings), build_manager(two, settings)
        async with running(first), running(second):
            await eventually(lambda: _true(first.started.is_set() or second.started.is_set()), "a leader")
            assert first.started.is_set() != second.started.is_set()
            lease = await one.get(kinds.LEASE, settings.leader_election_id, NS)
            leader = first if first.started.is_set() else second
            assert leader.leader_elector is not None
            assert lease["spec"]["holderIdentity"] == leader.leader_elector.identity


async def _true(value: bool) -> bool:
    return value


async def test_run_command_serves_health_and_metrics_and_stops_on_sigterm(api: FakeKubeAPI, kube: KubeClient) -> None:
    health, metrics = _free_port(), _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omnia_operator", "run", "--kube-url", api.url, "--health-port", str(health),
        "--metrics-port", str(metrics), "--log-format", "json",
        env={"OMNIA_OPERATOR_BIND_HOST": "127.0.0.1", "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:

            async def ready() -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{health}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(ready, "/readyz to answer 200")
            await create_all(kube, full_set())
            await eventually(lambda: _exists(kube, kinds.DEPLOYMENT, "support"), "the subprocess operator to deploy")
            async with http.get(f"http://127.0.0.1:{metrics}/metrics") as response:
                text = await response.text()
            assert "controller_runtime_reconcile_total" in text
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT):
            code = await process.wait()
        assert code == 0
        assert process.stderr is not None
        logs = (await process.stderr.read()).decode()
        assert '"msg": "omnia-operator stopped"' in logs
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_operator_converges_through_5xx_faults_dropped_watches_and_410(api: FakeKubeAPI) -> None:
    patient = RetryPolicy(attempts=12, base=0.01, cap=0.1)  # the test's own writes must get through the faults
    async with (
        KubeClient.for_url(api.url) as client,
        KubeClient.for_url(api.url, retry=patient) as kube,
        running(build_manager(client, operator_settings())) as manager,
    ):
        await eventually(lambda: _true(api.watch_count > 0), "the informers to watch")
        api.faults.error_rate = 0.2
        await create_all(kube, [o for o in full_set() if o["kind"] != "Secret"])
        # The Secret informers saw no event since their first list (no Secret yet, no bookmarks), so their
        # resourceVersion predates everything above: after the compaction their resumed watch must get 410.
        secret_informers = [i for i in manager.informers if i.kind.kind == "Secret"]
        assert secret_informers
        lists_before = {id(i): i.lists for i in secret_informers}
        gone_before = _watch_restarts("Secret", "gone")
        api.faults.drop_watches()
        api.compact()  # watches resuming from an old resourceVersion get 410 Gone and must relist
        compacted_at = len(api.request_log)
        await kube.create(kinds.SECRET, secret("openai-key", {"OPENAI_API_KEY": "sk"}))

        async def deployed() -> bool:
            condition = await _condition(kube, "DeploymentReady")
            return bool(condition and condition["status"] == "True")

        await eventually(deployed, "convergence despite faults")
        api.faults.error_rate = 0.0
        assert api.faults.injected > 0
        # The relist really happened: counted by the informers and the metric, and seen by the API.
        assert all(i.lists > lists_before[id(i)] for i in secret_informers)
        assert _watch_restarts("Secret", "gone") > gone_before
        relists = [r for r in api.request_log[compacted_at:] if r.resource == "secrets" and r.verb == "list"]
        assert any(r.status == 200 for r in relists)
        for informer in secret_informers:  # and the cache holds what was created while the watch was gone
            assert informer.get("openai-key", NS) is not None


def _watch_restarts(kind: str, reason: str) -> float:
    value = REGISTRY.get_sample_value("omnia_operator_watch_restarts_total", {"kind": kind, "reason": reason})
    return value or 0.0
