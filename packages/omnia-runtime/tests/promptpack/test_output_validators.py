import pytest

from omnia_runtime.errors import ValidationFailedError
from omnia_runtime.promptpack import ValidatorConfig, check_output, unenforced_validators
from omnia_runtime.promptpack.output_validators import CHECKS


def v(kind: str, fail: bool = False, **params: object) -> ValidatorConfig:
    return ValidatorConfig(type=kind, enabled=True, fail_on_violation=fail, params=params)


def test_banned_words_are_reported_case_insensitively() -> None:
    violations = check_output("That is Stupid.", [v("banned_words", words=["stupid", "idiot"])])
    assert [x.validator for x in violations] == ["banned_words"]
    assert "'stupid'" in violations[0].message


def test_length_validators_bound_the_answer() -> None:
    assert check_output("abcdef", [v("max_length", max_characters=5), v("min_length", min_characters=10)]) != []
    assert check_output("abcdef", [v("max_length", max_characters=6), v("min_length", min_characters=6)]) == []


def test_regex_match_reports_an_answer_that_does_not_match() -> None:
    assert check_output("order 123", [v("regex_match", pattern=r"\d{3}")]) == []
    assert len(check_output("no digits", [v("regex_match", pattern=r"\d{3}")])) == 1


def test_json_schema_checks_the_answer_document() -> None:
    schema = {"type": "object", "required": ["answer"]}
    assert check_output('{"answer": 1}', [v("json_schema", schema=schema)]) == []
    assert "required" in check_output("{}", [v("json_schema", schema=schema)])[0].message
    assert "not JSON" in check_output("plain", [v("json_schema", schema=schema)])[0].message


def test_fail_on_violation_raises_instead_of_reporting() -> None:
    with pytest.raises(ValidationFailedError, match="banned_words"):
        check_output("hate", [v("banned_words", fail=True, words=["hate"])])


def test_disabled_and_unimplemented_validators_do_not_report() -> None:
    disabled = ValidatorConfig(type="banned_words", enabled=False, params={"words": ["x"]})
    assert check_output("x", [disabled, v("toxicity", threshold=0.1)]) == []


def test_unenforced_validators_names_each_enabled_type_the_runtime_cannot_run_once() -> None:
    validators = [
        v("banned_words", words=["x"]),
        v("toxicity", threshold=0.1),
        v("pii_detection"),
        v("toxicity", threshold=0.5),
        ValidatorConfig(type="sentiment", enabled=False),
        v("my_company_check"),
    ]
    assert unenforced_validators(validators) == ["toxicity", "pii_detection", "my_company_check"]
    assert unenforced_validators([v(kind) for kind in CHECKS]) == []
