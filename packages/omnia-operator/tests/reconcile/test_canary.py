"""PromptPack canary rollouts against the fake API: the test drives the clock and plays the kubelet."""

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from manifests import VALID_PACK, full_set  # pyright: ignore[reportMissingImports]
from prometheus_client import REGISTRY

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.reconcile.agentruntime import AgentRuntimeReconciler
from omnia_operator.reconcile.kube_source import KINDS, KubeObjectSource
from omnia_operator.reconcile.promptpack import PromptPackReconciler
from omnia_operator.reconcile.rollout import PAUSE_ANNOTATION
from omnia_operator.settings import AgentImages
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
CANARY = {"type": "canary", "canary": {"weight": 25, "stepWeight": 25, "interval": "5m", "progressDeadline": "2m"}}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


class Rig:
    """The two reconcilers the rollout involves, and the kubelet's part."""

    def __init__(self, kube: KubeClient, clock: Clock) -> None:
        self.kube = kube
        source = KubeObjectSource(kube)
        self.packs = PromptPackReconciler(kube, source, clock=clock)
        self.agents = AgentRuntimeReconciler(kube, source, AgentImages(facade_image="f:1", runtime_image="r:1"))

    async def reconcile(self) -> dict[str, Any]:
        await self.packs.reconcile(NS, "support")
        await self.agents.reconcile(NS, "support")
        return (await self.kube.get(kinds.PROMPT_PACK, "support", NS))["status"]

    async def deployment(self, name: str) -> dict[str, Any] | None:
        try:
            return await self.kube.get(kinds.DEPLOYMENT, name, NS)
        except NotFoundError:
            return None

    async def pods_ready(self, name: str) -> None:
        deployment = await self.kube.get(kinds.DEPLOYMENT, name, NS)
        replicas = deployment["spec"]["replicas"]
        deployment["status"] = {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}
        await self.kube.replace_status(kinds.DEPLOYMENT, deployment)

    async def publish(self, version: str) -> None:
        pack = copy.deepcopy(VALID_PACK)
        pack["version"] = version
        pack["prompts"]["default"]["system_template"] = f"You are support agent {version}."
        config_map = await self.kube.get(kinds.CONFIG_MAP, "support-pack", NS)
        config_map["data"] = {"pack.json": json.dumps(pack)}
        await self.kube.replace(kinds.CONFIG_MAP, config_map)
        await self.kube.patch(kinds.PROMPT_PACK, "support", {"spec": {"version": version}}, namespace=NS)


def mounted_pack(deployment: dict[str, Any]) -> str:
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    return next(v["configMap"]["name"] for v in volumes if v["name"] == "pack")


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"namespace": NS, "promptpack": "support", **labels}) or 0.0


async def start(kube: KubeClient, clock: Clock) -> tuple[Rig, str]:
    for obj in full_set(runtime={"replicas": 4}):
        obj = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k not in ("uid", "generation")}}
        if obj["kind"] == "PromptPack":
            obj["spec"]["rollout"] = CANARY
        await kube.create(KINDS[obj["kind"]], obj)
    rig = Rig(kube, clock)
    status = await rig.reconcile()
    assert status["phase"] == "Active"
    stable = await rig.deployment("support")
    assert stable is not None
    assert mounted_pack(stable) == status["activeSnapshot"]
    await rig.pods_ready("support")
    return rig, status["activeSnapshot"]


async def test_canary_moves_traffic_step_by_step_and_promotes(api: FakeKubeAPI, kube: KubeClient) -> None:
    clock = Clock()
    rig, v1 = await start(kube, clock)
    promotions = metric("omnia_rollout_promotions_total")
    await rig.publish("1.1.0")
    status = await rig.reconcile()
    assert status["phase"] == "Canary"
    assert (status["activeVersion"], status["canaryVersion"], status["canaryWeight"]) == ("1.0.0", "1.1.0", 25)
    assert status["trafficWeightEnforced"] is False
    v2 = status["canarySnapshot"]
    assert v2 != v1
    assert status["activeSnapshot"] == v1
    assert metric("omnia_rollout_active") == 1
    expected_split = {25: (3, 1), 50: (2, 2), 75: (1, 3)}
    for weight in (25, 50, 75):
        stable, canary = await rig.deployment("support"), await rig.deployment("support-canary")
        assert stable is not None
        assert canary is not None
        assert (mounted_pack(stable), mounted_pack(canary)) == (v1, v2), "stable pods keep the version they run"
        assert (stable["spec"]["replicas"], canary["spec"]["replicas"]) == expected_split[weight]
        assert canary["spec"]["selector"]["matchLabels"]["omnia.altairalabs.ai/track"] == "canary"
        agent = await kube.get(kinds.AGENT_RUNTIME, "support", NS)
        assert agent["status"]["rollout"]["currentWeight"] == weight
        assert agent["status"]["rollout"]["approximateWeight"] == weight
        assert agent["status"]["rollout"]["trafficWeightEnforced"] is False
        assert metric("omnia_rollout_traffic_weight") == weight
        await rig.pods_ready("support-canary")
        clock.advance(4)
        assert (await rig.reconcile())["canaryWeight"] == weight, "no step before the interval"
        clock.advance(1)
        status = await rig.reconcile()
    assert status["phase"] == "Active"
    assert (status["activeVersion"], status["activeSnapshot"]) == ("1.1.0", v2)
    assert "canaryVersion" not in status
    assert "canarySnapshot" not in status
    assert await rig.deployment("support-canary") is None
    stable = await rig.deployment("support")
    assert stable is not None
    assert (mounted_pack(stable), stable["spec"]["replicas"]) == (v2, 4)
    service = await kube.get(kinds.SERVICE, "support", NS)
    assert "omnia.altairalabs.ai/track" not in service["spec"]["selector"]
    assert metric("omnia_rollout_promotions_total") == promotions + 1
    assert metric("omnia_rollout_active") == 0
    await kube.get(kinds.CONFIG_MAP, v1, NS)  # old snapshot still there for pods that still mount it


