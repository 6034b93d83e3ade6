"""values.schema.json rejects bad values with a message naming the key, before anything renders."""

import json
from typing import Any

import chart_harness as ch
import helm_python as helm
import pytest

BAD_VALUES: list[tuple[dict[str, Any], str]] = [
    ({"replicaCount": "3"}, "/replicaCount"),
    ({"replicaCount": -1}, "/replicaCount"),
    ({"unknownTopLevel": True}, "unknownTopLevel"),
    ({"operator": {"workers": 0}}, "/operator/workers"),
    ({"operator": {"logLevel": "verbose"}}, "/operator/logLevel"),
    ({"operator": {"logFormat": "xml"}}, "/operator/logFormat"),
    ({"operator": {"watchNamespaces": ["Team_A"]}}, "/operator/watchNamespaces/0"),
    ({"operator": {"watchNamespaces": ["a", "a"]}}, "/operator/watchNamespaces"),
    ({"operator": {"watchNamspaces": ["a"]}}, "watchNamspaces"),
    ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
    ({"metrics": {"port": 70000}}, "/metrics/port"),
    ({"healthPort": 0}, "/healthPort"),
    ({"agentImages": {"facade": {"repository": ""}}}, "/agentImages/facade/repository"),
    ({"networkPolicy": {"enabled": True}}, "/networkPolicy/agentNamespaces"),
    ({"networkPolicy": {"egress": {"llmProviders": {"cidrs": [{"cidr": "everywhere"}]}}}}, "cidr"),
    ({"tracing": {"enabled": True}}, "/tracing/endpoint"),
    ({"tracing": {"sampleRate": 2}}, "/tracing/sampleRate"),
    ({"serviceMonitor": {"interval": "often"}}, "/serviceMonitor/interval"),
    ({"redis": {"maxmemory": "lots"}}, "/redis/maxmemory"),
    ({"resources": {"limits": {"memory": "a lot"}}}, "/resources/limits/memory"),
    ({"podDisruptionBudget": {"minAvailable": "half"}}, "/podDisruptionBudget/minAvailable"),
]


@pytest.mark.parametrize(("values", "where"), BAD_VALUES, ids=[json.dumps(v) for v, _ in BAD_VALUES])
def test_schema_rejects_bad_value_naming_the_key(values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        ch.render(values)
    assert where in str(caught.value)


def test_schema_accepts_every_tested_configuration() -> None:
    chart = ch.load_chart()
    for values in ch.CONFIGURATIONS.values():
        chart.validate_schema(values)


def test_schema_forbids_unknown_keys_at_every_object_level() -> None:
    schema = json.loads((ch.CHART_DIR / "values.schema.json").read_text())
    loose: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        if "properties" in node and node.get("additionalProperties") is not False:
            loose.append(path or "<root>")
        for key, child in node.get("properties", {}).items():
            walk(child, f"{path}.{key}")

    walk(schema, "")
    assert loose == []


def test_every_default_value_is_described_by_the_schema() -> None:
    import yaml

    defaults = yaml.safe_load((ch.CHART_DIR / "values.yaml").read_text())
    schema = json.loads((ch.CHART_DIR / "values.schema.json").read_text())
    assert set(defaults) <= set(schema["properties"])
    ch.load_chart().validate_schema(defaults)


def test_rendering_fails_clearly_when_service_monitor_has_no_metrics_service() -> None:
    with pytest.raises(helm.HelmError) as caught:
        ch.render({"serviceMonitor": {"enabled": True}, "metrics": {"enabled": False, "port": 8080}})
    assert "serviceMonitor.enabled needs metrics.enabled" in str(caught.value)


def test_rendering_fails_clearly_without_a_service_account_name_when_not_created() -> None:
    with pytest.raises(helm.HelmError) as caught:
        ch.render({"serviceAccount": {"create": False}})
    assert "serviceAccount.name is required" in str(caught.value)
