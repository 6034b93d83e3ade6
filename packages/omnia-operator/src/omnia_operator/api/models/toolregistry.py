"""ToolRegistry spec and status."""

from typing import Any, Literal

from pydantic import Field

from omnia_operator.api.models.base import Condition, CrdModel, SecretKeyRef


class ToolDefinition(CrdModel):
    name: str
    description: str
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None


class RetryPolicy(CrdModel):
    max_attempts: int
    initial_backoff: str = "100ms"
    backoff_multiplier: str = "2.0"
    max_backoff: str = "30s"


class HttpRetryPolicy(RetryPolicy):
    retry_on: list[int] | None = None
    retry_on_network_error: bool = True
    respect_retry_after: bool = True


class GrpcRetryPolicy(RetryPolicy):
    retryable_status_codes: list[str] | None = None


class HttpConfig(CrdModel):
    endpoint: str
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    content_type: str = "application/json"
    query_params: list[str] | None = None
    header_params: dict[str, str] | None = None
    static_query: dict[str, str] | None = None
    static_body: Any = None
    body_mapping: str | None = None
    response_mapping: str | None = None
    redact: list[str] | None = None
    url_template: str | None = None
    retry_policy: HttpRetryPolicy | None = None


class OpenApiConfig(CrdModel):
    spec_url: str = Field(alias="specURL")
    base_url: str | None = Field(default=None, alias="baseURL")
    operation_filter: list[str] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    retry_policy: HttpRetryPolicy | None = None


class GrpcConfig(CrdModel):
    endpoint: str
    tls: bool = False
    tls_cert_path: str | None = None
    tls_key_path: str | None = None
    tls_ca_path: str | None = Field(default=None, alias="tlsCAPath")
    tls_insecure_skip_verify: bool = False
    retry_policy: GrpcRetryPolicy | None = None


class ToolFilter(CrdModel):
    allowlist: list[str] | None = None
    blocklist: list[str] | None = None


class McpConfig(CrdModel):
    transport: Literal["sse", "stdio", "streamable-http"]
    endpoint: str | None = None
    command: str | None = None
    args: list[str] | None = None
    work_dir: str | None = None
    env: dict[str, str] | None = None
    tool_filter: ToolFilter | None = None
    retry_policy: RetryPolicy | None = None


class ClientConfig(CrdModel):
    consent_message: str | None = None
    categories: list[str] | None = None


class HandlerAuth(CrdModel):
    type: Literal["none", "bearer", "basic"] = "none"
    secret_ref: SecretKeyRef | None = None


class ServiceSelector(CrdModel):
    match_labels: dict[str, str]
    namespace: str | None = None
    port: int | None = None


class Handler(CrdModel):
    name: str
    type: Literal["http", "openapi", "grpc", "mcp", "client"]
    tool: ToolDefinition | None = None
    http_config: HttpConfig | None = None
    open_api_config: OpenApiConfig | None = Field(default=None, alias="openAPIConfig")
    grpc_config: GrpcConfig | None = None
    mcp_config: McpConfig | None = None
    client_config: ClientConfig | None = None
    auth: HandlerAuth | None = None
    timeout: str = "30s"
    selector: ServiceSelector | None = None


class ToolRegistrySpec(CrdModel):
    handlers: list[Handler]


class DiscoveredTool(CrdModel):
    """One entry of status.discoveredTools: a tool a handler offers, or why it cannot."""

    name: str
    handler_name: str
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    endpoint: str | None = None
    status: Literal["Available", "Unavailable", "Unknown"] | None = None
    last_checked: str | None = None
    error: str | None = None


class ToolRegistryStatus(CrdModel):
    phase: Literal["Pending", "Ready", "Degraded", "Failed"] | None = None
    discovered_tools_count: int | None = None
    discovered_tools: list[DiscoveredTool] | None = None
    """None (omitted) until the handlers were read; a spec that cannot be parsed leaves it out."""
    last_discovery_time: str | None = None
    conditions: list[Condition] = Field(default_factory=list)
    observed_generation: int | None = None
