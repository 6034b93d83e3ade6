"""Our CRDs served by the fake API server: it accepts today's upstream samples and rejects bad specs with
the schema's message, in agreement with the offline validator used by `render`."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from omnia_operator.api.validation import validate_resource
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import InvalidError
from omnia_operator.reconcile.kube_source import KINDS
from omnia_operator.testing.fakekube import FakeKubeAPI


def _samples(conformance_dir: Path) -> list[dict[str, Any]]:
    report = json.loads((conformance_dir / "samples-vs-crds.json").read_text())
    found = []
    for entry in report["objects"]:
        for doc in yaml.safe_load_all((conformance_dir / entry["file"]).read_text()):
            if doc and doc.get("kind") == entry["kind"] and doc["metadata"]["name"] == entry["name"]:
                found.append(doc)
    return found


async def test_fake_api_agrees_with_the_offline_validator_on_every_sample(
    api: FakeKubeAPI, kube: KubeClient, conformance_dir: Path
) -> None:
    for index, doc in enumerate(_samples(conformance_dir)):
        body = {**doc, "metadata": {"name": f"{doc['metadata']['name']}-{index}", "namespace": "default"}}
        # Unknown fields are pruned by an API server (kubectl's strict field validation rejects them client-side).
        offline = [p for p in validate_resource(body)[1] if "unknown field" not in p]
        try:
            await kube.create(KINDS[doc["kind"]], body)
            accepted = True
        except InvalidError:
            accepted = False
        assert accepted == (offline == []), f"{doc['kind']} {doc['metadata']['name']}: offline={offline}"


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        ("Provider", {"type": "openai"}, "spec.model is required for all provider types except mock"),
        ("AgentRuntime", {"promptPackRef": {"name": "p"}, "facades": [{}], "context": {"type": "redis"}}, "storeRef"),
        ("PromptPack", {"version": "v1", "source": {"type": "configmap", "configMapRef": {"name": "c"}}}, "version"),
        (
            "ToolRegistry",
            {"handlers": [{"name": "h", "type": "http", "httpConfig": {"endpoint": "http://x"}}]},
            "need tool",
        ),
    ],
)
async def test_fake_api_rejects_bad_specs_with_the_schema_message(
    api: FakeKubeAPI, kube: KubeClient, kind: str, spec: dict[str, Any], expected: str
) -> None:
    body = {
        "apiVersion": "omnia.altairalabs.ai/v1alpha1",
        "kind": kind,
        "metadata": {"name": "x", "namespace": "default"},
        "spec": spec,
    }
    with pytest.raises(InvalidError, match=expected):
        await kube.create(KINDS[kind], body)
