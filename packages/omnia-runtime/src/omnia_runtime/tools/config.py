"""Typed loading of ``tools.yaml``, the tools configuration the operator writes for an agent.

The format is the upstream one (a top-level ``handlers`` list; camelCase keys such as ``httpConfig``,
``openAPIConfig``, ``specURL``, ``tlsCAPath``). Each handler is validated on its own: a bad entry becomes one
message in ``ToolsConfig.problems`` and the others still load, so one typo does not take every tool away from
the agent. Durations are Go-style strings (``"30s"``, ``"1m30s"``, ``"500ms"``) or plain numbers of seconds.

Credentials never appear in the file: ``authType`` (bearer|basic) with ``authTokenPath`` names a file the
adapters re-read on every call. The legacy top-level ``tools`` list (v0.2 Helm chart shape) is converted to
handlers when no ``handlers`` key is present.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import jsonschema
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from omnia_runtime.errors import ConfigError

__all__ = [
    "MAX_TOOLS_FILE_BYTES",
    "AuthFields",
    "ClientConfig",
    "GrpcConfig",
    "HandlerConfig",
    "HandlerType",
    "HttpConfig",
    "McpConfig",
    "OpenAPIConfig",
    "RetryPolicy",
    "ToolDefinition",
    "ToolFilter",
    "ToolsConfig",
    "load_tools_config",
    "parse_duration",
    "parse_tools_config",
]

MAX_TOOLS_FILE_BYTES = 4 * 1024 * 1024
MAX_HANDLERS = 256

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Seconds from a Go duration string (``"1h30m"``, ``"500ms"``) or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration must be a string such as '30s' or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text in ("0", ""):
            return 0.0
        position, seconds = 0, 0.0
        for match in _DURATION_PART.finditer(text):
            if match.start() != position:
                break
            seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
            position = match.end()
        if position != len(text) or position == 0:
            raise ValueError(f"{value!r} is not a duration; write it like '30s', '500ms' or '1m30s'")
    else:
        raise ValueError("a duration must be a string such as '30s' or a number of seconds")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_means_unset(cls, data: Any) -> Any:
        """``key: null`` (as Go's and our operator's serialisers may write) takes the default."""
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None}
        return data


HandlerType = Literal["http", "openapi", "grpc", "mcp", "client"]

DEFAULT_HTTP_RETRY_ON = frozenset({429, 502, 503, 504})
DEFAULT_GRPC_RETRYABLE = ("UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED")


class RetryPolicy(_Model):
    """How often and how patiently a transient failure is retried. ``max_attempts`` counts the first try."""

    max_attempts: int = Field(1, ge=1, le=10, alias="maxAttempts")
    initial_backoff: Duration = Field(0.1, alias="initialBackoff")
    backoff_multiplier: float = Field(2.0, ge=1.0, le=10.0, alias="backoffMultiplier")
    max_backoff: Duration = Field(30.0, alias="maxBackoff")
    retry_on: frozenset[int] = Field(DEFAULT_HTTP_RETRY_ON, alias="retryOn")
    """HTTP statuses worth retrying."""
    retry_on_network_error: bool = Field(True, alias="retryOnNetworkError")
    respect_retry_after: bool = Field(True, alias="respectRetryAfter")
    retryable_status_codes: tuple[str, ...] = Field(DEFAULT_GRPC_RETRYABLE, alias="retryableStatusCodes")
    """gRPC status code names worth retrying."""


class AuthFields(_Model):
    """Credentials by reference: the token file is read on every call, so a rotated Secret is picked up."""

    auth_type: Literal["none", "bearer", "basic", "serviceAccount"] | None = Field(None, alias="authType")
    auth_token_path: str | None = Field(None, alias="authTokenPath")
    auth_header: str = Field("Authorization", alias="authHeader")

    @model_validator(mode="after")
    def _path_for_credentials(self) -> "AuthFields":
        if self.auth_type in ("bearer", "basic", "serviceAccount") and not self.auth_token_path:
            raise ValueError(f"authType {self.auth_type} needs authTokenPath (the file holding the credential)")
        return self


class ToolDefinition(_Model):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_\-.]*$")
    description: str = ""
    input_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}}, alias="inputSchema"
    )
    output_schema: dict[str, Any] | None = Field(None, alias="outputSchema")

    @model_validator(mode="after")
    def _schema_is_json_schema(self) -> "ToolDefinition":
        try:
            jsonschema.Draft202012Validator.check_schema(self.input_schema)
        except jsonschema.SchemaError as e:
            raise ValueError(f"inputSchema is not a valid JSON Schema: {e.message}") from e
        return self


class HttpConfig(AuthFields):
    endpoint: str = ""
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    content_type: str = Field("application/json", alias="contentType")
    query_params: list[str] = Field(default_factory=list, alias="queryParams")
    header_params: dict[str, str] = Field(default_factory=dict, alias="headerParams")
    static_query: dict[str, str] = Field(default_factory=dict, alias="staticQuery")
    static_body: dict[str, Any] = Field(default_factory=dict, alias="staticBody")
    body_mapping: str | None = Field(None, alias="bodyMapping")
    response_mapping: str | None = Field(None, alias="responseMapping")
    redact: list[str] = Field(default_factory=list)
    url_template: str | None = Field(None, alias="urlTemplate")
    retry_policy: RetryPolicy | None = Field(None, alias="retryPolicy")

    @model_validator(mode="before")
    @classmethod
    def _upper_method(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("method"), str):
            return {**data, "method": data["method"].upper()}
        return data


class GrpcConfig(AuthFields):
    endpoint: str = ""
    tls: bool = False
    tls_cert_path: str | None = Field(None, alias="tlsCertPath")
    tls_key_path: str | None = Field(None, alias="tlsKeyPath")
    tls_ca_path: str | None = Field(None, alias="tlsCAPath")
    tls_insecure_skip_verify: bool = Field(False, alias="tlsInsecureSkipVerify")
    retry_policy: RetryPolicy | None = Field(None, alias="retryPolicy")

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> "GrpcConfig":
        if bool(self.tls_cert_path) != bool(self.tls_key_path):
            raise ValueError("tlsCertPath and tlsKeyPath go together (client certificate and its key)")
        return self


class ToolFilter(_Model):
    allowlist: list[str] = Field(default_factory=list)
    blocklist: list[str] = Field(default_factory=list)

    def allows(self, name: str) -> bool:
        if self.allowlist and name not in self.allowlist:
            return False
        return name not in self.blocklist


class McpConfig(AuthFields):
    transport: Literal["stdio", "sse", "streamable-http"]
    endpoint: str = ""
    command: str = ""
    args: list[str] = Field(default_factory=list)
    work_dir: str | None = Field(None, alias="workDir")
    env: dict[str, str] = Field(default_factory=dict)
    tool_filter: ToolFilter = Field(default_factory=ToolFilter, alias="toolFilter")
    retry_policy: RetryPolicy | None = Field(None, alias="retryPolicy")


class OpenAPIConfig(AuthFields):
    spec_url: str = Field("", alias="specURL")
    base_url: str = Field("", alias="baseURL")
    operation_filter: list[str] = Field(default_factory=list, alias="operationFilter")
    headers: dict[str, str] = Field(default_factory=dict)
    retry_policy: RetryPolicy | None = Field(None, alias="retryPolicy")


class ClientConfig(_Model):
    consent_message: str = Field("", alias="consentMessage")
    categories: list[str] = Field(default_factory=list)


class HandlerConfig(_Model):
    """One handler of ``tools.yaml``. After validation the type's config block exists and carries the endpoint."""

    name: str = Field(min_length=1, max_length=63)
    type: HandlerType
    endpoint: str = ""
    """Resolved endpoint written by the operator; it wins over the one in the type's config block."""
    tool: ToolDefinition | None = None
    timeout: Duration = 30.0
    retries: int | None = Field(None, ge=0, le=9)
    """v0.2 shape: extra attempts, used when no ``retryPolicy`` is given."""
    http_config: HttpConfig | None = Field(None, alias="httpConfig")
    grpc_config: GrpcConfig | None = Field(None, alias="grpcConfig")
    mcp_config: McpConfig | None = Field(None, alias="mcpConfig")
    openapi_config: OpenAPIConfig | None = Field(None, alias="openAPIConfig")
    client_config: ClientConfig | None = Field(None, alias="clientConfig")

    @model_validator(mode="after")
    def _type_specific(self) -> "HandlerConfig":
        if self.timeout <= 0:
            raise ValueError("timeout must be positive, e.g. '30s'")
        if self.type in ("http", "client") and self.tool is None:
            raise ValueError(f"a {self.type} handler needs a 'tool' with name, description and inputSchema")
        updates: dict[str, Any] = {}
        if self.type == "http":
            http = self.http_config or HttpConfig.model_validate({})
            endpoint = self.endpoint or http.endpoint
            if not endpoint and not http.url_template:
                raise ValueError("an http handler needs httpConfig.endpoint (or urlTemplate)")
            updates["http_config"] = http.model_copy(update={"endpoint": endpoint})
        elif self.type == "grpc":
            grpc = self.grpc_config or GrpcConfig.model_validate({})
            endpoint = self.endpoint or grpc.endpoint
            if not endpoint:
                raise ValueError("a grpc handler needs grpcConfig.endpoint (host:port)")
            updates["grpc_config"] = grpc.model_copy(update={"endpoint": endpoint})
        elif self.type == "mcp":
            if self.mcp_config is None:
                raise ValueError("an mcp handler needs mcpConfig with a transport (stdio, sse, streamable-http)")
            mcp = self.mcp_config
            if mcp.transport == "stdio":
                if not mcp.command:
                    raise ValueError("an mcp stdio handler needs mcpConfig.command")
            else:
                endpoint = self.endpoint or mcp.endpoint
                if not endpoint:
                    raise ValueError(f"an mcp {mcp.transport} handler needs mcpConfig.endpoint")
                updates["mcp_config"] = mcp.model_copy(update={"endpoint": endpoint})
        elif self.type == "openapi":
            openapi = self.openapi_config or OpenAPIConfig.model_validate({})
            spec_url = openapi.spec_url or self.endpoint
            if not spec_url:
                raise ValueError("an openapi handler needs openAPIConfig.specURL")
            updates["openapi_config"] = openapi.model_copy(update={"spec_url": spec_url})
        else:
            updates["client_config"] = self.client_config or ClientConfig.model_validate({})
        return self.model_copy(update=updates)

    @property
    def retry_policy(self) -> RetryPolicy:
        """The handler's retry policy; without one, a single attempt (or v0.2 ``retries`` + 1)."""
        block = self.http_config or self.grpc_config or self.mcp_config or self.openapi_config
        policy = getattr(block, "retry_policy", None)
        if isinstance(policy, RetryPolicy):
            return policy
        return RetryPolicy.model_validate({"maxAttempts": (self.retries or 0) + 1})

    @property
    def auth(self) -> AuthFields:
        block = self.http_config or self.grpc_config or self.mcp_config or self.openapi_config
        return block if isinstance(block, AuthFields) else AuthFields.model_validate({})


