import json
from pathlib import Path

import pytest

from omnia_runtime.cli import main

PACK = {
    "id": "cli-pack",
    "name": "CLI",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "prompts": {
        "main": {"id": "main", "name": "Main", "version": "1.0.0", "system_template": "Hi {{who}}", "tools": ["t"]}
    },
}


def test_validate_pack_exits_zero_for_a_valid_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(json.dumps(PACK))
    data["prompts"]["main"] |= {"system_template": "Hi", "tools": []}
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(data))
    assert main(["validate-pack", str(path)]) == 0
    assert "valid PromptPack" in capsys.readouterr().out


def test_validate_pack_lists_undefined_tools_and_undeclared_variables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(PACK))
    assert main(["validate-pack", str(path)]) == 1
    err = capsys.readouterr().err
    assert "/prompts/main/tools/0: tool 't' is not defined" in err
    assert "variable 'who' is not declared" in err
    assert main(["validate-pack", "--schema-only", str(path)]) == 0


def test_validate_pack_lists_every_schema_error_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(json.dumps(PACK))
    del data["template_engine"]
    data["prompts"]["main"]["validators"] = [{"type": "regex", "enabled": True}]
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(data))
    assert main(["validate-pack", str(path)]) == 1
    err = capsys.readouterr().err
    assert "/: 'template_engine' is a required property" in err
    assert "/prompts/main/validators/0/type: 'regex' is not one of" in err
    # Structural problems do not hide the authoring ones: every problem is listed in one run.
    assert "/prompts/main/tools/0: tool 't' is not defined" in err
    assert "variable 'who' is not declared" in err


def test_validate_pack_survives_prompts_of_the_wrong_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(json.dumps(PACK))
    data["prompts"]["other"] = ["not", "an", "object"]
    data["prompts"]["main"]["variables"] = "who"
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(data))
    assert main(["validate-pack", str(path)]) == 1
    err = capsys.readouterr().err
    assert "/prompts/other" in err
    assert "variable 'who' is not declared" in err


def test_validate_pack_reports_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate-pack", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["validate-pack", "--help"]])
def test_help_is_available_everywhere(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    assert "omnia-runtime" in capsys.readouterr().out