async def test_candidate_pods_never_ready_roll_back_automatically_with_the_reason(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    clock = Clock()
    rig, v1 = await start(kube, clock)
    rollbacks = metric("omnia_rollout_rollbacks_total", reason="pod_unhealthy")
    await rig.publish("1.1.0")
    status = await rig.reconcile()
    v2 = status["canarySnapshot"]
    assert await rig.deployment("support-canary") is not None
    clock.advance(1)
    status = await rig.reconcile()
    assert status["phase"] == "Canary"
    assert "waiting for ready pods (support)" in status["rolloutMessage"]
    clock.advance(1.5)
    status = await rig.reconcile()
    assert status["phase"] == "Active"
    assert (status["activeVersion"], status["activeSnapshot"], status["rolledBackSnapshot"]) == ("1.0.0", v1, v2)
    assert "not ready within 2m" in status["rolloutMessage"]
    assert "support" in status["rolloutMessage"]
    assert await rig.deployment("support-canary") is None
    stable = await rig.deployment("support")
    assert stable is not None
    assert mounted_pack(stable) == v1
    assert stable["spec"]["replicas"] == 4
    assert metric("omnia_rollout_rollbacks_total", reason="pod_unhealthy") == rollbacks + 1
    events = [e for e in api.request_log if e.resource == "events" and e.verb == "create"]
    assert events, "the rollback is reported as an Event"
    clock.advance(10)
    assert (await rig.reconcile())["phase"] == "Active", "the rolled-back version is not retried"
    await rig.publish("1.2.0")
    status = await rig.reconcile()
    assert (status["phase"], status["canaryVersion"]) == ("Canary", "1.2.0")


PAUSES = {
    "annotation": (
        {"metadata": {"annotations": {PAUSE_ANNOTATION: "true"}}},
        {"metadata": {"annotations": {PAUSE_ANNOTATION: None}}},
    ),
    "spec field": ({"spec": {"rollout": {"paused": True}}}, {"spec": {"rollout": {"paused": False}}}),
}


@pytest.mark.parametrize("how", PAUSES)
async def test_paused_canary_holds_its_weight_until_resumed(api: FakeKubeAPI, kube: KubeClient, how: str) -> None:
    pause, resume = PAUSES[how]
    clock = Clock()
    rig, _ = await start(kube, clock)
    await rig.publish("1.1.0")
    await rig.reconcile()
    await rig.pods_ready("support-canary")
    await kube.patch(kinds.PROMPT_PACK, "support", pause, namespace=NS)
    clock.advance(30)
    status = await rig.reconcile()
    assert (status["canaryWeight"], status["paused"]) == (25, True)
    await kube.patch(kinds.PROMPT_PACK, "support", resume, namespace=NS)
    status = await rig.reconcile()
    assert status["canaryWeight"] == 25
    assert "resumed" in status["rolloutMessage"]
    clock.advance(5)
    assert (await rig.reconcile())["canaryWeight"] == 50


async def test_immediate_rollout_moves_agents_to_the_new_version_at_once(api: FakeKubeAPI, kube: KubeClient) -> None:
    clock = Clock()
    rig, v1 = await start(kube, clock)
    await kube.patch(kinds.PROMPT_PACK, "support", {"spec": {"rollout": {"type": "immediate"}}}, namespace=NS)
    await rig.publish("1.1.0")
    status = await rig.reconcile()
    assert (status["phase"], status["activeVersion"]) == ("Active", "1.1.0")
    stable = await rig.deployment("support")
    assert stable is not None
    assert mounted_pack(stable) == status["activeSnapshot"] != v1
    assert await rig.deployment("support-canary") is None


async def test_old_snapshots_are_pruned_but_the_active_one_stays(api: FakeKubeAPI, kube: KubeClient) -> None:
    clock = Clock()
    rig, v1 = await start(kube, clock)
    await kube.patch(kinds.PROMPT_PACK, "support", {"spec": {"rollout": {"type": "immediate"}}}, namespace=NS)
    for minor in range(1, 6):
        await rig.publish(f"1.{minor}.0")
        await rig.reconcile()
    status = (await kube.get(kinds.PROMPT_PACK, "support", NS))["status"]
    assert status["activeVersion"] == "1.5.0"
    snapshots = await kube.list(kinds.CONFIG_MAP, NS, label_selector="omnia.altairalabs.ai/pack-snapshot=true")
    names = {cm["metadata"]["name"] for cm in snapshots.items}
    assert len(names) == 3
    assert status["activeSnapshot"] in names
    assert v1 not in names
