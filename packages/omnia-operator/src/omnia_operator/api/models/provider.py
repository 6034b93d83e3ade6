"""Provider spec and status."""

from typing import Literal

from pydantic import Field

from omnia_operator.api.models.base import Condition, CrdModel, SecretKeyRef

ProviderType = Literal[
    "claude",
    "openai",
    "gemini",
    "ollama",
    "mock",
    "vllm",
    "voyageai",
    "cartesia",
    "elevenlabs",
    "imagen",
    "huggingface",
]
ProviderRole = Literal["llm", "embedding", "tts", "stt", "image", "inference"]


class Credential(CrdModel):
    secret_ref: SecretKeyRef | None = None
    env_var: str | None = None
    file_path: str | None = None


class ProviderDefaults(CrdModel):
    temperature: str | None = None
    top_p: str | None = None
    max_tokens: int | None = None
    context_window: int | None = None
    truncation_strategy: Literal["sliding", "summarize", "custom"] = "sliding"
    request_timeout: str | None = None
    stream_idle_timeout: str | None = None


class Pricing(CrdModel):
    input_cost_per1_k: str | None = Field(default=None, alias="inputCostPer1K")
    output_cost_per1_k: str | None = Field(default=None, alias="outputCostPer1K")
    cached_cost_per1_k: str | None = Field(default=None, alias="cachedCostPer1K")


class ProviderSpec(CrdModel):
    type: ProviderType
    role: ProviderRole = "llm"
    model: str | None = None
    base_url: str | None = Field(default=None, alias="baseURL")
    headers: dict[str, str] = Field(default_factory=dict)
    credential: Credential | None = None
    defaults: ProviderDefaults | None = None
    pricing: Pricing | None = None
    capabilities: list[str] = Field(default_factory=list)


class ProviderStatus(CrdModel):
    phase: Literal["Ready", "Error", "Unavailable"] | None = None
    conditions: list[Condition] = Field(default_factory=list)
    observed_generation: int | None = None
