"""AgentRuntime reconcile: the seed's eight steps, level-based and idempotent.

1. get the agent (gone → done); 2. being deleted → drop our finalizer (children go by owner reference);
3. add the finalizer if missing; 4. resolve PromptPack (+ConfigMap), ToolRegistry, Providers (+Secrets),
context store; 5. apply the tools ConfigMap; 6. the Deployment; 7. the Service (+HPA); 8. status with
conditions, and Events for transitions. Every write is preceded by a comparison, so a reconcile that
finds everything in place writes nothing.
"""

import logging
from dataclasses import dataclass
from typing import Any

from omnia_operator.api.models.agentruntime import AgentRollout, AgentRuntimeStatus, Replicas
from omnia_operator.api.models.base import Condition, ObjectMeta
from omnia_operator.api.models.resources import AgentRuntime, parse_agent_runtime, parse_metadata
from omnia_operator.errors import InvalidResourceError
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.reconcile.apply import ChildConflictError, apply_child, delete_if_owned
from omnia_operator.reconcile.child_cache import ChildCache
from omnia_operator.reconcile.conditions import changed_conditions, check_condition, make_condition
from omnia_operator.reconcile.events import EventRecorder
from omnia_operator.reconcile.status_writer import invalid_spec_status, write_status
from omnia_operator.resolve.children import CANARY_SUFFIX
from omnia_operator.resolve.plan import Resolution, resolve_agent
from omnia_operator.resolve.source import ObjectSource
from omnia_operator.settings import AgentImages

logger = logging.getLogger(__name__)

FINALIZER = "agentruntime.omnia.altairalabs.ai/finalizer"
NOT_READY_REQUEUE = 30.0
_CHILD_KINDS = {
    "ConfigMap": kinds.CONFIG_MAP,
    "Deployment": kinds.DEPLOYMENT,
    "Service": kinds.SERVICE,
    "HorizontalPodAutoscaler": kinds.HPA,
    "ScaledObject": kinds.SCALED_OBJECT,
}


@dataclass(frozen=True)
class Outcome:
    """What the controller should do next with the key."""

    requeue_after: float | None = None


