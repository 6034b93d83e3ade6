"""Provider and PromptPack reconciles against the fake API server."""

from typing import Any

from manifests import VALID_PACK, pack_config_map, prompt_pack, provider, secret  # pyright: ignore[reportMissingImports]

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.reconcile.kube_source import KubeObjectSource
from omnia_operator.reconcile.promptpack import PACK_LABEL, PromptPackReconciler
from omnia_operator.reconcile.provider import ProviderReconciler
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"


def _conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in obj["status"]["conditions"]}


async def test_provider_without_its_secret_is_error_then_ready_when_created(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.PROVIDER, provider())
    reconciler = ProviderReconciler(kube, KubeObjectSource(kube))
    outcome = await reconciler.reconcile(NS, "openai")
    stored = await kube.get(kinds.PROVIDER, "openai", NS)
    assert stored["status"]["phase"] == "Error"
    assert _conditions(stored)["CredentialConfigured"]["reason"] == "SecretNotFound"
    assert outcome.requeue_after is not None
    await kube.create(kinds.SECRET, secret("openai-key", {"api-key": "k"}))
    await reconciler.reconcile(NS, "openai")
    stored = await kube.get(kinds.PROVIDER, "openai", NS)
    assert stored["status"]["phase"] == "Ready"
    before = api.write_count
    await reconciler.reconcile(NS, "openai")
    assert api.write_count == before


async def test_provider_secret_without_an_expected_key_names_the_keys(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.PROVIDER, provider(type="claude", model="claude-sonnet"))
    await kube.create(kinds.SECRET, secret("openai-key", {"wrong": "k"}))
    await ProviderReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "openai")
    message = _conditions(await kube.get(kinds.PROVIDER, "openai", NS))["CredentialConfigured"]["message"]
    assert "ANTHROPIC_API_KEY" in message


async def test_mock_provider_needs_no_model_or_secret(api: FakeKubeAPI, kube: KubeClient) -> None:
    mock = provider(name="mock", type="mock")
    del mock["spec"]["model"]
    del mock["spec"]["credential"]
    await kube.create(kinds.PROVIDER, mock)
    await ProviderReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "mock")
    assert (await kube.get(kinds.PROVIDER, "mock", NS))["status"]["phase"] == "Ready"


async def test_promptpack_is_active_with_a_valid_pack_and_labelled(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.CONFIG_MAP, pack_config_map())
    await kube.create(kinds.PROMPT_PACK, prompt_pack())
    reconciler = PromptPackReconciler(kube, KubeObjectSource(kube))
    await reconciler.reconcile(NS, "support")
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    assert stored["status"]["phase"] == "Active"
    assert stored["status"]["activeVersion"] == "1.0.0"
    assert stored["metadata"]["labels"][PACK_LABEL] == "support"
    before = api.write_count
    await reconciler.reconcile(NS, "support")
    assert api.write_count == before


async def test_promptpack_with_invalid_pack_json_fails_with_the_problems(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.CONFIG_MAP, pack_config_map(pack={"id": "only-id"}))
    await kube.create(kinds.PROMPT_PACK, prompt_pack())
    await PromptPackReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "support")
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    assert stored["status"]["phase"] == "Failed"
    assert _conditions(stored)["SourceValid"]["status"] == "True"
    assert _conditions(stored)["SchemaValid"]["reason"] == "PackInvalid"


async def test_promptpack_without_its_configmap_fails_source_validation(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.PROMPT_PACK, prompt_pack())
    outcome = await PromptPackReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "support")
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    assert _conditions(stored)["SourceValid"]["reason"] == "ConfigMapNotFound"
    assert outcome.requeue_after is not None


async def test_first_version_of_a_canary_pack_is_active_at_once_from_an_immutable_snapshot(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await kube.create(kinds.CONFIG_MAP, pack_config_map())
    await kube.create(kinds.PROMPT_PACK, prompt_pack(rollout={"type": "canary", "canary": {"weight": 20}}))
    await PromptPackReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "support")
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    assert stored["status"]["phase"] == "Active"
    assert "canaryVersion" not in stored["status"]
    snapshot = await kube.get(kinds.CONFIG_MAP, stored["status"]["activeSnapshot"], NS)
    assert snapshot["immutable"] is True
    assert snapshot["metadata"]["ownerReferences"][0]["uid"] == stored["metadata"]["uid"]
    source = await kube.get(kinds.CONFIG_MAP, "support-pack", NS)
    assert snapshot["data"] == source["data"]


