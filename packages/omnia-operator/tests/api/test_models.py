"""Typed models agree with the CRD schema: schema defaulting never changes what the operator reads."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from omnia_operator.api.models.resources import parse_resource
from omnia_operator.api.validation import validate_resource
from omnia_operator.errors import InvalidResourceError

OUR_KINDS = {"AgentRuntime", "PromptPack", "Provider", "ToolRegistry"}


def _docs(conformance_dir: Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted((conformance_dir / "upstream-head" / "samples").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in OUR_KINDS:
                docs.append(doc)
    return docs


def test_models_read_the_same_object_before_and_after_schema_defaulting(conformance_dir: Path) -> None:
    checked = 0
    for doc in _docs(conformance_dir):
        defaulted, problems = validate_resource(doc)
        if problems:
            continue
        assert parse_resource(doc).spec == parse_resource(defaulted).spec, doc["metadata"]["name"]
        checked += 1
    assert checked >= 15


def test_model_rejects_a_field_the_schema_does_not_declare() -> None:
    doc = {"kind": "Provider", "metadata": {"name": "p"}, "spec": {"type": "mock", "secretRef": {"name": "s"}}}
    with pytest.raises(InvalidResourceError, match="secretRef"):
        parse_resource(doc)


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(InvalidResourceError, match="not an Omnia resource"):
        parse_resource({"kind": "Pod", "metadata": {"name": "x"}})


def test_models_dump_back_to_camel_case_names() -> None:
    doc = {
        "kind": "Provider",
        "metadata": {"name": "p"},
        "spec": {"type": "openai", "model": "m", "baseURL": "http://x", "pricing": {"inputCostPer1K": "0.1"}},
    }
    dumped = parse_resource(doc).spec.dump()
    assert dumped["baseURL"] == "http://x"
    assert dumped["pricing"] == {"inputCostPer1K": "0.1"}
