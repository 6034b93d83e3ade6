"""Configuration of the runtime: one settings object, read once from the environment at start-up.

Names and defaults follow the operator → runtime env contract (``OMNIA_*``). Durations are Go-style strings
("30s", "1h30m", "500ms") or plain numbers of seconds; once parsed every duration field holds seconds.
The API key is resolved here, in order: ``OMNIA_PROVIDER_API_KEY``, the file named by
``OMNIA_PROVIDER_API_KEY_FILE``, the variable named by ``OMNIA_PROVIDER_API_KEY_ENV``, then the vendor's own
variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY``). The key is a ``SecretStr`` so it never
shows up in a repr or a log line.
"""

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from omnia_runtime.errors import ConfigError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

ProviderType = Literal["mock", "openai", "claude", "anthropic", "gemini", "ollama", "vllm"]

_VENDOR_KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "claude": "ANTHROPIC_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
}


def parse_duration(value: object) -> float:
    """Seconds in a Go-style duration ("1h30m", "250ms") or a plain number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as '30s' or '5m', got {value!r}")
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    position = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"invalid duration {value!r}: use Go syntax such as '30s', '5m', '1h30m' or '500ms'")
    return total


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _empty_as_none(value: object) -> object:
    return None if value == "" else value


OptionalFloat = Annotated[float | None, BeforeValidator(_empty_as_none)]
OptionalInt = Annotated[int | None, BeforeValidator(_empty_as_none)]


class RuntimeSettings(BaseSettings):
    """Every setting of the runtime process (see the package README's configuration table)."""

    model_config = SettingsConfigDict(env_prefix="OMNIA_", extra="ignore", populate_by_name=True)

    agent_name: str = ""
    namespace: str = "default"
    promptpack_path: Path = Path("/etc/omnia/pack/pack.json")
    prompt_name: str = "default"
    promptpack_name: str = ""
    promptpack_version: str = ""

    bind_host: str = "0.0.0.0"
    grpc_port: int = Field(default=9000, ge=0, le=65535)
    health_port: int = Field(default=9001, ge=0, le=65535)
    grpc_max_message_size: int = Field(default=16 * 1024 * 1024, ge=1024)
    """Largest gRPC message accepted or sent, in bytes."""
    max_content_length: int = Field(default=1024 * 1024, ge=1)
    """Largest user message content accepted in one turn, in characters."""
    client_tool_timeout: Duration = Field(default=60.0, gt=0)
    shutdown_grace: Duration = Field(default=10.0, ge=0)

    tools_config_path: Path = Path("/etc/omnia/tools/tools.yaml")
    tool_discovery_timeout: Duration = Field(default=10.0, gt=0)

    provider_type: ProviderType = "mock"
    provider_model: str = ""
    provider_base_url: str = ""
    provider_headers: dict[str, str] = Field(default_factory=dict)
    provider_temperature: OptionalFloat = None
    provider_top_p: OptionalFloat = None
    provider_max_tokens: OptionalInt = None
    provider_input_cost: float = Field(default=0.0, ge=0)
    provider_output_cost: float = Field(default=0.0, ge=0)
    provider_cached_cost: OptionalFloat = Field(default=None, ge=0)
    """USD per 1K prompt tokens served from the provider's cache; unset: billed as other input tokens."""
    provider_request_timeout: Duration = Field(default=60.0, gt=0)
    provider_api_key: SecretStr | None = None
    provider_api_key_file: Path | None = None
    provider_api_key_env: str | None = None

    mock_provider: bool = False
    mock_config: Path | None = None

    context_type: Literal["memory", "redis"] = "memory"
    context_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OMNIA_CONTEXT_URL", "OMNIA_SESSION_URL")
    )
    context_ttl: Duration = Field(default=24 * 3600.0, gt=0)
    context_key_prefix: str = "omnia:runtime:"
    context_max_messages: int = Field(default=500, ge=2)

    tracing_enabled: bool = False
    tracing_endpoint: str = ""
    tracing_insecure: bool = True
    tracing_sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)

    log_format: Literal["json", "text"] = "json"
    log_level: str = Field(default="info", validation_alias=AliasChoices("LOG_LEVEL", "OMNIA_LOG_LEVEL"))

    @field_validator("provider_headers", mode="before")
    @classmethod
    def _parse_headers(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                return json.loads(value)
            except json.JSONDecodeError as e:
                raise ValueError("OMNIA_PROVIDER_HEADERS must be a JSON object of strings") from e
        return value

    @field_validator("provider_type", mode="before")
    @classmethod
    def _lower_provider(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def effective_provider(self) -> str:
        """The provider adapter to use: ``mock`` when forced, ``claude`` for the ``anthropic`` alias."""
        if self.mock_provider:
            return "mock"
        return "claude" if self.provider_type == "anthropic" else self.provider_type

    def resolve_api_key(self) -> str | None:
        """The provider API key from the first source that has one; ``None`` when there is none."""
        if self.provider_api_key is not None and self.provider_api_key.get_secret_value():
            return self.provider_api_key.get_secret_value()
        if self.provider_api_key_file is not None:
            try:
                return self.provider_api_key_file.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ConfigError(
                    f"cannot read the API key file {self.provider_api_key_file}: {e.strerror};"
                    " fix OMNIA_PROVIDER_API_KEY_FILE or mount the credential Secret"
                ) from e
        names = [self.provider_api_key_env] if self.provider_api_key_env else []
        vendor = _VENDOR_KEY_ENV.get(self.effective_provider)
        if vendor:
            names.append(vendor)
        for name in names:
            value = os.environ.get(name, "")
            if value:
                return value
        return None


def load_settings() -> RuntimeSettings:
    """Read the settings from the environment, turning validation errors into one clear ConfigError."""
    from pydantic import ValidationError

    try:
        return RuntimeSettings()
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise ConfigError(f"invalid runtime configuration: {problems}") from e
