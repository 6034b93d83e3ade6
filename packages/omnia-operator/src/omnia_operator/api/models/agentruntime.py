"""AgentRuntime spec and status."""

from typing import Any, Literal

from pydantic import Field

from omnia_operator.api.models.base import Condition, CrdModel, LocalRef, NamespacedRef


class PromptPackRef(CrdModel):
    name: str
    version: str | None = None
    track: Literal["stable", "prerelease"] | None = None


class Facade(CrdModel):
    type: Literal["websocket", "a2a", "rest", "mcp", "custom"] = "websocket"
    port: int = 8080
    handler: Literal["runtime", "demo", "echo"] = "runtime"
    image: str | None = None
    extra_env: list[dict[str, Any]] = Field(default_factory=list)
    drain_timeout: str = "30s"
    client_tool_timeout: str = "60s"


class ProviderBinding(CrdModel):
    name: str
    provider_ref: NamespacedRef
    role: Literal["llm", "embedding", "tts", "stt", "image", "inference"] = "llm"
    required_capabilities: list[str] = Field(default_factory=list)


class ContextStore(CrdModel):
    type: Literal["memory", "redis"] = "memory"
    store_ref: LocalRef | None = None
    ttl: str = "24h"


class Autoscaling(CrdModel):
    enabled: bool = False
    type: Literal["hpa", "keda"] = "hpa"
    min_replicas: int = 1
    max_replicas: int = 100
    target_memory_utilization_percentage: int = 70
    target_cpu_utilization_percentage: int = Field(default=90, alias="targetCPUUtilizationPercentage")
    scale_down_stabilization_seconds: int = 300


class RuntimeSettings(CrdModel):
    replicas: int = 1
    resources: dict[str, Any] | None = None
    node_selector: dict[str, str] | None = None
    tolerations: list[dict[str, Any]] | None = None
    affinity: dict[str, Any] | None = None
    volumes: list[dict[str, Any]] = Field(default_factory=list)
    volume_mounts: list[dict[str, Any]] = Field(default_factory=list)
    extra_env: list[dict[str, Any]] = Field(default_factory=list)
    autoscaling: Autoscaling | None = None


class LocalStorage(CrdModel):
    base_path: str = "/var/lib/omnia/media"
    volume_claim: str | None = None


class MediaStorage(CrdModel):
    type: Literal["none", "local"] = "none"
    local: LocalStorage | None = None
    max_file_size_bytes: int | None = None
    default_ttl: str | None = Field(default=None, alias="defaultTTL")
    upload_url_ttl: str | None = Field(default=None, alias="uploadURLTTL")
    download_url_ttl: str | None = Field(default=None, alias="downloadURLTTL")


class Media(CrdModel):
    base_path: str = "/etc/omnia/media"
    storage: MediaStorage | None = None


class Framework(CrdModel):
    type: Literal["promptkit", "langchain", "custom"] = "promptkit"
    version: str | None = None
    image: str | None = None


class Memory(CrdModel):
    enabled: bool = False


class AgentRuntimeSpec(CrdModel):
    mode: Literal["agent", "function"] = "agent"
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    output_format: str | None = None
    framework: Framework | None = None
    prompt_pack_ref: PromptPackRef
    facades: list[Facade]
    tool_registry_ref: NamespacedRef | None = None
    providers: list[ProviderBinding] = Field(default_factory=list)
    context: ContextStore = Field(default_factory=ContextStore)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    media: Media | None = None
    memory: Memory | None = None
    extra_pod_annotations: dict[str, str] = Field(default_factory=dict)


class Replicas(CrdModel):
    desired: int = 0
    ready: int = 0
    available: int = 0


class AgentRollout(CrdModel):
    """status.rollout while a canary of the agent's PromptPack runs."""

    active: bool | None = None
    stable_version: str | None = None
    candidate_version: str | None = None
    current_weight: int | None = None
    approximate_weight: int | None = None
    traffic_weight_enforced: bool | None = None
    traffic_routing_mode: str | None = None
    message: str | None = None


class AgentRuntimeStatus(CrdModel):
    phase: Literal["Pending", "Running", "Failed"] | None = None
    replicas: Replicas | None = None
    active_version: str | None = None
    service_endpoint: str | None = None
    rollout: AgentRollout | None = None
    conditions: list[Condition] = Field(default_factory=list)
    observed_generation: int | None = None
