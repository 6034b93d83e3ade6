"""resolve_agent: the plan built from typed resources and an in-memory object source."""

from typing import Any

from manifests import agent_runtime, full_set, pack_config_map, prompt_pack, provider, secret, tool_registry  # pyright: ignore[reportMissingImports]

from omnia_operator.api.models.resources import parse_agent_runtime
from omnia_operator.api.validation import validate_resource
from omnia_operator.resolve.plan import Resolution, resolve_agent
from omnia_operator.resolve.source import StaticObjectSource
from omnia_operator.settings import AgentImages

IMAGES = AgentImages(facade_image="facade:test", runtime_image="runtime:test")


async def _resolve(objects: list[dict[str, Any]]) -> Resolution:
    defaulted = [validate_resource(o)[0] if o["apiVersion"].startswith("omnia") else o for o in objects]
    source = StaticObjectSource(defaulted)
    agent = parse_agent_runtime(next(o for o in defaulted if o["kind"] == "AgentRuntime"))
    return await resolve_agent(agent, source, IMAGES)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def _containers(resolution: Resolution) -> dict[str, dict[str, Any]]:
    assert resolution.plan is not None
    deployment = next(c for c in resolution.plan.children if c["kind"] == "Deployment")
    return {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}


async def test_plan_builds_deployment_and_service_with_the_env_contract_when_everything_resolves() -> None:
    resolution = await _resolve(full_set())
    assert resolution.plan is not None, resolution.checks
    kinds = [c["kind"] for c in resolution.plan.children]
    assert kinds == ["Deployment", "Service"]
    containers = _containers(resolution)
    runtime, facade = _env(containers["runtime"]), _env(containers["facade"])
    assert runtime["OMNIA_PROVIDER_TYPE"] == "openai"
    assert runtime["OMNIA_PROVIDER_MODEL"] == "gpt-4o-mini"
    assert runtime["OMNIA_PROVIDER_API_KEY"] == {"secretKeyRef": {"name": "openai-key", "key": "OPENAI_API_KEY"}}
    assert runtime["OMNIA_PROMPTPACK_PATH"] == "/etc/omnia/pack/pack.json"
    assert runtime["OMNIA_PROMPTPACK_VERSION"] == "1.0.0"
    assert runtime["OMNIA_GRPC_PORT"] == "9000"
    assert runtime["OMNIA_HEALTH_PORT"] == "9001"
    assert "OMNIA_TOOLS_CONFIG_PATH" not in runtime
    assert facade["OMNIA_FACADE_PORT"] == "8080"
    assert facade["OMNIA_HEALTH_PORT"] == "8081"
    assert facade["OMNIA_RUNTIME_ADDRESS"] == "localhost:9000"
    assert facade["OMNIA_HANDLER_MODE"] == "runtime"
    assert containers["runtime"]["image"] == "runtime:test"
    assert containers["facade"]["securityContext"]["readOnlyRootFilesystem"] is True
    for child in resolution.plan.children:
        assert child["metadata"]["ownerReferences"][0]["uid"] == "uid-1"


async def test_api_key_is_found_by_lookup_order_when_secret_ref_has_no_key() -> None:
    objects = full_set()
    objects[2] = secret("openai-key", {"api-key": "x", "OPENAI_TOKEN": "y"})
    resolution = await _resolve(objects)
    runtime = _env(_containers(resolution)["runtime"])
    assert runtime["OMNIA_PROVIDER_API_KEY"]["secretKeyRef"]["key"] == "OPENAI_TOKEN"


async def test_missing_credential_key_blocks_with_a_reason_naming_the_keys() -> None:
    objects = full_set()
    objects[2] = secret("openai-key", {"other": "x"})
    resolution = await _resolve(objects)
    assert resolution.plan is None
    assert resolution.providers.reason == "CredentialKeyMissing"
    assert "OPENAI_API_KEY" in resolution.providers.message
    assert "sk-test" not in resolution.providers.message


async def test_missing_promptpack_is_reported_with_what_to_fix() -> None:
    objects = [o for o in full_set() if o["kind"] != "PromptPack"]
    resolution = await _resolve(objects)
    assert resolution.plan is None
    assert resolution.prompt_pack.reason == "PromptPackNotFound"
    assert "promptPackRef" in resolution.prompt_pack.message


