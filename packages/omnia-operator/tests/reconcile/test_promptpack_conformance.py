"""Every pack of the shared conformance kit, served through a ConfigMap and reconciled as a PromptPack, gets
the verdict expectations.json gives it under Omnia's embedded schema: valid packs are Active (authoring
warnings or not), invalid ones Failed with each expected JSON path in the SchemaValid message."""

import json
import re
from pathlib import Path
from typing import Any

from manifests import pack_config_map, prompt_pack  # pyright: ignore[reportMissingImports]

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.reconcile.kube_source import KubeObjectSource
from omnia_operator.reconcile.promptpack import PromptPackReconciler
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
SCHEMA = "omnia_embedded_1.3.1"


def _object_name(path: Path) -> str:
    return re.sub(r"[^a-z0-9-]", "-", path.stem.lower())[:50].strip("-")


async def _reconciled(kube: KubeClient, path: Path) -> dict[str, Any]:
    name = _object_name(path)
    await kube.create(kinds.CONFIG_MAP, pack_config_map(f"{name}-pack", json.loads(path.read_text())))
    await kube.create(kinds.PROMPT_PACK, prompt_pack(name, config_map=f"{name}-pack"))
    await PromptPackReconciler(kube, KubeObjectSource(kube)).reconcile(NS, name)
    return await kube.get(kinds.PROMPT_PACK, name, NS)


def _conditions(stored: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in stored["status"]["conditions"]}


def _packs(conformance_dir: Path, verdict: str) -> list[tuple[Path, dict[str, Any]]]:
    expectations = json.loads((conformance_dir / "promptpack" / "expectations.json").read_text())["files"]
    packs = sorted((conformance_dir / "promptpack" / verdict).glob("*.json"))
    assert packs, f"no {verdict} packs in the conformance kit"
    return [(path, expectations[f"{verdict}/{path.name}"]) for path in packs]


async def test_every_expected_valid_conformance_pack_is_active(
    conformance_dir: Path, api: FakeKubeAPI, kube: KubeClient
) -> None:
    with_warnings = []
    for path, expected in _packs(conformance_dir, "valid"):
        assert expected["valid"][SCHEMA] is True
        stored = await _reconciled(kube, path)
        conditions = _conditions(stored)
        assert stored["status"]["phase"] == "Active", (path.name, conditions["SchemaValid"]["message"])
        assert conditions["SchemaValid"]["status"] == "True", path.name
        assert stored["status"]["activeSnapshot"], path.name
        if conditions["Linted"]["status"] == "False":
            assert conditions["Linted"]["reason"] == "AuthoringWarnings"
            with_warnings.append(path.name)
    # upstream serves packs whose prompts list ToolRegistry tools or use run-time variables: they must not fail
    assert "spec-customer-support.json" in with_warnings
    assert "promptkit-variables.json" in with_warnings


async def test_every_expected_invalid_conformance_pack_fails_naming_its_problems(
    conformance_dir: Path, api: FakeKubeAPI, kube: KubeClient
) -> None:
    for path, expected in _packs(conformance_dir, "invalid"):
        assert expected["valid"][SCHEMA] is False
        stored = await _reconciled(kube, path)
        schema_valid = _conditions(stored)["SchemaValid"]
        assert stored["status"]["phase"] == "Failed", path.name
        assert (schema_valid["status"], schema_valid["reason"]) == ("False", "PackInvalid"), path.name
        assert "activeSnapshot" not in stored["status"], path.name
        for error in expected["omnia_embedded_errors"]:
            assert f"{error['path']}: " in schema_valid["message"], (path.name, error["path"])
