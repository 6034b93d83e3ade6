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


class Rollout(CrdModel):
    type: Literal["immediate", "canary"] = "immediate"
    canary: Canary | None = None


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
    last_updated: str | None = None
    conditions: list[Condition] = Field(default_factory=list)
    observed_generation: int | None = None