async def test_invalid_pack_json_is_reported_with_the_validator_problems() -> None:
    objects = full_set()
    objects[0] = pack_config_map(pack={"id": "x"})
    resolution = await _resolve(objects)
    assert resolution.prompt_pack.reason == "PackInvalid"
    assert "prompts" in resolution.prompt_pack.message


async def test_highest_stable_version_wins_and_a_pin_selects_an_exact_one() -> None:
    objects = full_set()
    objects[1] = prompt_pack(name="support-v1", version="1.0.0", packName="support")
    objects += [prompt_pack(name="support-v2", version="2.0.0", packName="support"),
                prompt_pack(name="support-v3", version="3.0.0-rc.1", packName="support")]  # fmt: skip
    assert (await _resolve(objects)).plan.pack.version == "2.0.0"  # type: ignore[union-attr]
    objects[4] = agent_runtime(promptPackRef={"name": "support", "version": "1.0.0"})
    assert (await _resolve(objects)).plan.pack.version == "1.0.0"  # type: ignore[union-attr]


async def test_config_hash_changes_when_the_secret_value_rotates_but_not_on_identical_input() -> None:
    first = (await _resolve(full_set())).plan
    again = (await _resolve(full_set())).plan
    objects = full_set()
    objects[2] = secret("openai-key", {"OPENAI_API_KEY": "sk-rotated"})
    rotated = (await _resolve(objects)).plan
    assert first is not None
    assert again is not None
    assert rotated is not None
    assert first.config_hash == again.config_hash
    assert first.config_hash != rotated.config_hash


async def test_tool_registry_becomes_tools_yaml_with_token_path_and_projected_secret() -> None:
    objects = [*full_set(toolRegistryRef={"name": "tools"}), tool_registry(), secret("weather-token", {"token": "t0k"})]
    resolution = await _resolve(objects)
    assert resolution.plan is not None, resolution.checks
    config = resolution.plan.tools_config
    assert config is not None
    entry = config["handlers"][0]
    assert entry["httpConfig"]["authType"] == "bearer"
    assert entry["httpConfig"]["authTokenPath"] == "/etc/omnia/tool-secrets/weather"
    assert "t0k" not in (resolution.plan.tools_yaml or "")
    cm = resolution.plan.children[0]
    assert cm["metadata"]["name"] == "support-tools"
    runtime = _containers(resolution)["runtime"]
    assert _env(runtime)["OMNIA_TOOLS_CONFIG_PATH"] == "/etc/omnia/tools/tools.yaml"
    mounts = {m["name"]: m["mountPath"] for m in runtime["volumeMounts"]}
    assert mounts["tools"] == "/etc/omnia/tools"
    assert mounts["tool-secrets"] == "/etc/omnia/tool-secrets"


async def test_missing_tool_registry_does_not_block_the_agent() -> None:
    resolution = await _resolve(full_set(toolRegistryRef={"name": "nope"}))
    assert resolution.tool_registry.reason == "ToolRegistryNotFound"
    assert resolution.plan is not None
    assert resolution.plan.tools_config is None


async def test_redis_context_injects_urls_from_the_store_secret() -> None:
    objects = [
        *full_set(context={"type": "redis", "storeRef": {"name": "redis"}}),
        secret("redis", {"url": "redis://r"}),
    ]
    containers = _containers(await _resolve(objects))
    assert _env(containers["runtime"])["OMNIA_CONTEXT_URL"] == {"secretKeyRef": {"name": "redis", "key": "url"}}
    assert _env(containers["facade"])["OMNIA_SESSION_STORE_URL"] == {"secretKeyRef": {"name": "redis", "key": "url"}}
    assert _env(containers["facade"])["OMNIA_SESSION_TYPE"] == "redis"


async def test_cross_namespace_provider_is_refused_by_default() -> None:
    objects = full_set(providers=[{"name": "default", "providerRef": {"name": "openai", "namespace": "shared"}}])
    objects.append(provider(namespace="shared"))
    resolution = await _resolve(objects)
    assert resolution.providers.reason == "ProviderCrossNamespace"


async def test_unsupported_fields_are_reported_not_ignored() -> None:
    resolution = await _resolve(full_set(memory={"enabled": True}))
    assert any("memory" in n for n in resolution.notes)