async def test_provider_fields_the_runtime_ignores_are_reported(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.PROVIDER, provider(defaults={"contextWindow": 8000}))
    await kube.create(kinds.SECRET, secret("openai-key", {"api-key": "k"}))
    await ProviderReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "openai")
    supported = _conditions(await kube.get(kinds.PROVIDER, "openai", NS))["FeaturesSupported"]
    assert supported["status"] == "False"
    assert "contextWindow" in supported["message"]


async def test_promptpack_skills_are_reported_as_unsupported(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.CONFIG_MAP, pack_config_map())
    await kube.create(kinds.PROMPT_PACK, prompt_pack(skills=[{"source": "my-skills"}]))
    await PromptPackReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "support")
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    assert _conditions(stored)["SkillsResolved"]["reason"] == "SkillsNotSupported"


LINT_PACK = {
    **VALID_PACK,
    "prompts": {
        "default": {
            **VALID_PACK["prompts"]["default"],
            "system_template": "Help {{customer_name}} with their order.",
            "tools": ["lookup_order"],
        }
    },
}


async def _warning_events(kube: KubeClient) -> list[dict[str, Any]]:
    events = (await kube.list(kinds.EVENT, NS)).items
    return [e for e in events if e["type"] == "Warning" and e["reason"] == "AuthoringWarnings"]


async def test_promptpack_with_authoring_warnings_stays_active_and_shows_them_once(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await kube.create(kinds.CONFIG_MAP, pack_config_map(pack=LINT_PACK))
    await kube.create(kinds.PROMPT_PACK, prompt_pack())
    reconciler = PromptPackReconciler(kube, KubeObjectSource(kube))
    await reconciler.reconcile(NS, "support")
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    assert stored["status"]["phase"] == "Active"
    assert _conditions(stored)["SchemaValid"]["status"] == "True"
    linted = _conditions(stored)["Linted"]
    assert (linted["status"], linted["reason"]) == ("False", "AuthoringWarnings")
    assert "'lookup_order' is not defined in /tools" in linted["message"]
    assert "'customer_name' is not declared" in linted["message"]
    [event] = await _warning_events(kube)
    assert "2 authoring warning(s)" in event["message"]
    assert "lookup_order" in event["message"]
    assert "customer_name" in event["message"]
    assert event["involvedObject"]["name"] == "support"
    before = api.write_count
    await reconciler.reconcile(NS, "support")
    assert api.write_count == before, "an unchanged pack must record no new Event nor status"


async def test_promptpack_authoring_warnings_clear_when_the_pack_is_fixed(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.CONFIG_MAP, pack_config_map(pack=LINT_PACK))
    await kube.create(kinds.PROMPT_PACK, prompt_pack())
    reconciler = PromptPackReconciler(kube, KubeObjectSource(kube))
    await reconciler.reconcile(NS, "support")
    await kube.replace(kinds.CONFIG_MAP, {**await kube.get(kinds.CONFIG_MAP, "support-pack", NS), **pack_config_map()})
    await reconciler.reconcile(NS, "support")
    linted = _conditions(await kube.get(kinds.PROMPT_PACK, "support", NS))["Linted"]
    assert (linted["status"], linted["reason"]) == ("True", "NoAuthoringWarnings")
    assert len(await _warning_events(kube)) == 1


async def test_promptpack_event_lists_a_bounded_number_of_warnings(api: FakeKubeAPI, kube: KubeClient) -> None:
    tools = [f"tool_{i}_{'x' * 200}" for i in range(40)]
    pack = {**VALID_PACK, "prompts": {"default": {**VALID_PACK["prompts"]["default"], "tools": tools}}}
    await kube.create(kinds.CONFIG_MAP, pack_config_map(pack=pack))
    await kube.create(kinds.PROMPT_PACK, prompt_pack())
    await PromptPackReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "support")
    [event] = await _warning_events(kube)
    assert "40 authoring warning(s)" in event["message"]
    assert len(event["message"]) <= 1024
    linted = _conditions(await kube.get(kinds.PROMPT_PACK, "support", NS))["Linted"]
    assert "(+20 more)" in linted["message"]
    assert (await kube.get(kinds.PROMPT_PACK, "support", NS))["status"]["phase"] == "Active"


async def test_promptpack_structural_problems_fail_it_without_a_linted_condition(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    broken = {**LINT_PACK, "workflow": {"version": 1, "entry": "nowhere", "states": {}}}
    await kube.create(kinds.CONFIG_MAP, pack_config_map(pack=broken))
    await kube.create(kinds.PROMPT_PACK, prompt_pack())
    await PromptPackReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "support")
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    assert stored["status"]["phase"] == "Failed"
    assert "/workflow/entry" in _conditions(stored)["SchemaValid"]["message"]
    assert "Linted" not in _conditions(stored)
    assert await _warning_events(kube) == []
