"""PromptPack reconcile: validate pack.json, snapshot each version, drive the rollout (see rollout.py).

The ConfigMap must exist and hold a pack.json that passes the runtime's validation (the checks of
`omnia-runtime validate-pack`, see resolve/pack_checks.py): structural problems fail the pack
(`SchemaValid=False`, phase Failed); authoring warnings (undefined tools, undeclared variables, unenforced
validators) leave it Active with `Linted=False/AuthoringWarnings` and one Warning Event per new set of
warnings. Each valid content is
copied into an immutable snapshot ConfigMap `<pack>-<sha256[:10]>` owned by the PromptPack; the status says
which snapshot is active and which one is the canary. Agents that use the pack are requeued by the
PromptPack watch mapping (see mapping.py), and candidate Deployments requeue their pack, so a rollout
advances as soon as its pods are ready.
"""

from collections.abc import Sequence
from typing import Any, Literal

from omnia_operator.api.models.base import Condition
from omnia_operator.api.models.promptpack import PackAgentRollout, PackRollout, PromptPackStatus
from omnia_operator.api.models.resources import parse_prompt_pack
from omnia_operator.errors import InvalidResourceError
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.reconcile.agentruntime import Outcome
from omnia_operator.reconcile.apply import apply_child, delete_if_owned, owned_by
from omnia_operator.reconcile.conditions import make_condition, now
from omnia_operator.reconcile.events import EventRecorder
from omnia_operator.reconcile.rollout import CandidateHealth, Clock, advance, utc_now
from omnia_operator.reconcile.status_writer import invalid_spec_status, write_status
from omnia_operator.resolve.children import CANARY_SUFFIX
from omnia_operator.resolve.pack_checks import MAX_LISTED, MESSAGE_LISTED, summarize
from omnia_operator.resolve.promptpacks import PACK_KEY, PackContent, load_pack_content, pack_name
from omnia_operator.resolve.source import ObjectSource

PACK_LABEL = "omnia.altairalabs.ai/promptpack"
_SOURCE_REASONS = ("SourceInvalid", "ConfigMapNotFound", "PackJsonMissing")


SNAPSHOT_LABEL = "omnia.altairalabs.ai/pack-snapshot"
KEEP_SNAPSHOTS = 3

LINTED = "Linted"
LINT_CLEAN_REASON = "NoAuthoringWarnings"
LINT_WARNINGS_REASON = "AuthoringWarnings"
MAX_EVENT_MESSAGE = 1000


def linted_condition(existing: Sequence[Condition], content: PackContent, generation: int) -> Condition:
    """`Linted`: the authoring warnings of validate-pack on a pack that is served (phase stays Active)."""
    if not content.warnings:
        message = f"validate-pack reports no authoring warning for version {content.version}"
        return make_condition(existing, LINTED, True, LINT_CLEAN_REASON, message, generation)
    message = (
        f"{len(content.warnings)} authoring warning(s) in version {content.version}; the pack is served anyway "
        "(a ToolRegistry may provide the tools and variables may be filled at run time), fix them if they are "
        f"mistakes: {summarize(content.warnings, MESSAGE_LISTED)}"
    )
    return make_condition(existing, LINTED, False, LINT_WARNINGS_REASON, message, generation)


def authoring_warning_event(
    old: Sequence[Condition], new: Sequence[Condition], content: PackContent | None
) -> str | None:
    """The Warning Event's message when the Linted condition newly reports warnings (or other ones), else None:
    an unchanged pack records no Event on each resync."""
    current = next((c for c in new if c.type == LINTED), None)
    if content is None or current is None or current.status != "False":
        return None
    previous = next((c for c in old if c.type == LINTED), None)
    if previous is not None and previous.status == "False" and previous.message == current.message:
        return None
    message = (
        f"pack.json version {content.version} has {len(content.warnings)} authoring warning(s), served anyway: "
        f"{summarize(content.warnings, MAX_LISTED)}"
    )
    return message[:MAX_EVENT_MESSAGE]


def snapshot_name(pack_object: str, content: PackContent) -> str:
    return f"{pack_object}-{content.digest[:10]}"


