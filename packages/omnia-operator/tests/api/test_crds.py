"""The generated CRDs: structure, descriptions, drift check, and the upstream samples against them."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from omnia_operator.api import gen_crds
from omnia_operator.api.crds import DEFINITIONS, all_crds
from omnia_operator.api.validation import validate_resource

REPO_ROOT = Path(__file__).resolve().parents[4]
OUR_KINDS = {"AgentRuntime", "PromptPack", "Provider", "ToolRegistry"}


def _walk(schema: dict[str, Any], path: str):
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _walk(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict) and "properties" in schema["items"]:
        yield from _walk(schema["items"], f"{path}[]")


def test_every_spec_and_status_field_has_a_description() -> None:
    for crd in all_crds():
        root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for part in ("spec", "status"):
            for path, node in _walk(root["properties"][part], part):
                assert node.get("description"), f"{crd['metadata']['name']} {path} has no description"


def test_crds_have_group_version_status_subresource_and_short_names_as_upstream() -> None:
    by_kind = {c["spec"]["names"]["kind"]: c for c in all_crds()}
    assert set(by_kind) == OUR_KINDS
    assert by_kind["AgentRuntime"]["spec"]["names"]["shortNames"] == ["agent", "ar"]
    assert by_kind["PromptPack"]["spec"]["names"]["shortNames"] == ["pp"]
    assert by_kind["Provider"]["spec"]["names"]["shortNames"] == ["prov"]
    assert by_kind["ToolRegistry"]["spec"]["names"]["shortNames"] == ["tr"]
    for crd in by_kind.values():
        version = crd["spec"]["versions"][0]
        assert crd["spec"]["group"] == "omnia.altairalabs.ai"
        assert version["name"] == "v1alpha1"
        assert version["subresources"] == {"status": {}}
    columns = [c["jsonPath"] for c in by_kind["AgentRuntime"]["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert columns == [
        ".status.phase",
        ".status.replicas.ready",
        ".status.activeVersion",
        ".metadata.creationTimestamp",
    ]


def _columns(crd: dict[str, Any]) -> list[tuple[str, str, str]]:
    version = crd["spec"]["versions"][0]
    return [(c["name"], c["type"], c["jsonPath"]) for c in version.get("additionalPrinterColumns", [])]


def _upstream_crds(conformance_dir: Path, revision: str) -> dict[str, dict[str, Any]]:
    files = sorted((conformance_dir / revision / "crds").glob("omnia.altairalabs.ai_*.yaml"))
    docs = [yaml.safe_load(f.read_text()) for f in files]
    return {d["spec"]["names"]["kind"]: d for d in docs if d["spec"]["names"]["kind"] in OUR_KINDS}


def test_short_names_match_the_upstream_crds(conformance_dir: Path) -> None:
    head = _upstream_crds(conformance_dir, "upstream-head")
    assert set(head) == OUR_KINDS
    for crd in all_crds():
        kind = crd["spec"]["names"]["kind"]
        assert crd["spec"]["names"]["shortNames"] == head[kind]["spec"]["names"]["shortNames"], kind


def test_printer_columns_match_the_upstream_crds(conformance_dir: Path) -> None:
    head = _upstream_crds(conformance_dir, "upstream-head")
    v02 = _upstream_crds(conformance_dir, "upstream-v0.2")
    ours = {c["spec"]["names"]["kind"]: _columns(c) for c in all_crds()}
    for kind in ("AgentRuntime", "Provider", "ToolRegistry"):
        assert ours[kind] == _columns(head[kind]), kind
    # Our PromptPack keeps v0.2's spec.rollout, which HEAD dropped together with its Strategy column: the
    # columns are v0.2's, and without Strategy exactly HEAD's.
    assert ours["PromptPack"] == _columns(v02["PromptPack"])
    assert [c for c in ours["PromptPack"] if c[0] != "Strategy"] == _columns(head["PromptPack"])


def test_committed_crd_yaml_matches_the_python_source() -> None:
    assert gen_crds.main(["--check", "--out", str(REPO_ROOT / "charts" / "omnia" / "crds")]) == 0


def test_check_exits_1_when_a_generated_file_was_edited(tmp_path: Path) -> None:
    assert gen_crds.main(["--out", str(tmp_path)]) == 0
    assert gen_crds.main(["--check", "--out", str(tmp_path)]) == 0
    target = tmp_path / f"{DEFINITIONS[0].name}.yaml"
    target.write_text(target.read_text() + "# hand edit\n")
    assert gen_crds.main(["--check", "--out", str(tmp_path)]) == 1


def test_check_exits_1_when_a_file_is_missing(tmp_path: Path) -> None:
    assert gen_crds.main(["--check", "--out", str(tmp_path)]) == 1


def _samples(conformance_dir: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    report = json.loads((conformance_dir / "samples-vs-crds.json").read_text())
    found = []
    for entry in report["objects"]:
        for doc in yaml.safe_load_all((conformance_dir / entry["file"]).read_text()):
            if doc and doc.get("kind") == entry["kind"] and doc["metadata"]["name"] == entry["name"]:
                found.append((entry["file"], entry, doc))
    return found


def test_upstream_samples_in_todays_shape_validate_against_our_crds(conformance_dir: Path) -> None:
    checked = 0
    for file, entry, doc in _samples(conformance_dir):
        if entry["vs_head_crd"]["ok"]:
            _, problems = validate_resource(doc)
            assert problems == [], f"{file} {entry['kind']}/{entry['name']}: {problems}"
            checked += 1
    assert checked >= 20


def test_v02_promptpacks_with_rollout_validate_because_our_promptpack_keeps_rollout(conformance_dir: Path) -> None:
    packs = [d for f, e, d in _samples(conformance_dir) if e["kind"] == "PromptPack" and "rollout" in d["spec"]]
    assert packs
    for doc in packs:
        assert validate_resource(doc)[1] == []


def test_v02_shapes_are_rejected_with_the_unknown_field_named(conformance_dir: Path) -> None:
    old = [(e, d) for f, e, d in _samples(conformance_dir) if e["upstream_rev"] == "v0.2" and e["kind"] == "Provider"]
    assert old
    for _, doc in old:
        problems = validate_resource(doc)[1]
        assert any('unknown field "secretRef"' in p for p in problems)


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        ("Provider", {"type": "openai"}, "spec.model is required for all provider types except mock"),
        ("Provider", {"type": "voyageai", "model": "m"}, "voyageai is an embedding-only vendor"),
        (
            "Provider",
            {"type": "openai", "model": "m", "credential": {"envVar": "A", "filePath": "/k"}},
            "at most one credential method",
        ),
        ("Provider", {"type": "openai", "model": "m", "credential": {"envVar": "1bad"}}, "should match"),
        (
            "AgentRuntime",
            {"promptPackRef": {"name": "p", "version": "1.0.0", "track": "stable"}, "facades": [{}]},
            "set promptPackRef.version or .track, not both",
        ),
        (
            "AgentRuntime",
            {"promptPackRef": {"name": "p"}, "facades": [{"type": "websocket"}, {"type": "websocket", "port": 81}]},
            "must not contain duplicate facade types",
        ),
        (
            "AgentRuntime",
            {"promptPackRef": {"name": "p"}, "facades": [{}], "context": {"type": "redis"}},
            "storeRef is required",
        ),
        ("AgentRuntime", {"promptPackRef": {"name": "p"}, "facades": []}, "at least 1 items"),
        ("AgentRuntime", {"promptPackRef": {"name": "p"}, "facades": [{"port": 70000}]}, "less than or equal to 65535"),
        (
            "PromptPack",
            {"version": "one", "source": {"type": "configmap", "configMapRef": {"name": "c"}}},
            "should match",
        ),
        ("PromptPack", {"version": "1.0.0", "source": {"type": "configmap"}}, "configMapRef is required"),
        ("ToolRegistry", {"handlers": [{"name": "h", "type": "http"}]}, "need tool"),
        (
            "ToolRegistry",
            {"handlers": [{"name": "m", "type": "mcp", "mcpConfig": {"transport": "sse"}}]},
            "endpoint is required",
        ),
    ],
)
def test_schema_rejects_bad_specs_with_the_schema_message(kind: str, spec: dict[str, Any], expected: str) -> None:
    doc = {"apiVersion": "omnia.altairalabs.ai/v1alpha1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}
    problems = validate_resource(doc)[1]
    assert any(expected in p for p in problems), problems


def test_defaults_are_applied_before_validation() -> None:
    doc = {"kind": "AgentRuntime", "metadata": {"name": "a"}, "spec": {"promptPackRef": {"name": "p"}, "facades": [{}]}}
    defaulted, problems = validate_resource(doc)
    assert problems == []
    assert defaulted["spec"]["facades"] == [
        {"type": "websocket", "port": 8080, "handler": "runtime", "drainTimeout": "30s", "clientToolTimeout": "60s"}
    ]
    assert defaulted["spec"]["mode"] == "agent"
