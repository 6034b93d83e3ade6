"""Every manifest under examples/ is valid: Kubernetes objects against the Kubernetes schemas, custom
resources against our CRDs, packs against the PromptPack v1.3 schema, and every reference resolves."""

import json
from pathlib import Path
from typing import Any

import chart_harness as ch
import jsonschema
import pytest

EXAMPLE_FILES = ch.example_files()
OMNIA_GROUP = "omnia.altairalabs.ai"
# Directories whose manifests lean on another example being applied first.
DEPENDS_ON = {"providers": ["quickstart"], "canary": ["quickstart"]}


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ch.EXAMPLES_DIR)) for p in paths]


def _objects_of(directory: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for name in [*DEPENDS_ON.get(directory, []), directory]:
        for path in sorted((ch.EXAMPLES_DIR / name).glob("*.yaml")):
            objects.extend(ch.load_example_objects(path))
    return objects


def _packs(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (o["metadata"]["name"], json.loads(o["data"]["pack.json"]))
        for o in objects
        if o["kind"] == "ConfigMap" and "pack.json" in o.get("data", {})
    ]


def test_examples_cover_quickstart_tools_providers_and_canary() -> None:
    directories = {p.relative_to(ch.EXAMPLES_DIR).parts[0] for p in EXAMPLE_FILES}
    assert {"quickstart", "tools", "providers", "canary"} <= directories
    kinds = {o["kind"] for _, o in ch.iter_example_objects()}
    assert {"Provider", "PromptPack", "ToolRegistry", "AgentRuntime", "ConfigMap", "Secret"} <= kinds


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=_ids(EXAMPLE_FILES))
def test_example_builtin_objects_validate_against_kubernetes_schemas(path: Path) -> None:
    objects = ch.load_example_objects(path)
    assert objects, f"{path} holds no object"
    builtin = [o for o in objects if not o["apiVersion"].startswith(OMNIA_GROUP)]
    assert [p for o in builtin for p in ch.validate_kubernetes(o)] == []


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=_ids(EXAMPLE_FILES))
def test_example_custom_resources_validate_against_our_crds(path: Path, crds: dict[tuple[str, str], Any]) -> None:
    custom = [o for o in ch.load_example_objects(path) if o["apiVersion"].startswith(OMNIA_GROUP)]
    assert [p for o in custom for p in ch.validate_custom_resource(o, crds)] == []


def test_crd_validation_rejects_a_misspelt_field(crds: dict[tuple[str, str], Any]) -> None:
    provider = {"apiVersion": f"{OMNIA_GROUP}/v1alpha1", "kind": "Provider", "metadata": {"name": "p"}}
    assert ch.validate_custom_resource({**provider, "spec": {"type": "mock"}}, crds) == []
    problems = ch.validate_custom_resource({**provider, "spec": {"type": "mock", "modle": "x"}}, crds)
    assert any("modle" in p for p in problems)
    assert ch.validate_custom_resource({**provider, "spec": {"type": "gpt"}}, crds) != []


def test_every_example_pack_is_valid_promptpack_v1_3(conformance_dir: Path) -> None:
    schema = json.loads((conformance_dir / "promptpack" / "promptpack.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    packs = _packs([o for _, o in ch.iter_example_objects()])
    assert len(packs) >= 3
    problems = [f"{name}: {e.json_path}: {e.message}" for name, pack in packs for e in validator.iter_errors(pack)]
    assert problems == []


def test_pack_schema_check_catches_a_broken_pack(conformance_dir: Path) -> None:
    schema = json.loads((conformance_dir / "promptpack" / "promptpack.schema.json").read_text())
    _, pack = _packs(_objects_of("quickstart"))[0]
    broken = {k: v for k, v in pack.items() if k != "template_engine"}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))


def test_every_example_pack_passes_the_runtime_pack_validator() -> None:
    promptpack = pytest.importorskip("omnia_runtime.promptpack", reason="the runtime's pack loader has not landed")
    if not hasattr(promptpack, "validate_pack_data"):
        pytest.skip("omnia_runtime.promptpack.validate_pack_data has not landed")
    for name, pack in _packs([o for _, o in ch.iter_example_objects()]):
        assert promptpack.validate_pack_data(pack) == [], name


@pytest.mark.parametrize("directory", ["quickstart", "tools", "providers", "canary"])
def test_every_reference_in_an_example_resolves(directory: str) -> None:
    objects = _objects_of(directory)
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    secrets = {
        o["metadata"]["name"]: set(o.get("stringData", {})) | set(o.get("data", {}))
        for o in objects
        if o["kind"] == "Secret"
    }
    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    pack_names = {o["spec"].get("packName", o["metadata"]["name"]) for o in objects if o["kind"] == "PromptPack"}
    missing: list[str] = []
    for obj in objects:
        spec, label = obj.get("spec", {}), f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "PromptPack" and "pack.json" not in config_maps.get(
            spec["source"]["configMapRef"]["name"], {}
        ):
            missing.append(f"{label}: ConfigMap {spec['source']['configMapRef']['name']} with key pack.json")
        if obj["kind"] == "Provider" and "secretRef" in spec.get("credential", {}):
            ref = spec["credential"]["secretRef"]
            if ref.get("key", "") not in secrets.get(ref["name"], set()):
                missing.append(f"{label}: Secret {ref['name']} key {ref.get('key')}")
        if obj["kind"] == "ToolRegistry":
            for handler in spec["handlers"]:
                ref = handler.get("auth", {}).get("secretRef")
                if ref and ref["key"] not in secrets.get(ref["name"], set()):
                    missing.append(f"{label}: Secret {ref['name']} key {ref['key']}")
        if obj["kind"] == "AgentRuntime":
            if spec["promptPackRef"]["name"] not in pack_names:
                missing.append(f"{label}: PromptPack {spec['promptPackRef']['name']}")
            missing.extend(
                f"{label}: Provider {b['providerRef']['name']}"
                for b in spec.get("providers", [])
                if ("Provider", b["providerRef"]["name"]) not in names
            )
            registry = spec.get("toolRegistryRef", {}).get("name")
            if registry and ("ToolRegistry", registry) not in names:
                missing.append(f"{label}: ToolRegistry {registry}")
    assert missing == []