def snapshot_config_map(raw: dict[str, Any], logical: str, content: PackContent) -> dict[str, Any]:
    meta = raw["metadata"]
    owner = {
        "apiVersion": raw["apiVersion"],
        "kind": "PromptPack",
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": snapshot_name(meta["name"], content),
            "namespace": meta["namespace"],
            "labels": {PACK_LABEL: logical, SNAPSHOT_LABEL: "true", "app.kubernetes.io/managed-by": "omnia-operator"},
            "annotations": {"omnia.altairalabs.ai/version": content.version},
            "ownerReferences": [owner],
        },
        "immutable": True,
        "data": {PACK_KEY: content.text},
    }


def _creation_order(config_map: dict[str, Any]) -> tuple[str, int]:
    """Creation time, then resourceVersion (an immutable ConfigMap keeps the revision it was created at)."""
    meta = config_map["metadata"]
    version = str(meta.get("resourceVersion") or "")
    return meta.get("creationTimestamp") or "", int(version) if version.isdigit() else 0


class PromptPackReconciler:
    def __init__(self, client: KubeClient, source: ObjectSource, *, clock: Clock = utc_now) -> None:
        self._client = client
        self._source = source
        self._clock = clock
        self._events = EventRecorder(client)

    async def _prune_snapshots(self, namespace: str, logical: str, uid: str, status: PackRollout) -> None:
        """Delete this pack's snapshots beyond the newest KEEP_SNAPSHOTS, never one the status refers to
        (pods of a Deployment's previous ReplicaSet may still mount the last few during a rolling update).

        Only the snapshots labelled with this pack's logical name are listed (listing every snapshot of the
        namespace for each pack made the work grow with the number of packs); snapshots made under an
        earlier packName are left to the garbage collector, which deletes them with the PromptPack."""
        selector = f"{SNAPSHOT_LABEL}=true,{PACK_LABEL}={logical}"
        listed = await self._client.list(kinds.CONFIG_MAP, namespace, label_selector=selector)
        ours = [cm for cm in listed.items if owned_by(cm, uid)]
        ours.sort(key=_creation_order, reverse=True)
        keep = set(_snapshots(status))
        for cm in ours[KEEP_SNAPSHOTS:]:
            name = cm["metadata"]["name"]
            if name not in keep:
                await delete_if_owned(self._client, kinds.CONFIG_MAP, name, namespace, uid)

    async def _candidate_health(self, namespace: str, logical: str) -> CandidateHealth:
        agents = await self._client.list(kinds.AGENT_RUNTIME, namespace)
        health: dict[str, tuple[int, int] | None] = {}
        for agent in agents.items:
            if ((agent.get("spec") or {}).get("promptPackRef") or {}).get("name") != logical:
                continue
            name = agent["metadata"]["name"]
            try:
                deployment = await self._client.get(kinds.DEPLOYMENT, f"{name}{CANARY_SUFFIX}", namespace)
            except NotFoundError:
                health[name] = None
                continue
            desired = int((deployment.get("spec") or {}).get("replicas") or 0)
            ready = int((deployment.get("status") or {}).get("readyReplicas") or 0)
            health[name] = (desired, ready)
        return CandidateHealth(health)

    async def reconcile(self, namespace: str, name: str) -> Outcome:
        try:
            raw = await self._client.get(kinds.PROMPT_PACK, name, namespace)
        except NotFoundError:
            return Outcome()
        try:
            pack = parse_prompt_pack(raw)
        except InvalidResourceError as e:
            invalid = invalid_spec_status(
                raw, PromptPackStatus, phase="Failed", condition="SchemaValid", message=str(e)
            )
            await write_status(self._client, kinds.PROMPT_PACK, raw, invalid)
            return Outcome()
        generation = pack.metadata.generation
        old = pack.status
        existing = old.conditions
        logical = pack_name(pack)
        if pack.metadata.labels.get(PACK_LABEL) != logical:
            patch = {"metadata": {"labels": {PACK_LABEL: logical}}}
            raw = await self._client.patch(kinds.PROMPT_PACK, name, patch, namespace=namespace)
        content, check = await load_pack_content(pack, self._source)
        source_ok = content is not None or check.reason not in _SOURCE_REASONS
        conditions = [
            make_condition(
                existing,
                "SourceValid",
                source_ok,
                "SourceFound" if source_ok else check.reason,
                "ConfigMap holds pack.json" if source_ok else check.message,
                generation,
            ),
            make_condition(
                existing,
                "SchemaValid",
                content is not None,
                "PackValid" if content is not None else ("SourceInvalid" if not source_ok else check.reason),
                check.message,
                generation,
            ),
        ]
        if content is not None:
            conditions.append(linted_condition(existing, content, generation))
        if pack.spec.skills:
            conditions.append(
                make_condition(
                    existing,
                    "SkillsResolved",
                    False,
                    "SkillsNotSupported",
                    "spec.skills is not supported yet: the pack runs without skills",
                    generation,
                )
            )
        requeue = check.requeue_after
        event: tuple[str, str, str] | None = None
        if content is not None:
            snapshot = await apply_child(
                self._client, kinds.CONFIG_MAP, snapshot_config_map(raw, logical, content), pack.metadata.uid
            )
            snapshot_name = snapshot["metadata"]["name"]
            # only a running canary looks at candidate pods (a pack reconcile otherwise costs no extra reads)
            running = old.canary_snapshot == snapshot_name
            health = await self._candidate_health(namespace, logical) if running else CandidateHealth()
            step = advance(pack, old, snapshot_name, health, self._clock)
            requeue, event = step.requeue_after, step.event
            status = _served_status(step.rollout, health, generation, conditions)
        else:
            # a broken new version keeps the agents on the snapshot they run
            kept = PackRollout(active_snapshot=old.active_snapshot or None, active_version=old.active_version or None)
            status = _status(kept, phase="Failed", generation=generation, conditions=conditions)
        status = status.model_copy(update={"last_updated": _last_updated(old, status)})
        await write_status(self._client, kinds.PROMPT_PACK, raw, status)
        if content is not None and _snapshots(status) != _snapshots(old):
            await self._prune_snapshots(namespace, logical, pack.metadata.uid, status)
        if event is not None:
            await self._events.record(raw, *event)
        warning = authoring_warning_event(existing, conditions, content)
        if warning is not None:
            await self._events.record(raw, "Warning", LINT_WARNINGS_REASON, warning)
        return Outcome(requeue)


