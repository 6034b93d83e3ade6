"""The operator loop against the fake API: an agent whose PromptPack object does not exist yet waits with
PromptPackReady=False, and becomes Ready once the PromptPack is created, without restarting the operator
(the PromptPack watch maps the new object to the agents that name it)."""

from typing import Any

from manifests import full_set  # pyright: ignore[reportMissingImports]
from operator_loop import create_all, eventually, running_operator  # pyright: ignore[reportMissingImports]

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"


async def _agent_condition(kube: KubeClient, type_: str) -> dict[str, Any] | None:
    try:
        agent = await kube.get(kinds.AGENT_RUNTIME, "support", NS)
    except NotFoundError:
        return None
    return next((c for c in (agent.get("status") or {}).get("conditions") or [] if c["type"] == type_), None)


async def _has_deployment(kube: KubeClient) -> bool:
    try:
        await kube.get(kinds.DEPLOYMENT, "support", NS)
    except NotFoundError:
        return False
    return True


async def test_agent_waiting_for_a_missing_promptpack_gets_ready_when_it_is_created(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    objects = full_set()
    pack = next(o for o in objects if o["kind"] == "PromptPack")
    async with running_operator(api):
        for obj in objects:
            if obj is not pack:
                await create_all(kube, [obj])

        async def waiting_for_pack() -> bool:
            condition = await _agent_condition(kube, "PromptPackReady")
            return bool(condition and (condition["status"], condition["reason"]) == ("False", "PromptPackNotFound"))

        await eventually(waiting_for_pack, "PromptPackReady=False/PromptPackNotFound while the PromptPack is missing")
        assert not await _has_deployment(kube), "no Deployment may be built without a pack"

        await create_all(kube, [pack])

        async def pack_ready() -> bool:
            condition = await _agent_condition(kube, "PromptPackReady")
            return bool(condition and condition["status"] == "True") and await _has_deployment(kube)

        await eventually(pack_ready, "PromptPackReady=True and the Deployment once the PromptPack exists")
        deployment = await kube.get(kinds.DEPLOYMENT, "support", NS)
        deployment["status"] = {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}
        await kube.replace_status(kinds.DEPLOYMENT, deployment)

        async def ready() -> bool:
            condition = await _agent_condition(kube, "Ready")
            return bool(condition and condition["status"] == "True")

        await eventually(ready, "Ready=True after the PromptPack appeared and the pod became ready")
        stored_pack = await kube.get(kinds.PROMPT_PACK, "support", NS)
        assert stored_pack["status"]["phase"] == "Active"
        agent = await kube.get(kinds.AGENT_RUNTIME, "support", NS)
        assert agent["status"]["activeVersion"] == "1.0.0"
