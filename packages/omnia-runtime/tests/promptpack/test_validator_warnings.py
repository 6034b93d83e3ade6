"""validate-pack warns about validators the runtime cannot enforce, without failing a valid pack."""

import json
from pathlib import Path
from typing import Any

import pytest

from omnia_runtime.cli import main
from omnia_runtime.promptpack import lint_pack_data, validate_pack_data, validator_warnings


def pack_with_validators(validators: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "guarded",
        "name": "Guarded",
        "version": "1.0.0",
        "template_engine": {"version": "v1", "syntax": "{{variable}}"},
        "prompts": {
            "main": {
                "id": "main",
                "name": "Main",
                "version": "1.0.0",
                "system_template": "Be kind.",
                "validators": validators,
            }
        },
    }


def test_validator_warnings_list_each_enabled_unimplemented_validator_with_its_path() -> None:
    data = pack_with_validators(
        [
            {"type": "banned_words", "enabled": True, "params": {"words": ["x"]}},
            {"type": "toxicity", "enabled": True, "params": {"threshold": 0.2}},
            {"type": "sentiment", "enabled": False},
            {"type": "custom", "enabled": True},
        ]
    )
    warnings = validator_warnings(data)
    assert [w.split(": ", 1)[0] for w in warnings] == ["/prompts/main/validators/1", "/prompts/main/validators/3"]
    assert "'toxicity' is not enforced" in warnings[0]
    assert "'custom' is not enforced" in warnings[1]


def test_validator_warnings_tolerate_malformed_prompts_and_validators() -> None:
    assert validator_warnings({"prompts": {"a": "not an object", "b": {"validators": ["x", {"type": 3}]}}}) == []
    assert validator_warnings(["not", "a", "pack"]) == []


def test_validate_pack_warns_about_unenforced_validators_and_still_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack_with_validators([{"type": "pii_detection", "enabled": True}])))
    assert main(["validate-pack", str(path)]) == 0
    captured = capsys.readouterr()
    assert "valid PromptPack" in captured.out
    assert "warning: /prompts/main/validators/0: validator type 'pii_detection' is not enforced" in captured.err


def test_validate_pack_prints_no_warning_when_every_validator_is_enforced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack_with_validators([{"type": "max_length", "enabled": True, "params": {"max": 9}}])))
    assert main(["validate-pack", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_conformance_packs_keep_their_exit_codes_and_unenforced_validators_only_warn(
    conformance_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expectations = json.loads((conformance_dir / "promptpack" / "expectations.json").read_text())["files"]
    warned = 0
    for path in sorted((conformance_dir / "promptpack").glob("*/*.json")):
        if path.parent.name not in ("valid", "invalid"):
            continue
        data = json.loads(path.read_text())
        valid = expectations[f"{path.parent.name}/{path.name}"]["valid"]["omnia_embedded_1.3.1"]
        # Structural verdict: the embedded schema's; the full run also fails on authoring problems (lint).
        assert main(["validate-pack", "--schema-only", str(path)]) == (0 if valid else 1), path.name
        full = 0 if valid and not lint_pack_data(data) and not validate_pack_data(data) else 1
        assert main(["validate-pack", str(path)]) == full, path.name
        err = capsys.readouterr().err
        for warning in validator_warnings(data):
            assert f"warning: {warning}" in err
            warned += 1
    assert warned  # the kit holds packs with validators the runtime cannot enforce (pii_detection, toxicity)
