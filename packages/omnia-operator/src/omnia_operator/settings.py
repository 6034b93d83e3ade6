"""Settings of the operator process: environment (OMNIA_OPERATOR_*) overridden by command-line flags."""

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_FACADE_IMAGE = "ghcr.io/altairalabs/omnia-facade:latest"
DEFAULT_RUNTIME_IMAGE = "ghcr.io/altairalabs/omnia-runtime:latest"


class AgentImages(BaseSettings):
    """What the agent pods are built from; also used by `render`, which needs no other setting."""

    model_config = SettingsConfigDict(env_prefix="OMNIA_OPERATOR_", extra="ignore")

    facade_image: str = DEFAULT_FACADE_IMAGE
    runtime_image: str = DEFAULT_RUNTIME_IMAGE
    image_pull_policy: str = "IfNotPresent"
    # Providers referenced from another namespace are refused unless this is on (a Provider may point at a
    # credential Secret its namespace owns; crossing namespaces hands that Secret to another tenant).
    allow_cross_namespace_providers: bool = False

    @field_validator("image_pull_policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if value not in ("Always", "IfNotPresent", "Never"):
            raise ValueError("OMNIA_OPERATOR_IMAGE_PULL_POLICY must be Always, IfNotPresent or Never")
        return value


class OperatorSettings(AgentImages):
    """Everything `omnia-operator run` needs."""

    namespaces: Annotated[list[str], NoDecode] = Field(default_factory=list)  # empty = every namespace
    workers: int = Field(default=10, ge=1, le=64)
    """Concurrent reconciles per kind. A reconcile is ~10 sequential API requests and a worker is a coroutine
    that costs nothing while it waits on them, so with 3 the operator mostly waited on the API (bench/README.md:
    1,000 agents at 2 ms per request converged ~1.6x faster with 10); beyond 10 the gain was marginal (CPU-bound),
    and 10 per kind (40 in flight at most) stays well inside the client's 100-connection pool."""
    leader_elect: bool = False
    leader_election_id: str = "4416a20d.altairalabs.ai"
    leader_election_namespace: str = "omnia-system"
    health_port: int = Field(default=8081, ge=0, le=65535)
    metrics_port: int = Field(default=8080, ge=0, le=65535)
    bind_host: str = "0.0.0.0"
    kubeconfig: str | None = None
    kube_url: str | None = None  # direct API URL (tests, kubectl proxy); overrides kubeconfig
    log_format: str = "json"
    log_level: str = "info"
    shutdown_timeout: float = Field(default=30.0, gt=0, le=600)
    discovery_timeout: float = Field(default=10.0, gt=0, le=120)
    """Seconds one ToolRegistry handler may take to list its tools (MCP tools/list, OpenAPI spec, gRPC ListTools)."""
    rediscovery_interval: float = Field(default=300.0, ge=10, le=86400)
    """Seconds between re-discoveries of a ToolRegistry's self-describing handlers."""

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [n.strip() for n in value.split(",") if n.strip()]
        return value

    @field_validator("log_format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value not in ("json", "text"):
            raise ValueError("OMNIA_OPERATOR_LOG_FORMAT must be json or text")
        return value