class AgentRuntimeReconciler:
    def __init__(
        self, client: KubeClient, source: ObjectSource, images: AgentImages, children: ChildCache | None = None
    ) -> None:
        self._client = client
        self._source = source
        self._children = children
        """Where the children are read first (the operator's informers); None reads them from the API."""
        self._images = images
        self._events = EventRecorder(client)
        self._keda_installed = False
        """Once seen, KEDA's CRD is assumed to stay; a missing one is looked up again on every keda reconcile."""

    async def _keda(self, agent: AgentRuntime) -> bool | None:
        scaling = agent.spec.runtime.autoscaling
        if self._keda_installed or scaling is None or not scaling.enabled or scaling.type != "keda":
            return True if self._keda_installed else None
        try:
            # a list of ScaledObjects answers 404 while KEDA's CRD is missing; the chart's RBAC already allows it
            await self._client.list(kinds.SCALED_OBJECT, agent.namespace)
        except NotFoundError:
            return False
        self._keda_installed = True
        return True

    async def reconcile(self, namespace: str, name: str) -> Outcome:
        try:
            raw = await self._client.get(kinds.AGENT_RUNTIME, name, namespace)
        except NotFoundError:
            return Outcome()
        meta = parse_metadata(raw)
        finalizers = meta.finalizers
        if meta.deletion_timestamp:
            if FINALIZER in finalizers:
                await self._set_finalizers(meta, [f for f in finalizers if f != FINALIZER])
            return Outcome()
        if FINALIZER not in finalizers:
            raw = await self._set_finalizers(meta, [*finalizers, FINALIZER])
        try:
            agent = parse_agent_runtime(raw)
        except InvalidResourceError as e:
            await self._write_status(
                raw, invalid_spec_status(raw, AgentRuntimeStatus, phase="Failed", condition="Ready", message=str(e))
            )
            return Outcome()
        keda = await self._keda(agent)
        resolution = await resolve_agent(agent, self._source, self._images, keda_installed=keda)
        return await self._converge(agent, resolution)

    async def _set_finalizers(self, meta: ObjectMeta, finalizers: list[str]) -> dict[str, Any]:
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta.resource_version or None}}
        return await self._client.patch(kinds.AGENT_RUNTIME, meta.name, patch, namespace=meta.namespace)

    async def _converge(self, agent: AgentRuntime, resolution: Resolution) -> Outcome:
        generation = agent.metadata.generation
        existing = agent.status.conditions
        conditions = [check_condition(existing, t, c, generation) for t, c in resolution.checks.items()]
        conditions.append(
            make_condition(
                existing,
                "FeaturesSupported",
                not resolution.notes,
                "UnsupportedFields" if resolution.notes else "AllSupported",
                "; ".join(resolution.notes) or "every field in the spec is supported",
                generation,
            )
        )
        plan = resolution.plan
        if plan is None:
            blocking = [c for c in resolution.checks.values() if not c.ok and c.reason != "ToolRegistryNotFound"]
            first = blocking[0]
            conditions.extend(
                make_condition(existing, type_, False, "DependenciesNotReady", first.message, generation)
                for type_ in ("DeploymentReady", "ServiceReady")
            )
            conditions.append(make_condition(existing, "Ready", False, first.reason, first.message, generation))
            waits = [c.requeue_after for c in blocking if c.requeue_after is not None]
            status = AgentRuntimeStatus(phase="Failed", conditions=conditions, observed_generation=generation)
            return await self._finish(agent, status, min(waits) if waits else None)
        try:
            deployment = await self._apply_children(agent, resolution)
        except ChildConflictError as e:
            conditions.extend(
                make_condition(existing, type_, False, "NameConflict", str(e), generation)
                for type_ in ("DeploymentReady", "ServiceReady", "Ready")
            )
            status = AgentRuntimeStatus(phase="Failed", conditions=conditions, observed_generation=generation)
            await self._write_status(agent.raw, status)
            return Outcome(NOT_READY_REQUEUE)
        scaling = resolution.autoscaling
        requeue = scaling.requeue_after if scaling is not None and not scaling.ok else None
        replicas = _replicas(deployment)
        ready = replicas.ready > 0
        pods = f"{replicas.ready}/{replicas.desired} pods ready"
        conditions.append(
            make_condition(
                existing, "DeploymentReady", True, "DeploymentApplied", f"Deployment {agent.name}: {pods}", generation
            )
        )
        conditions.append(
            make_condition(
                existing,
                "ServiceReady",
                True,
                "ServiceApplied",
                f"Service {agent.name} serves {plan.service_endpoint}",
                generation,
            )
        )
        conditions.append(
            make_condition(
                existing,
                "Ready",
                ready,
                "RuntimeReady" if ready else "RuntimeNotReady",
                pods + ("" if ready else "; waiting for the agent pods to pass their readiness probes"),
                generation,
            )
        )
        status = AgentRuntimeStatus(
            phase="Running" if ready else "Pending",
            replicas=replicas,
            active_version=plan.pack.version,
            service_endpoint=plan.service_endpoint,
            rollout=AgentRollout.model_validate(plan.rollout) if plan.rollout is not None else None,
            conditions=conditions,
            observed_generation=generation,
        )
        return await self._finish(agent, status, requeue)

    async def _finish(self, agent: AgentRuntime, status: AgentRuntimeStatus, requeue: float | None) -> Outcome:
        """Events for the conditions that changed, then the status (when it differs)."""
        await self._record_transitions(agent.raw, agent.status.conditions, status.conditions)
        await self._write_status(agent.raw, status)
        return Outcome(requeue)

    async def _apply_children(self, agent: AgentRuntime, resolution: Resolution) -> dict[str, Any]:
        plan = resolution.plan
        assert plan is not None
        uid = agent.metadata.uid
        stored: dict[str, dict[str, Any]] = {}
        canary = f"{agent.name}{CANARY_SUFFIX}"
        for child in plan.children:
            applied = await apply_child(self._client, _CHILD_KINDS[child["kind"]], child, uid, self._children)
            stored[canary if child["metadata"]["name"] == canary else child["kind"]] = applied
        if canary not in stored:
            await delete_if_owned(self._client, kinds.DEPLOYMENT, canary, agent.namespace, uid, self._children)
        if "ConfigMap" not in stored:
            tools = f"{agent.name}-tools"
            await delete_if_owned(self._client, kinds.CONFIG_MAP, tools, agent.namespace, uid, self._children)
        if "HorizontalPodAutoscaler" not in stored:
            await delete_if_owned(self._client, kinds.HPA, agent.name, agent.namespace, uid)
        if "ScaledObject" not in stored and self._keda_installed:
            await delete_if_owned(self._client, kinds.SCALED_OBJECT, agent.name, agent.namespace, uid)
        return stored["Deployment"]

    async def _record_transitions(self, raw: dict[str, Any], old: list[Condition], new: list[Condition]) -> None:
        for changed in changed_conditions(old, new):
            if changed.type not in ("Ready", "FeaturesSupported") and changed.status == "True":
                continue
            event_type = "Normal" if changed.status == "True" else "Warning"
            await self._events.record(raw, event_type, changed.reason, changed.message)

    async def _write_status(self, raw: dict[str, Any], status: AgentRuntimeStatus) -> None:
        await write_status(self._client, kinds.AGENT_RUNTIME, raw, status)


def _replicas(deployment: dict[str, Any]) -> Replicas:
    """Pod counts of the applied Deployment (a built-in kind, read from the API's answer)."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    return Replicas(
        desired=int(spec.get("replicas", status.get("replicas", 0)) or 0),
        ready=int(status.get("readyReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
    )
