import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omnia_runtime.cli import LOW_LATENCY_GRPC_EXPERIMENTS, main

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


# `serve` with a bad setting stops right after reading its settings: far enough to see what it set up.
SERVE_PROBE = """
import os, sys
from omnia_runtime.cli import main
code = main(["serve"])
print(code, repr(os.environ.get("GRPC_EXPERIMENTS")), "grpc" in sys.modules, sep="|")
"""


@pytest.mark.parametrize("user_value", [None, "", "event_engine_client"])
def test_serve_prefers_grpcs_older_poller_before_grpc_is_imported_unless_the_user_chose(
    user_value: str | None,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GRPC_EXPERIMENTS"} | {"OMNIA_GRPC_PORT": "not-a-port"}
    if user_value is not None:
        env["GRPC_EXPERIMENTS"] = user_value
    done = subprocess.run([sys.executable, "-c", SERVE_PROBE], env=env, capture_output=True, text=True, timeout=60)
    expected = LOW_LATENCY_GRPC_EXPERIMENTS if user_value is None else user_value
    assert done.stdout.strip().split("|") == ["2", repr(expected), "False"], done.stderr
    assert "grpc_port" in done.stderr  # the settings error is still what the user sees
