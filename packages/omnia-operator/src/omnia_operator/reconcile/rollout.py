"""The PromptPack rollout state machine: which version is stable, which is the canary, at what weight.

State lives in the PromptPack status (activeSnapshot/activeVersion, canarySnapshot/canaryVersion/canaryWeight,
stepStartedAt, rolledBackSnapshot), so the operator can restart at any point; `advance` reads and returns
that part of the status as a `PackRollout` model. Every version the operator sees
is an immutable snapshot ConfigMap; agents mount snapshots, never the user's ConfigMap, so stable pods keep
the version they run while the next one rolls out. The AgentRuntime reconcile turns this state into a
`<agent>-canary` Deployment and a replica split (resolve/plan.py).

- immediate (or no rollout): the new snapshot becomes active at once.
- canary: the new snapshot starts at `weight`; after every `interval` in which all candidate Deployments
  were ready, the weight grows by `stepWeight`; at 100 it becomes active and the candidates go away.
- candidate pods not ready within `progressDeadline` of a step: automatic rollback to the active snapshot;
  that snapshot is not retried until the pack content changes again.
- paused (spec.rollout.paused or the annotation): the weight holds; the deadline does not run either.

Time comes from an injected clock so tests drive the steps.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from omnia_operator.api.models.promptpack import PackRollout
from omnia_operator.api.models.resources import PromptPack
from omnia_operator.reconcile import rollout_metrics as metrics
from omnia_operator.resolve.durations import parse_duration

PAUSE_ANNOTATION = "omnia.altairalabs.ai/rollout-paused"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class CandidateHealth:
    """Candidate Deployments of the agents using the pack: agent → (desired, ready)."""

    agents: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    """None: the agent has no canary Deployment yet."""

    @property
    def ready(self) -> bool:
        return all(v is not None and v[0] > 0 and v[1] >= v[0] for v in self.agents.values())

    def not_ready(self) -> list[str]:
        return sorted(name for name, v in self.agents.items() if v is None or v[1] < v[0] or v[0] == 0)


@dataclass
class RolloutStep:
    """The rollout part of the status, and when to look again."""

    rollout: PackRollout
    requeue_after: float | None = None
    event: tuple[str, str, str] | None = None
    """(type, reason, message) worth an Event."""


def is_paused(pack: PromptPack) -> bool:
    rollout = pack.spec.rollout
    return bool(rollout and rollout.paused) or pack.metadata.annotations.get(PAUSE_ANNOTATION) == "true"


def _running_canary(old: PackRollout) -> PackRollout:
    """The stable snapshot and the canary in progress, as they are (no pause, no message, no rollback)."""
    return PackRollout(
        active_snapshot=old.active_snapshot,
        active_version=old.active_version,
        canary_snapshot=old.canary_snapshot,
        canary_version=old.canary_version,
        canary_weight=old.canary_weight,
        canary_started_at=old.canary_started_at,
        step_started_at=old.step_started_at,
    )


def advance(pack: PromptPack, old: PackRollout, snapshot: str, health: CandidateHealth, clock: Clock) -> RolloutStep:
    """The next rollout state for the pack whose current content is `snapshot`."""
    ns, name = pack.namespace, pack.name
    version = pack.spec.version
    active = old.active_snapshot
    rollout = pack.spec.rollout
    if active is None or active == snapshot or rollout is None or rollout.type == "immediate":
        was_canary = old.canary_snapshot == snapshot and active != snapshot
        switched = active is not None and active != snapshot
        metrics.ended(ns, name)
        message = f"version {version} is active" + (" (promoted)" if was_canary else "")
        return RolloutStep(
            PackRollout(
                active_snapshot=snapshot,
                active_version=version,
                rolled_back_snapshot=None if switched else old.rolled_back_snapshot or None,
                rollout_message=message if switched else old.rollout_message or None,
            )
        )
    if old.rolled_back_snapshot == snapshot:
        metrics.ended(ns, name)
        kept = PackRollout(
            active_snapshot=active,
            active_version=old.active_version,
            rolled_back_snapshot=snapshot,
            rollout_message=old.rollout_message or None,
        )
        return RolloutStep(kept)
    canary = rollout.canary
    assert canary is not None  # the CRD requires it for type canary
    now = clock()
    interval = parse_duration(canary.interval)
    deadline = parse_duration(canary.progress_deadline)
    if old.canary_snapshot != snapshot:
        weight = min(canary.weight, 100)
        metrics.step(ns, name, weight)
        message = f"canary of version {version} started at {weight}%"
        started = PackRollout(
            active_snapshot=active,
            active_version=old.active_version,
            canary_snapshot=snapshot,
            canary_version=version,
            canary_weight=weight,
            canary_started_at=stamp(now),
            step_started_at=stamp(now),
            rollout_message=message,
        )
        return RolloutStep(started, min(interval, deadline), ("Normal", "CanaryStarted", message))
    weight = old.canary_weight or 0
    step_started = _parse(old.step_started_at) or now
    elapsed = (now - step_started).total_seconds()
    current = _running_canary(old)
    if is_paused(pack):
        metrics.step(ns, name, weight, transition=False)
        message = f"canary of version {version} paused at {weight}%; remove the pause to continue"
        return RolloutStep(current.model_copy(update={"paused": True, "rollout_message": message}))
    if old.paused:
        # resumed: the interval and the deadline start over, so a long pause does not count as waiting
        message = f"canary of version {version} resumed at {weight}%"
        resumed = current.model_copy(update={"step_started_at": stamp(now), "rollout_message": message})
        return RolloutStep(resumed, min(interval, deadline))
    if not health.ready:
        if elapsed >= deadline:
            waiting = ", ".join(health.not_ready())
            message = (
                f"version {version} rolled back: canary pods of {waiting} were not ready within "
                f"{canary.progress_deadline}; fix the pack or the pods and publish a new version"
            )
            metrics.rolled_back(ns, name, "pod_unhealthy")
            rolled_back = PackRollout(
                active_snapshot=active,
                active_version=old.active_version,
                rolled_back_snapshot=snapshot,
                rollout_message=message,
            )
            return RolloutStep(rolled_back, None, ("Warning", "RolloutRolledBack", message))
        message = f"canary of version {version} at {weight}%: waiting for ready pods ({', '.join(health.not_ready())})"
        return RolloutStep(current.model_copy(update={"rollout_message": message}), max(deadline - elapsed, 1.0))
    if elapsed < interval:
        message = f"canary of version {version} at {weight}%"
        metrics.step(ns, name, weight, transition=False)
        return RolloutStep(current.model_copy(update={"rollout_message": message}), max(interval - elapsed, 1.0))
    weight = min(weight + canary.step_weight, 100)
    if weight >= 100:
        metrics.promoted(ns, name)
        message = f"version {version} promoted: every agent runs it"
        promoted = PackRollout(active_snapshot=snapshot, active_version=version, rollout_message=message)
        return RolloutStep(promoted, None, ("Normal", "RolloutPromoted", message))
    metrics.step(ns, name, weight)
    message = f"canary of version {version} at {weight}%"
    stepped = current.model_copy(
        update={"canary_weight": weight, "step_started_at": stamp(now), "rollout_message": message}
    )
    return RolloutStep(stepped, min(interval, deadline))
