"""PromptPack spec and status."""

from typing import Any, Literal

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


class PromptPackStatus(CrdModel):
    phase: Literal["Pending", "Active", "Canary", "Superseded", "Failed"] | None = None
    active_version: str | None = None
    canary_version: str | None = None
    canary_weight: int | None = None
    traffic_weight_enforced: bool | None = None
    active_snapshot: str | None = None
    canary_snapshot: str | None = None
    canary_started_at: str | None = None
    step_started_at: str | None = None
    paused: bool | None = None
    rolled_back_snapshot: str | None = None
    rollout_message: str | None = None
    agents: list[dict[str, Any]] = Field(default_factory=list)
    last_updated: str | None = None
    conditions: list[Condition] = Field(default_factory=list)
    observed_generation: int | None = None
