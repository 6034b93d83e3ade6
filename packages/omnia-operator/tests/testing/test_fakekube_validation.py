"""Custom resources against their CRD schema: pruning, defaulting, structural validation, CEL rules."""

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import AGENT_RUNTIME, PROMPT_PACK, PROVIDER, TOOL_REGISTRY, ResourceKind
from omnia_operator.testing.fakekube import FakeKubeAPI

GADGET = ResourceKind("example.com", "v1", "Gadget", "gadgets")
GADGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "required": ["mode"],
            "x-kubernetes-validations": [
                {"rule": "!(has(self.version) && has(self.track))",
                 "message": "version and track are mutually exclusive"},
                {"rule": "self.mode != 'remote' || has(self.endpoint)",
                 "message": "endpoint is required when mode is remote",
                 "fieldPath": ".endpoint", "reason": "FieldValueRequired"},
            ],
            "properties": {
                "mode": {"type": "string", "enum": ["local", "remote"]},
                "endpoint": {"type": "string", "pattern": "^https?://"},
                "replicas": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1, "format": "int32"},
                "name": {"type": "string", "minLength": 1, "maxLength": 8},
                "version": {"type": "string"},
                "track": {"type": "string"},
                "port": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "options": {
                    "type": "object",
                    "default": {},
                    "properties": {"timeout": {"type": "string", "default": "30s"}},
                },
                "frozen": {
                    "type": "string",
                    "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "frozen is immutable"}],
                },
            },
        },
        "status": {"type": "object", "properties": {"phase": {"type": "string", "enum": ["Ready", "Failed"]}}},
    },
}  # fmt: skip
GADGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Gadget", "plural": "gadgets", "singular": "gadget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": GADGET_SCHEMA},
            }
        ],
    },
}


def gadget(object_name: str = "g", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": object_name, "namespace": "default"}, "spec": {"mode": "local", **spec}}


@pytest.fixture
async def gadgets(api: FakeKubeAPI) -> FakeKubeAPI:
    api.register_crds([GADGET_CRD])
    return api


async def rejected(kube: KubeClient, obj: dict[str, Any]) -> str:
    with pytest.raises(errors.InvalidError) as caught:
        await kube.create(GADGET, obj)
    return caught.value.message


async def test_defaults_fill_absent_fields_including_nested_ones(gadgets: FakeKubeAPI, kube: KubeClient) -> None:
    created = await kube.create(GADGET, gadget())
    assert created["spec"]["replicas"] == 1
    assert created["spec"]["options"] == {"timeout": "30s"}


async def test_unknown_fields_are_pruned_but_preserved_where_the_schema_allows(
    gadgets: FakeKubeAPI, kube: KubeClient
) -> None:
    created = await kube.create(
        GADGET, gadget(typo="x", labels={"any": "thing"}, free={"nested": {"deep": 1}}) | {"extra": 1}
    )
    assert "typo" not in created["spec"]
    assert "extra" not in created
    assert created["spec"]["labels"] == {"any": "thing"}
    assert created["spec"]["free"] == {"nested": {"deep": 1}}


async def test_strict_field_validation_refuses_unknown_fields(gadgets: FakeKubeAPI) -> None:
    body = {"apiVersion": "example.com/v1", "kind": "Gadget", **gadget(typo="x")}
    url = gadgets.url + "/apis/example.com/v1/namespaces/default/gadgets?fieldValidation=Strict"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        answer = await response.json()
    assert response.status == 400
    assert 'unknown field "spec.typo"' in answer["message"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"mode": "elsewhere"}, 'spec.mode: Unsupported value: "elsewhere": supported values: "local", "remote"'),
        (
            {"replicas": 11},
            "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
        ),
        (
            {"replicas": -1},
            "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
        ),
        ({"replicas": "two"}, 'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer'),
        ({"name": ""}, 'spec.name: Invalid value: "": spec.name in body should be at least 1 chars long'),
        ({"name": "far-too-long"}, "spec.name: Too long: may not be more than 8 bytes"),
        ({"endpoint": "ftp://x", "mode": "remote"}, "spec.endpoint in body should match '^https?://'"),
        ({"tags": ["a", "b", "c"]}, "spec.tags: Too many: 3: must have at most 2 items"),
        ({"tags": ["a", "a"]}, 'spec.tags[1]: Duplicate value: "a"'),
        ({"labels": {"k": 1}}, "spec.labels[k]: Invalid value"),
        ({"port": 1.5}, "spec.port: Invalid value"),
    ],
)
async def test_schema_violations_are_422_with_the_field_in_the_message(
    gadgets: FakeKubeAPI, kube: KubeClient, spec: dict[str, Any], expected: str
) -> None:
    message = await rejected(kube, gadget(**spec))
    assert message.startswith('Gadget.example.com "g" is invalid: ')
    assert expected in message


