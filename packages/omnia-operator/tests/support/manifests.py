"""Small manifest builders shared by the operator tests (test support, not a fixture file)."""

import base64
import json
from typing import Any

API = "omnia.altairalabs.ai/v1alpha1"

VALID_PACK = {
    "id": "support",
    "name": "Support",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "prompts": {
        "default": {
            "id": "default",
            "name": "Default",
            "version": "1.0.0",
            "system_template": "You are a helpful support agent.",
        }
    },
}


def pack_config_map(name: str = "support-pack", pack: Any = None, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"pack.json": json.dumps(VALID_PACK if pack is None else pack)},
    }


def prompt_pack(
    name: str = "support", version: str = "1.0.0", config_map: str = "support-pack", **extra: Any
) -> dict[str, Any]:
    spec = {"version": version, "source": {"type": "configmap", "configMapRef": {"name": config_map}}, **extra}
    return {"apiVersion": API, "kind": "PromptPack", "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def secret(
    name: str, data: dict[str, str], namespace: str = "default", labels: dict[str, str] | None = None
) -> dict[str, Any]:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "data": encoded}


def provider(name: str = "openai", *, namespace: str = "default", **spec: Any) -> dict[str, Any]:
    body = {"type": "openai", "model": "gpt-4o-mini", "credential": {"secretRef": {"name": "openai-key"}}}
    body.update(spec)
    return {"apiVersion": API, "kind": "Provider", "metadata": {"name": name, "namespace": namespace}, "spec": body}


def tool_registry(name: str = "tools", handlers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    handlers = handlers or [
        {
            "name": "weather",
            "type": "http",
            "tool": {"name": "get_weather", "description": "Weather", "inputSchema": {"type": "object"}},
            "httpConfig": {"endpoint": "http://weather:8080/", "method": "GET"},
            "auth": {"type": "bearer", "secretRef": {"name": "weather-token", "key": "token"}},
        }
    ]
    return {
        "apiVersion": API,
        "kind": "ToolRegistry",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"handlers": handlers},
    }


def agent_runtime(name: str = "support", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "promptPackRef": {"name": "support"},
        "providers": [{"name": "default", "providerRef": {"name": "openai"}}],
        "facades": [{"type": "websocket", "port": 8080}],
    }
    body.update(spec)
    metadata = {"name": name, "namespace": "default", "uid": "uid-1", "generation": 1}
    return {"apiVersion": API, "kind": "AgentRuntime", "metadata": metadata, "spec": body}


def full_set(**agent_spec: Any) -> list[dict[str, Any]]:
    return [
        pack_config_map(),
        prompt_pack(),
        secret("openai-key", {"OPENAI_API_KEY": "sk-test"}, labels={"omnia.altairalabs.ai/type": "credentials"}),
        provider(),
        agent_runtime(**agent_spec),
    ]
