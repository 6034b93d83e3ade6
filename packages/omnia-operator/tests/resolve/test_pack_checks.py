"""check_pack_data reports exactly what `omnia-runtime validate-pack` reports, split by severity."""

import json
from pathlib import Path

import pytest
from manifests import VALID_PACK  # pyright: ignore[reportMissingImports]

from omnia_operator.resolve.pack_checks import check_pack_data, summarize
from omnia_runtime.cli import validate_pack_command

AUTHORING = {
    **VALID_PACK,
    "prompts": {
        "default": {
            **VALID_PACK["prompts"]["default"],
            "system_template": "Hello {{customer}}",
            "tools": ["lookup"],
            "validators": [{"type": "toxicity", "enabled": True}],
        }
    },
}
BROKEN = {**AUTHORING, "agents": {"entry": "nobody", "members": {}}}


def _validate_pack_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: object) -> tuple[int, str]:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(data))
    code = validate_pack_command(path)
    return code, capsys.readouterr().err


def test_a_clean_pack_has_no_problem_and_no_warning() -> None:
    findings = check_pack_data(VALID_PACK)
    assert findings.problems == ()
    assert findings.warnings == ()


def test_authoring_findings_are_warnings_that_validate_pack_also_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    findings = check_pack_data(AUTHORING)
    assert findings.problems == ()
    assert len(findings.warnings) == 3
    assert any("'lookup' is not defined" in w for w in findings.warnings)
    assert any("'customer' is not declared" in w for w in findings.warnings)
    assert any("'toxicity' is not enforced" in w for w in findings.warnings)
    code, err = _validate_pack_lines(tmp_path, capsys, AUTHORING)
    assert code == 1
    for warning in findings.warnings:
        assert warning in err


def test_structural_problems_block_and_match_validate_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    findings = check_pack_data(BROKEN)
    assert findings.problems == ("/agents/entry: 'nobody' is not a key of /prompts",)
    assert findings.problems[0] not in findings.warnings
    code, err = _validate_pack_lines(tmp_path, capsys, BROKEN)
    assert code == 1
    assert findings.problems[0] in err


def test_a_non_object_pack_is_a_problem_not_a_crash() -> None:
    findings = check_pack_data(["not", "a", "pack"])
    assert findings.problems
    assert findings.warnings == ()


def test_summarize_lists_the_first_findings_and_counts_the_rest() -> None:
    assert summarize(("a", "b", "c"), 2) == "a; b (+1 more)"
    assert summarize(("a", "b"), 2) == "a; b"
