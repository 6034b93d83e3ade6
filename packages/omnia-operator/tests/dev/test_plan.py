from pathlib import Path
from typing import Any

import pytest
import yaml
from manifests import (  # pyright: ignore[reportMissingImports]
    agent_runtime,
    full_set,
    pack_config_map,
    prompt_pack,
    provider,
)

from omnia_operator.dev.plan import plan_from_manifests
from omnia_operator.errors import ManifestError


def _write(tmp_path: Path, objects: list[dict[str, Any]]) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    return path


async def test_manifests_resolve_to_the_operators_plan(tmp_path: Path) -> None:
    dev = await plan_from_manifests([_write(tmp_path, full_set())])
    assert dev.agent.name == "support"
    assert '"id": "support"' in dev.plan.pack.text
    env = {e["name"]: e for e in dev.plan.runtime_env}
    assert env["OMNIA_PROVIDER_TYPE"]["value"] == "openai"
    assert env["OMNIA_PROVIDER_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "openai-key"
    assert [c["kind"] for c in dev.plan.children] == ["Deployment", "Service"]


async def test_a_secret_missing_from_the_manifests_does_not_block_resolution(tmp_path: Path) -> None:
    objects = [o for o in full_set() if o["kind"] != "Secret"]
    dev = await plan_from_manifests([_write(tmp_path, objects)])
    assert await dev.lookup("Secret", "default", "openai-key") is None, "the placeholder is not a real object"
    assert any(e["name"] == "OMNIA_PROVIDER_API_KEY" for e in dev.plan.runtime_env)


async def test_several_agents_need_a_choice(tmp_path: Path) -> None:
    objects = [*full_set(), agent_runtime("second")]
    with pytest.raises(ManifestError, match=r"several AgentRuntimes.*support.*second.*--agent"):
        await plan_from_manifests([_write(tmp_path, objects)])
    dev = await plan_from_manifests([_write(tmp_path, objects)], agent_name="second")
    assert dev.agent.name == "second"


async def test_an_unknown_agent_name_lists_the_ones_found(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no AgentRuntime named 'nope'.*found: support"):
        await plan_from_manifests([_write(tmp_path, full_set())], agent_name="nope")


async def test_a_missing_prompt_pack_fails_with_the_operators_reason(tmp_path: Path) -> None:
    objects = [pack_config_map(), provider(), agent_runtime()]
    with pytest.raises(ManifestError, match=r"PromptPackReady=False \(PromptPackNotFound\)"):
        await plan_from_manifests([_write(tmp_path, objects)])


async def test_a_schema_violation_names_the_object_and_field(tmp_path: Path) -> None:
    bad = prompt_pack()
    bad["spec"]["rollout"] = {"type": "sideways"}
    objects = [pack_config_map(), bad, provider(), agent_runtime()]
    with pytest.raises(ManifestError, match=r"invalid manifests:\n  PromptPack default/support: .*rollout"):
        await plan_from_manifests([_write(tmp_path, objects)])


async def test_input_without_an_agent_says_what_to_point_at(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no AgentRuntime in the input"):
        await plan_from_manifests([_write(tmp_path, [pack_config_map()])])
