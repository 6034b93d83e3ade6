"""Every pack of the shared conformance kit gets the verdict Omnia's embedded v1.3.1 schema gives it."""

import json
from pathlib import Path

import pytest

from omnia_runtime.errors import PackError
from omnia_runtime.promptpack import load_pack, validate_pack_data


def _expectations(conformance_dir: Path) -> dict[str, dict]:
    return json.loads((conformance_dir / "promptpack" / "expectations.json").read_text())["files"]


def test_every_valid_pack_loads_with_no_problem(conformance_dir: Path) -> None:
    packs = sorted((conformance_dir / "promptpack" / "valid").glob("*.json"))
    assert packs
    for path in packs:
        assert validate_pack_data(json.loads(path.read_text())) == [], path.name
        assert load_pack(path).prompts, path.name


def test_every_invalid_pack_reports_each_expected_json_path(conformance_dir: Path) -> None:
    expectations = _expectations(conformance_dir)
    packs = sorted((conformance_dir / "promptpack" / "invalid").glob("*.json"))
    assert packs
    for path in packs:
        expected = expectations[f"invalid/{path.name}"]
        assert expected["valid"]["omnia_embedded_1.3.1"] is False
        problems = validate_pack_data(json.loads(path.read_text()))
        reported_paths = {problem.split(": ", 1)[0] for problem in problems}
        assert reported_paths == {error["path"] for error in expected["omnia_embedded_errors"]}, path.name
        with pytest.raises(PackError) as raised:
            load_pack(path)
        assert raised.value.problems == problems


def test_expectations_cover_every_pack_file(conformance_dir: Path) -> None:
    files = {
        f"{p.parent.name}/{p.name}"
        for p in (conformance_dir / "promptpack").glob("*/*.json")
        if p.parent.name != "mock-provider"
    }
    assert files <= set(_expectations(conformance_dir))
