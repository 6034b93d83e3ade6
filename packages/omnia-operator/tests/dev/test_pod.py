import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from manifests import full_set, secret, tool_registry  # pyright: ignore[reportMissingImports]

from omnia_operator.dev.plan import plan_from_manifests
from omnia_operator.dev.pod import LocalContainer, PodError, PodMaterializer


async def _containers(
    tmp_path: Path, objects: list[dict[str, Any]], environ: dict[str, str] | None = None
) -> dict[str, LocalContainer]:
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    dev = await plan_from_manifests([path])
    materializer = PodMaterializer(dev.lookup, tmp_path / "work", environ or {}, "default")
    deployment = next(c for c in dev.plan.children if c["kind"] == "Deployment")
    return {c.name: c for c in await materializer.containers(deployment)}


def _with_tools() -> list[dict[str, Any]]:
    return [*full_set(toolRegistryRef={"name": "tools"}), tool_registry(), secret("weather-token", {"token": "t0k"})]


async def test_pack_and_tools_are_written_where_the_env_points(tmp_path: Path) -> None:
    runtime = (await _containers(tmp_path, _with_tools()))["runtime"]
    pack = Path(runtime.env["OMNIA_PROMPTPACK_PATH"])
    tools = Path(runtime.env["OMNIA_TOOLS_CONFIG_PATH"])
    assert pack.is_relative_to(tmp_path / "work")
    assert '"id": "support"' in pack.read_text()
    handler = yaml.safe_load(tools.read_text())["handlers"][0]
    token_file = Path(handler["httpConfig"]["authTokenPath"])
    assert token_file.is_relative_to(tmp_path / "work"), "pod paths inside tools.yaml are rewritten"
    assert token_file.read_text() == "t0k"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


async def test_secret_key_refs_come_from_the_manifests_first(tmp_path: Path) -> None:
    runtime = (await _containers(tmp_path, full_set(), {"OMNIA_PROVIDER_API_KEY": "from-env"}))["runtime"]
    assert runtime.env["OMNIA_PROVIDER_API_KEY"] == "sk-test"
    assert runtime.missing == []


async def test_secret_key_refs_missing_from_the_manifests_fall_back_to_the_environment(tmp_path: Path) -> None:
    objects = [o for o in full_set() if o["kind"] != "Secret"]
    runtime = (await _containers(tmp_path, objects, {"OMNIA_PROVIDER_API_KEY": "from-env"}))["runtime"]
    assert runtime.env["OMNIA_PROVIDER_API_KEY"] == "from-env"
    bare = (await _containers(tmp_path, objects))["runtime"]
    assert "OMNIA_PROVIDER_API_KEY" not in bare.env
    assert any("set OMNIA_PROVIDER_API_KEY" in m for m in bare.missing)


async def test_the_tmp_scratch_mount_stays_the_machines_tmp(tmp_path: Path) -> None:
    containers = await _containers(tmp_path, full_set())
    assert all("/tmp" not in c.mounts for c in containers.values())
    assert "/etc/omnia/pack" in containers["facade"].mounts


async def test_containers_with_their_own_command_cannot_run_locally(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump_all(full_set()))
    dev = await plan_from_manifests([path])
    deployment = next(c for c in dev.plan.children if c["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][1]["command"] = ["/custom"]
    with pytest.raises(PodError, match="container runtime: only the facade and runtime images run locally"):
        await PodMaterializer(dev.lookup, tmp_path / "work", {}, "default").containers(deployment)


async def test_host_path_volumes_are_refused_with_the_volume_name(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump_all(full_set()))
    dev = await plan_from_manifests([path])
    deployment = next(c for c in dev.plan.children if c["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    with pytest.raises(PodError, match="volume host: only configMap"):
        await PodMaterializer(dev.lookup, tmp_path / "work", {}, "default").containers(deployment)
