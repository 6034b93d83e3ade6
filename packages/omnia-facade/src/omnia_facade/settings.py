"""Configuration of the facade: one settings object, read once from ``OMNIA_*`` environment variables.

Names and defaults follow the operator → facade env contract. Durations are Go-style strings ("30s", "1h30m",
"500ms") or plain numbers of seconds; every duration field holds seconds as a float once parsed.
"""

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BeforeValidator, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object) -> float:
    """Seconds in a Go-style duration ("1h30m", "250ms") or a number of seconds."""
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
    if position != len(text) or not text:
        raise ValueError(f"invalid duration {value!r}: use Go syntax such as '30s', '5m', '1h30m' or '500ms'")
    return total


Duration = Annotated[float, BeforeValidator(parse_duration)]

DEFAULT_MEDIA_TYPES = (
    "image/png,image/jpeg,image/gif,image/webp,audio/mpeg,audio/wav,audio/ogg,audio/webm,video/mp4,video/webm,"
    "application/pdf,text/plain,text/markdown,text/csv,application/json"
)


class FacadeSettings(BaseSettings):
    """Every setting of the facade process (see the README's configuration table)."""

    model_config = SettingsConfigDict(env_prefix="OMNIA_", extra="ignore", populate_by_name=True)

    agent_name: str = ""
    namespace: str = "default"
    bind_host: str = "0.0.0.0"
    facade_port: int = Field(default=8080, ge=0, le=65535)
    health_port: int = Field(default=8081, ge=0, le=65535)
    handler_mode: Literal["runtime", "echo", "demo"] = "runtime"
    runtime_address: str = "localhost:9000"
    runtime_connect_timeout: Duration = Field(default=5.0, gt=0)
    facade_warm_calls: int = Field(default=64, ge=0, le=10_000)
    """Runtime calls kept open ahead of a session's next turn, per process (0: every turn opens its own)."""

    session_type: Literal["memory", "redis"] = "memory"
    session_store_url: str | None = None
    session_ttl: Duration = Field(default=24 * 3600.0, gt=0)
    session_key_prefix: str = "omnia:facade:"
    session_max_messages: int = Field(default=1000, ge=1)

    facade_allow_unauthenticated: bool = False
    allowed_origins: str = ""
    facade_api_keys_path: Path | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None

    facade_max_connections: int = Field(default=500, ge=1)
    facade_max_message_size: int = Field(default=16 * 1024 * 1024, ge=1024)
    facade_message_rate: float = Field(default=50.0, gt=0)
    facade_message_burst: int = Field(default=100, ge=1)
    facade_drain_timeout: Duration = Field(default=30.0, ge=0)
    facade_client_tool_timeout: Duration = Field(default=60.0, gt=0)
    facade_ping_interval: Duration = Field(default=30.0, gt=0)
    facade_ping_timeout: Duration = Field(default=60.0, gt=0)
    facade_per_message_deflate: bool = False
    facade_console_enabled: bool = False
    facade_demo_delay: Duration = Field(default=0.025, ge=0)

    media_storage_type: Literal["none", "local"] = "none"
    media_storage_path: Path = Path("/var/lib/omnia/media")
    media_max_file_size: int = Field(default=100 * 1024 * 1024, ge=1)
    media_default_ttl: Duration = Field(default=24 * 3600.0, gt=0)
    media_upload_url_ttl: Duration = Field(default=15 * 60.0, gt=0)
    media_download_url_ttl: Duration = Field(default=3600.0, gt=0)
    media_allowed_types: str = DEFAULT_MEDIA_TYPES

    tracing_enabled: bool = False
    tracing_endpoint: str = ""
    tracing_insecure: bool = True
    tracing_sample_rate: float = Field(default=1.0, ge=0, le=1)

    log_format: Literal["json", "text"] = "json"
    log_level: str = Field(default="info", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))

    @field_validator("session_store_url", "oidc_issuer", "oidc_audience", "oidc_jwks_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("facade_api_keys_path", mode="before")
    @classmethod
    def _blank_path_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.allowed_origins.split(",") if part.strip())

    @property
    def media_types(self) -> frozenset[str]:
        return frozenset(part.strip().lower() for part in self.media_allowed_types.split(",") if part.strip())

    @property
    def media_enabled(self) -> bool:
        return self.media_storage_type == "local"
