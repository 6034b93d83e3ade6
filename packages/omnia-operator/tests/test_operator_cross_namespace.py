"""Providers in another namespace, through the running operator: refused by default, usable when allowed.

The agent lives in `default`, its Provider in `shared`. A credential Secret of `shared` can never be mounted by
the agent's pod (secretKeyRef is namespace-local), so even when crossing is allowed such a Provider is refused
with a message that says what to change.
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from manifests import agent_runtime, pack_config_map, prompt_pack, provider, secret  # pyright: ignore[reportMissingImports]
from operator_loop import create_all, eventually, operator_settings, running_operator  # pyright: ignore[reportMissingImports]

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
SHARED = "shared"
SHARED_REF = [{"name": "default", "providerRef": {"name": "llm", "namespace": SHARED}}]


@contextlib.asynccontextmanager
async def operator(api: FakeKubeAPI, *, allow: bool) -> AsyncIterator[KubeClient]:
    """A running operator (cross-namespace providers allowed or not) and a client for the test's own calls."""
    settings = operator_settings(allow_cross_namespace_providers=allow)
    async with running_operator(api, settings), KubeClient.for_url(api.url) as kube:
        yield kube


def _agent_side() -> list[dict[str, Any]]:
    return [pack_config_map(), prompt_pack(), agent_runtime(providers=SHARED_REF)]


async def _provider_condition(kube: KubeClient) -> dict[str, Any] | None:
    agent = await kube.get(kinds.AGENT_RUNTIME, "support", NS)
    conditions = (agent.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == "ProviderReady"), None)


def _condition_is(kube: KubeClient, status: str, reason: str | None = None) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        condition = await _provider_condition(kube)
        return bool(condition and condition["status"] == status and reason in (None, condition["reason"]))

    return check


async def _deployment(kube: KubeClient) -> dict[str, Any] | None:
    try:
        return await kube.get(kinds.DEPLOYMENT, "support", NS)
    except NotFoundError:
        return None


def _runtime_env(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in containers["runtime"].get("env", [])}


async def test_provider_in_another_namespace_is_refused_with_the_setting_named_when_crossing_is_off(
    api: FakeKubeAPI,
) -> None:
    async with operator(api, allow=False) as kube:
        await create_all(kube, [provider("llm", namespace=SHARED, credential={"envVar": "LLM_KEY"}), *_agent_side()])
        await eventually(_condition_is(kube, "False", "ProviderCrossNamespace"), "ProviderReady=False")
        condition = await _provider_condition(kube)
        assert condition is not None
        assert "namespace shared" in condition["message"]
        assert "OMNIA_OPERATOR_ALLOW_CROSS_NAMESPACE_PROVIDERS=true" in condition["message"]
        assert await _deployment(kube) is None


async def test_provider_in_another_namespace_drives_the_agent_when_crossing_is_on(api: FakeKubeAPI) -> None:
    async with operator(api, allow=True) as kube:
        await create_all(kube, _agent_side())  # the Provider comes later: its creation in `shared` wakes the agent
        await eventually(_condition_is(kube, "False", "ProviderNotFound"), "ProviderReady=False/ProviderNotFound")
        await create_all(
            kube, [provider("llm", namespace=SHARED, model="gpt-shared", credential={"envVar": "LLM_KEY"})]
        )
        await eventually(_condition_is(kube, "True"), "ProviderReady=True once the shared Provider exists")

        async def deployed() -> bool:
            return await _deployment(kube) is not None

        await eventually(deployed, "the agent's Deployment")
        deployment = await _deployment(kube)
        assert deployment is not None
        env = _runtime_env(deployment)
        assert env["OMNIA_PROVIDER_MODEL"] == "gpt-shared"
        assert env["OMNIA_PROVIDER_API_KEY_ENV"] == "LLM_KEY"
        assert "OMNIA_PROVIDER_API_KEY" not in env


async def test_provider_with_a_secret_in_another_namespace_is_refused_even_when_crossing_is_on(
    api: FakeKubeAPI,
) -> None:
    async with operator(api, allow=True) as kube:
        shared_key = secret("llm-key", {"OPENAI_API_KEY": "sk-shared"}, namespace=SHARED)
        llm = provider("llm", namespace=SHARED, credential={"secretRef": {"name": "llm-key"}})
        await create_all(kube, [shared_key, llm, *_agent_side()])
        await eventually(_condition_is(kube, "False", "ProviderCrossNamespace"), "ProviderReady=False")
        condition = await _provider_condition(kube)
        assert condition is not None
        message = condition["message"]
        assert "Secret llm-key of namespace shared" in message
        assert "a pod can only read Secrets of its own namespace" in message
        assert "credential.envVar or credential.filePath" in message
        assert await _deployment(kube) is None

        # Doing what the message says (the key from the pod's environment instead) lets the agent converge.
        current = await kube.get(kinds.PROVIDER, "llm", SHARED)
        current["spec"]["credential"] = {"envVar": "LLM_KEY"}
        await kube.replace(kinds.PROVIDER, current)
        await eventually(_condition_is(kube, "True"), "ProviderReady=True after the Provider drops its secretRef")