def _snapshots(rollout: PackRollout) -> tuple[str | None, str | None, str | None]:
    """The snapshots a status refers to (they are not pruned): active, canary, rolled back."""
    return rollout.active_snapshot, rollout.canary_snapshot, rollout.rolled_back_snapshot


def _status(
    rollout: PackRollout,
    *,
    phase: Literal["Active", "Canary", "Failed"],
    generation: int,
    conditions: list[Condition],
    agents: list[PackAgentRollout] | None = None,
) -> PromptPackStatus:
    """The status: the rollout state as `advance` left it, with the verdict of this reconcile."""
    return PromptPackStatus(
        **rollout.model_dump(exclude_none=True),
        phase=phase,
        traffic_weight_enforced=False if agents is not None else None,
        agents=agents,
        observed_generation=generation,
        conditions=conditions,
    )


def _served_status(
    rollout: PackRollout, health: CandidateHealth, generation: int, conditions: list[Condition]
) -> PromptPackStatus:
    """Status of a valid pack: Active, or Canary with one entry per agent while a canary runs."""
    if rollout.canary_snapshot is None:
        return _status(rollout, phase="Active", generation=generation, conditions=conditions)
    agents = [
        PackAgentRollout(
            name=agent,
            state="Canary" if counts is not None else "Waiting",
            canary_replicas=counts[0] if counts else 0,
            canary_ready_replicas=counts[1] if counts else 0,
        )
        for agent, counts in sorted(health.agents.items())
    ]
    return _status(rollout, phase="Canary", generation=generation, conditions=conditions, agents=agents)


def _last_updated(old: PromptPackStatus, new: PromptPackStatus) -> str:
    """The stored lastUpdated when nothing else in the status changed (so a resync writes nothing), else now."""
    unchanged = old.model_copy(update={"last_updated": None}).dump() == new.dump()
    return old.last_updated if unchanged and old.last_updated is not None else now()