@dataclass(frozen=True)
class ToolsConfig:
    """The handlers that loaded, and one message per entry that did not."""

    handlers: list[HandlerConfig] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _format_validation_error(error: ValidationError) -> str:
    parts: list[str] = []
    for item in error.errors():
        location = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def _legacy_tool_to_handler(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a v0.2 ``tools[]`` entry (``endpoint{url}``, ``schema{input}``, ``retries``) to a handler."""
    endpoint = entry.get("endpoint", "")
    if isinstance(endpoint, Mapping):
        endpoint = endpoint.get("url", "")
    schema = entry.get("schema") if isinstance(entry.get("schema"), Mapping) else {}
    tool: dict[str, Any] = {"name": entry.get("name"), "description": entry.get("description", "")}
    if isinstance(schema, Mapping) and schema.get("input") is not None:
        tool["inputSchema"] = schema["input"]
    handler: dict[str, Any] = {"name": entry.get("name"), "type": entry.get("type"), "endpoint": endpoint}
    if handler["type"] in ("http", "grpc"):
        handler["tool"] = tool
    for key in ("timeout", "retries"):
        if key in entry:
            handler[key] = entry[key]
    return handler


def parse_tools_config(data: Mapping[str, Any] | None) -> ToolsConfig:
    """Validate already-parsed ``tools.yaml`` content; never raises for a bad handler entry."""
    if data is None:
        return ToolsConfig()
    if not isinstance(data, Mapping):
        return ToolsConfig(problems=["tools config: the top level must be a mapping with a 'handlers' list"])
    entries: Any = data.get("handlers")
    if entries is None and isinstance(data.get("tools"), list):
        entries = [_legacy_tool_to_handler(t) if isinstance(t, Mapping) else t for t in data["tools"]]
    if entries is None:
        return ToolsConfig()
    if not isinstance(entries, list):
        return ToolsConfig(problems=["tools config: 'handlers' must be a list"])
    handlers: list[HandlerConfig] = []
    problems: list[str] = []
    if len(entries) > MAX_HANDLERS:
        problems.append(f"tools config: {len(entries)} handlers, only the first {MAX_HANDLERS} are loaded")
        entries = entries[:MAX_HANDLERS]
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        label = f"handler #{index}"
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            label = f"handler #{index} ({entry['name']!r})"
        if not isinstance(entry, Mapping):
            problems.append(f"{label}: must be a mapping with name and type")
            continue
        try:
            handler = HandlerConfig.model_validate(entry)
        except ValidationError as e:
            problems.append(f"{label}: {_format_validation_error(e)}")
            continue
        if handler.name in seen:
            problems.append(f"{label}: duplicate handler name; rename one of them")
            continue
        seen.add(handler.name)
        handlers.append(handler)
    return ToolsConfig(handlers=handlers, problems=problems)


def load_tools_config(path: str | Path) -> ToolsConfig:
    """Read ``tools.yaml``. A missing file means no tools; an unreadable or non-YAML file is a ConfigError."""
    file = Path(path)
    if not file.exists():
        return ToolsConfig()
    try:
        size = file.stat().st_size
        if size > MAX_TOOLS_FILE_BYTES:
            raise ConfigError(f"tools config {file} is {size} bytes; the limit is {MAX_TOOLS_FILE_BYTES}")
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read tools config {file}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"tools config {file} is not valid YAML: {e}") from e
    return parse_tools_config(data)
