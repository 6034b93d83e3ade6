"""The env of the runtime and facade containers — exactly the contract in the shared contracts.

Values come from the typed resources; secrets only as `valueFrom.secretKeyRef`. User `extraEnv`
entries come last and replace ours of the same name (an explicit escape hatch).
"""

import json
from typing import Any

from omnia_operator.api.models.agentruntime import AgentRuntimeSpec, Facade
from omnia_operator.resolve.promptpacks import PackContent, pack_name
from omnia_operator.resolve.providers import ResolvedProvider

EnvVar = dict[str, Any]

PACK_DIR = "/etc/omnia/pack"
TOOLS_DIR = "/etc/omnia/tools"
PACK_PATH = f"{PACK_DIR}/pack.json"
TOOLS_PATH = f"{TOOLS_DIR}/tools.yaml"
GRPC_PORT = 9000
RUNTIME_HEALTH_PORT = 9001
FACADE_HEALTH_PORT = 8081
MOCK_ANNOTATION = "omnia.altairalabs.ai/mock-provider"
MOCK_CONFIG_ANNOTATION = "omnia.altairalabs.ai/mock-config-path"
CONTEXT_URL_KEY = "url"


def _value(name: str, value: object) -> EnvVar:
    return {"name": name, "value": str(value)}


def _secret(name: str, secret: str, key: str) -> EnvVar:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _merge_extra(env: list[EnvVar], extra: list[dict[str, Any]]) -> list[EnvVar]:
    names = {e.get("name") for e in extra}
    return [e for e in env if e["name"] not in names] + [dict(e) for e in extra]


def provider_env(resolved: ResolvedProvider | None) -> list[EnvVar]:
    if resolved is None:
        return [_value("OMNIA_PROVIDER_TYPE", "mock")]
    provider = resolved.provider
    spec = provider.spec
    env = [_value("OMNIA_PROVIDER_TYPE", spec.type)]
    if spec.model:
        env.append(_value("OMNIA_PROVIDER_MODEL", spec.model))
    if spec.base_url:
        env.append(_value("OMNIA_PROVIDER_BASE_URL", spec.base_url))
    if spec.headers:
        env.append(_value("OMNIA_PROVIDER_HEADERS", json.dumps(spec.headers, sort_keys=True)))
    defaults = spec.defaults
    if defaults is not None:
        for name, value in (
            ("OMNIA_PROVIDER_TEMPERATURE", defaults.temperature),
            ("OMNIA_PROVIDER_TOP_P", defaults.top_p),
            ("OMNIA_PROVIDER_MAX_TOKENS", defaults.max_tokens),
            ("OMNIA_PROVIDER_REQUEST_TIMEOUT", defaults.request_timeout),
        ):
            if value is not None:
                env.append(_value(name, value))
    pricing = spec.pricing
    if pricing is not None:
        for name, value in (
            ("OMNIA_PROVIDER_INPUT_COST", pricing.input_cost_per1_k),
            ("OMNIA_PROVIDER_OUTPUT_COST", pricing.output_cost_per1_k),
            ("OMNIA_PROVIDER_CACHED_COST", pricing.cached_cost_per1_k),
        ):
            if value is not None:
                env.append(_value(name, value))
    credential = spec.credential
    if resolved.credential is not None:
        env.append(_secret("OMNIA_PROVIDER_API_KEY", resolved.credential.secret_name, resolved.credential.key))
    elif credential is not None and credential.file_path:
        env.append(_value("OMNIA_PROVIDER_API_KEY_FILE", credential.file_path))
    elif credential is not None and credential.env_var:
        env.append(_value("OMNIA_PROVIDER_API_KEY_ENV", credential.env_var))
    mock_config = provider.metadata.annotations.get(MOCK_CONFIG_ANNOTATION)
    if spec.type == "mock" and mock_config:
        env.append(_value("OMNIA_MOCK_CONFIG", mock_config))
    return env