async def test_missing_required_field_is_reported_and_blocks_cel_rules_like_the_api_server(
    gadgets: FakeKubeAPI, kube: KubeClient
) -> None:
    message = await rejected(kube, {"metadata": {"name": "g", "namespace": "default"}, "spec": {}})
    assert message.startswith('Gadget.example.com "g" is invalid: [spec.mode: Required value, <nil>: ')
    assert "some validation rules were not checked because the object was invalid" in message
    assert "endpoint is required" not in message


async def test_every_violation_is_listed(gadgets: FakeKubeAPI, kube: KubeClient) -> None:
    message = await rejected(kube, gadget(mode="nope", replicas=99))
    assert message.count("spec.") >= 2
    assert "[" in message


async def test_int_or_string_accepts_both(gadgets: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(GADGET, gadget("a", port=8080))
    await kube.create(GADGET, gadget("b", port="http"))


async def test_cel_rule_failure_reports_its_message_at_the_node(gadgets: FakeKubeAPI, kube: KubeClient) -> None:
    message = await rejected(kube, gadget(version="1.0.0", track="stable"))
    assert 'spec: Invalid value: "object": version and track are mutually exclusive' in message


async def test_cel_rule_with_field_path_and_reason(gadgets: FakeKubeAPI, kube: KubeClient) -> None:
    message = await rejected(kube, gadget(mode="remote"))
    assert "spec.endpoint: Required value: endpoint is required when mode is remote" in message
    await kube.create(GADGET, gadget(mode="remote", endpoint="https://example.com"))


async def test_transition_rule_applies_on_update_only(gadgets: FakeKubeAPI, kube: KubeClient) -> None:
    created = await kube.create(GADGET, gadget(frozen="a"))
    with pytest.raises(errors.InvalidError) as caught:
        await kube.patch(GADGET, "g", {"spec": {"frozen": "b"}}, namespace="default")
    assert "frozen is immutable" in caught.value.message
    same = await kube.patch(GADGET, "g", {"spec": {"replicas": 2}}, namespace="default")
    assert same["spec"]["frozen"] == "a"
    assert same["metadata"]["generation"] == created["metadata"]["generation"] + 1


async def test_status_writes_are_validated_too(gadgets: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(GADGET, gadget())
    with pytest.raises(errors.InvalidError) as caught:
        await kube.patch_status(GADGET, "g", {"phase": "Sideways"}, namespace="default")
    assert "status.phase: Unsupported value" in caught.value.message
    written = await kube.patch_status(GADGET, "g", {"phase": "Ready"}, namespace="default")
    assert written["status"] == {"phase": "Ready"}


# ------------------------------------------------------------------ the upstream Omnia CRDs and samples
KINDS = {"AgentRuntime": AGENT_RUNTIME, "PromptPack": PROMPT_PACK, "Provider": PROVIDER, "ToolRegistry": TOOL_REGISTRY}


def load_crds(directory: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted(directory.glob("*.yaml"))]


async def test_upstream_samples_are_admitted_or_rejected_as_the_head_crds_say(
    api: FakeKubeAPI, kube: KubeClient, conformance_dir: Path
) -> None:
    """samples-vs-crds.json records, per upstream sample, whether the HEAD CRD schema (with CEL) accepts it."""
    api.register_crds(load_crds(conformance_dir / "upstream-head" / "crds"))
    verdicts = json.loads((conformance_dir / "samples-vs-crds.json").read_text())["objects"]
    checked = 0
    for entry in verdicts:
        verdict = entry.get("vs_head_crd")
        if not verdict or entry["kind"] not in KINDS:
            continue
        documents = list(yaml.safe_load_all((conformance_dir / entry["file"]).read_text()))
        obj = next(
            d for d in documents if d and d.get("kind") == entry["kind"] and d["metadata"]["name"] == entry["name"]
        )
        obj = {**obj, "metadata": {**obj["metadata"], "namespace": f"ns-{checked}"}}
        schema_problems = [p for p in verdict["problems"] if "UNKNOWN FIELD" not in p]
        if schema_problems:
            with pytest.raises(errors.InvalidError):
                await kube.create(KINDS[entry["kind"]], obj)
        else:  # unknown fields alone are pruned (no strict field validation requested)
            await kube.create(KINDS[entry["kind"]], obj)
        checked += 1
    assert checked >= 8
