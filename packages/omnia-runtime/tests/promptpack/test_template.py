import pytest

from omnia_runtime.errors import TemplateError
from omnia_runtime.promptpack import Variable, render


def test_render_substitutes_values_defaults_and_fragments() -> None:
    variables = [Variable(name="company", default="Acme"), Variable(name="user", required=True)]
    text = render(
        "{{fragment:intro}} {{ user }} at {{company}}; {{tone}}",
        {"user": "Ann"},
        variables=variables,
        fragments={"intro": "Hello from {{company}}.", "tone": "be kind"},
    )
    assert text == "Hello from Acme. Ann at Acme; be kind"


def test_render_names_every_missing_required_variable() -> None:
    variables = [Variable(name="a", required=True), Variable(name="b", required=True), Variable(name="c")]
    with pytest.raises(TemplateError, match="a, b"):
        render("{{a}}{{b}}{{c}}", {}, variables=variables)


def test_render_never_evaluates_expressions() -> None:
    assert render("{{ __import__('os') }} {{x}}", {"x": 1}) == "{{ __import__('os') }} 1"


def test_render_formats_non_string_values_as_json() -> None:
    assert render("{{a}} {{b}} {{c}}", {"a": True, "b": {"k": 1}, "c": 2.5}) == 'true {"k": 1} 2.5'


def test_render_refuses_a_fragment_that_includes_itself() -> None:
    with pytest.raises(TemplateError, match="nests too deep"):
        render("{{fragment:loop}}", {}, fragments={"loop": "again {{fragment:loop}}"})


def test_render_refuses_an_unknown_explicit_fragment() -> None:
    with pytest.raises(TemplateError, match="'nope'"):
        render("{{fragments.nope}}", {})
