"""PromptPack spec and status."""

from typing import Literal

from pydantic import Field

from omnia_operator.api.models.base import Condition, CrdModel, LocalRef


class PackSource(CrdModel):
    type: Literal["configmap"]
    config_map_ref: LocalRef | None = None


class Canary(CrdModel):
    weight: int = 10
    step_weight: int = 10
    interval: str = "5m"
    progress_deadline: str = "10m"


class Rollout(CrdModel):
    type: Literal["immediate", "canary"] = "immediate"
    canary: Canary | None = None
    paused: bool = False


class SkillRef(CrdModel):
    source: str
    include: list[str] = Field(default_factory=list)
    mount_as: str | None = None


class PromptPackSpec(CrdModel):
    pack_name: str | None = None
    version: str
    source: PackSource
    rollout: Rollout | None = None
    skills: list[SkillRef] = Field(default_factory=list)


class PackRollout(CrdModel):
    """The rollout state of a pack (fields of its status, see reconcile/rollout.py): which snapshot agents
    run, which one is the canary and at what weight. The state machine reads and returns only this part."""

    active_version: str | None = None
    canary_version: str | None = None
    canary_weight: int | None = None
    active_snapshot: str | None = None
    canary_snapshot: str | None = None
    canary_started_at: str | None = None
    step_started_at: str | None = None
    paused: bool | None = None
    rolled_back_snapshot: str | None = None
    rollout_message: str | None = None


class PackAgentRollout(CrdModel):
    """One entry of status.agents while a canary runs: an agent using the pack and its candidate pods."""

    name: str
    state: Literal["Stable", "Canary", "Waiting"]
    canary_replicas: int | None = None
    canary_ready_replicas: int | None = None


class PromptPackStatus(PackRollout):
    phase: Literal["Pending", "Active", "Canary", "Superseded", "Failed"] | None = None
    traffic_weight_enforced: bool | None = None
    agents: list[PackAgentRollout] | None = None
    """None (omitted) unless a canary runs; an empty list is a canary no agent uses yet."""
    last_updated: str | None = None
    conditions: list[Condition] = Field(default_factory=list)
    observed_generation: int | None = None