def runtime_env(
    agent_name: str,
    namespace: str,
    spec: AgentRuntimeSpec,
    annotations: dict[str, str],
    pack: PackContent,
    provider: ResolvedProvider | None,
    *,
    has_tools: bool,
) -> list[EnvVar]:
    env = [
        _value("OMNIA_AGENT_NAME", agent_name),
        _value("OMNIA_NAMESPACE", namespace),
        _value("OMNIA_PROMPTPACK_PATH", PACK_PATH),
        _value("OMNIA_PROMPT_NAME", "default"),
        _value("OMNIA_PROMPTPACK_NAME", pack_name(pack.pack)),
        _value("OMNIA_PROMPTPACK_VERSION", pack.version),
        _value("OMNIA_GRPC_PORT", GRPC_PORT),
        _value("OMNIA_HEALTH_PORT", RUNTIME_HEALTH_PORT),
    ]
    if has_tools:
        env.append(_value("OMNIA_TOOLS_CONFIG_PATH", TOOLS_PATH))
    env.extend(provider_env(provider))
    if annotations.get(MOCK_ANNOTATION) == "true":
        env.append(_value("OMNIA_MOCK_PROVIDER", "true"))
    context = spec.context
    env.append(_value("OMNIA_CONTEXT_TYPE", context.type))
    if context.type == "redis" and context.store_ref is not None:
        env.append(_secret("OMNIA_CONTEXT_URL", context.store_ref.name, CONTEXT_URL_KEY))
    env.append(_value("OMNIA_CONTEXT_TTL", context.ttl))
    env.append(_value("OMNIA_LOG_FORMAT", "json"))
    return _merge_extra(env, spec.runtime.extra_env)


def facade_env(
    agent_name: str, namespace: str, spec: AgentRuntimeSpec, facade: Facade, pack: PackContent
) -> list[EnvVar]:
    env = [
        _value("OMNIA_AGENT_NAME", agent_name),
        _value("OMNIA_NAMESPACE", namespace),
        _value("OMNIA_FACADE_PORT", facade.port),
        _value("OMNIA_HEALTH_PORT", FACADE_HEALTH_PORT),
        _value("OMNIA_HANDLER_MODE", facade.handler),
        _value("OMNIA_RUNTIME_ADDRESS", f"localhost:{GRPC_PORT}"),
        _value("OMNIA_PROMPTPACK_VERSION", pack.version),
        _value("OMNIA_SESSION_TYPE", spec.context.type),
    ]
    if spec.context.type == "redis" and spec.context.store_ref is not None:
        env.append(_secret("OMNIA_SESSION_STORE_URL", spec.context.store_ref.name, CONTEXT_URL_KEY))
    env.append(_value("OMNIA_SESSION_TTL", spec.context.ttl))
    env.append(_value("OMNIA_FACADE_DRAIN_TIMEOUT", facade.drain_timeout))
    env.append(_value("OMNIA_FACADE_CLIENT_TOOL_TIMEOUT", facade.client_tool_timeout))
    storage = spec.media.storage if spec.media else None
    if storage is not None and storage.type == "local":
        env.append(_value("OMNIA_MEDIA_STORAGE_TYPE", "local"))
        env.append(
            _value("OMNIA_MEDIA_STORAGE_PATH", (storage.local.base_path if storage.local else "/var/lib/omnia/media"))
        )
        for name, value in (
            ("OMNIA_MEDIA_MAX_FILE_SIZE", storage.max_file_size_bytes),
            ("OMNIA_MEDIA_DEFAULT_TTL", storage.default_ttl),
            ("OMNIA_MEDIA_UPLOAD_URL_TTL", storage.upload_url_ttl),
            ("OMNIA_MEDIA_DOWNLOAD_URL_TTL", storage.download_url_ttl),
        ):
            if value is not None:
                env.append(_value(name, value))
    env.append(_value("OMNIA_LOG_FORMAT", "json"))
    return _merge_extra(env, facade.extra_env)
