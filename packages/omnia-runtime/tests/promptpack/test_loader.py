import json
from pathlib import Path
from typing import Any

import pytest

from omnia_runtime.errors import PackError
from omnia_runtime.promptpack import lint_pack_data, load_pack, parse_pack, resolve_entry_prompt, validate_pack_data


def pack_data(**prompts: dict[str, Any]) -> dict[str, Any]:
    def prompt(key: str, extra: dict[str, Any]) -> dict[str, Any]:
        return {"id": key, "name": key, "version": "1.0.0", "system_template": "Hi", **extra}

    return {
        "id": "demo",
        "name": "Demo",
        "version": "1.0.0",
        "template_engine": {"version": "v1", "syntax": "{{variable}}"},
        "prompts": {key: prompt(key, extra) for key, extra in (prompts or {"main": {}}).items()},
    }


def test_validate_reports_missing_required_keys_with_their_json_path() -> None:
    data = pack_data()
    del data["template_engine"]
    data["prompts"]["main"]["tool_policy"] = {"max_rounds": 0}
    problems = validate_pack_data(data)
    assert "/: 'template_engine' is a required property" in problems
    assert any(p.startswith("/prompts/main/tool_policy/max_rounds: ") for p in problems)


def test_validate_rejects_a_non_object_document() -> None:
    assert validate_pack_data(["not", "a", "pack"]) == ["/: ['not', 'a', 'pack'] is not of type 'object'"]


def test_validate_reports_an_explicit_fragment_the_pack_lacks() -> None:
    data = pack_data(main={"system_template": "{{fragment:tone}}"})
    assert validate_pack_data(data) == ["/prompts/main/system_template: uses fragment 'tone', which /fragments lacks"]


def test_validate_reports_a_workflow_entry_that_is_not_a_state() -> None:
    data = pack_data()
    data["workflow"] = {"version": 1, "entry": "start", "states": {"other": {"prompt_task": "main", "on_event": {}}}}
    assert validate_pack_data(data) == ["/workflow/entry: 'start' is not one of the workflow states"]


def test_lint_reports_undefined_tools_and_undeclared_variables() -> None:
    data = pack_data(main={"system_template": "Hello {{who}} {{tone}}", "tools": ["search", "lookup"]})
    data["tools"] = {"lookup": {"name": "lookup", "description": "d"}}
    data["fragments"] = {"tone": "kind"}
    assert lint_pack_data(data) == [
        "/prompts/main/tools/0: tool 'search' is not defined in /tools",
        "/prompts/main/system_template: variable 'who' is not declared in /prompts/main/variables",
    ]


def test_load_pack_names_the_file_when_it_is_missing(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="OMNIA_PROMPTPACK_PATH"):
        load_pack(tmp_path / "absent.json")


def test_load_pack_reports_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "pack.json"
    path.write_text("{not json")
    with pytest.raises(PackError, match="not valid JSON") as raised:
        load_pack(path)
    assert raised.value.problems


def test_load_pack_types_the_prompt_defaults(tmp_path: Path) -> None:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack_data(main={"tool_policy": {"max_rounds": 3}})))
    prompt = load_pack(path).prompts["main"]
    assert prompt.tool_policy.max_rounds == 3
    assert prompt.tool_policy.max_tool_calls_per_turn == 10


@pytest.mark.parametrize(
    ("extra", "fallback", "expected"),
    [
        ({"workflow": {"version": 1, "entry": "s", "states": {"s": {"prompt_task": "b", "on_event": {}}}}}, "a", "b"),
        ({"agents": {"entry": "b", "members": {}}}, "a", "b"),
        ({}, "a", "a"),
    ],
)
def test_entry_prompt_follows_workflow_then_agents_then_fallback(
    extra: dict[str, Any], fallback: str, expected: str
) -> None:
    pack = parse_pack(pack_data(a={}, b={}) | extra)
    assert resolve_entry_prompt(pack, fallback)[0] == expected


def test_entry_prompt_is_the_only_prompt_whatever_its_name() -> None:
    assert resolve_entry_prompt(parse_pack(pack_data(main={})), "default")[0] == "main"


def test_entry_prompt_error_lists_the_prompts_when_nothing_matches() -> None:
    with pytest.raises(PackError, match="a, b"):
        resolve_entry_prompt(parse_pack(pack_data(a={}, b={})), "default")
