"""helm lint + helm template in every tested configuration, and what the rendered objects must say."""

from typing import Any

import chart_harness as ch
import pytest

CONFIG_NAMES = sorted(ch.CONFIGURATIONS)


def _env(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def _render(config: str) -> list[dict[str, Any]]:
    return ch.manifests(ch.render(ch.CONFIGURATIONS[config]))


@pytest.mark.parametrize("config", CONFIG_NAMES)
def test_chart_lints_clean_in_configuration(config: str) -> None:
    assert ch.lint(ch.CONFIGURATIONS[config]) == []


@pytest.mark.parametrize("config", CONFIG_NAMES)
def test_every_rendered_object_validates_against_kubernetes_schemas(config: str) -> None:
    objects = _render(config)
    assert objects, "the chart rendered nothing"
    problems = [p for obj in objects for p in ch.validate_kubernetes(obj)]
    assert problems == []


@pytest.mark.parametrize("config", CONFIG_NAMES)
def test_operator_pod_is_hardened_in_configuration(config: str) -> None:
    (deployment,) = ch.find(_render(config), "Deployment", "omnia")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]["memory"]


def test_operator_runs_with_probes_json_logs_and_agent_images_by_default() -> None:
    (deployment,) = ch.find(_render("default"), "Deployment", "omnia")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["omnia-operator", "run"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    env = _env(deployment)
    assert env["OMNIA_OPERATOR_LOG_FORMAT"] == "json"
    assert env["OMNIA_OPERATOR_LEADER_ELECT"] == "false"
    assert env["OMNIA_OPERATOR_NAMESPACES"] == ""
    assert env["OMNIA_OPERATOR_FACADE_IMAGE"] == "ghcr.io/altairalabs/omnia-facade:0.1.0"
    assert env["OMNIA_OPERATOR_RUNTIME_IMAGE"] == "ghcr.io/altairalabs/omnia-runtime:0.1.0"
    assert env["OMNIA_OPERATOR_METRICS_PORT"] == "8080"
    assert env["OMNIA_OPERATOR_HEALTH_PORT"] == "8081"


def test_leader_election_and_its_role_come_on_when_replicas_exceed_one() -> None:
    single = _render("default")
    assert not ch.find(single, "Role", "omnia-leader-election")
    objects = _render("ha")
    (deployment,) = ch.find(objects, "Deployment", "omnia")
    assert deployment["spec"]["replicas"] == 3
    assert _env(deployment)["OMNIA_OPERATOR_LEADER_ELECT"] == "true"
    (role,) = ch.find(objects, "Role", "omnia-leader-election")
    assert role["metadata"]["namespace"] == ch.NAMESPACE
    lease_rule = next(r for r in role["rules"] if r["resources"] == ["leases"])
    assert lease_rule["apiGroups"] == ["coordination.k8s.io"]
    (binding,) = ch.find(objects, "RoleBinding", "omnia-leader-election")
    assert binding["subjects"][0]["name"] == "omnia"
    assert ch.find(objects, "PodDisruptionBudget", "omnia")


def test_leader_election_can_be_forced_on_with_one_replica() -> None:
    objects = ch.manifests(ch.render({"leaderElection": {"enabled": True}}))
    (deployment,) = ch.find(objects, "Deployment", "omnia")
    assert _env(deployment)["OMNIA_OPERATOR_LEADER_ELECT"] == "true"
    assert ch.find(objects, "Role", "omnia-leader-election")


def test_cluster_mode_grants_a_cluster_role_and_no_namespaced_roles() -> None:
    objects = _render("default")
    (role,) = ch.find(objects, "ClusterRole", "omnia")
    (binding,) = ch.find(objects, "ClusterRoleBinding", "omnia")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "omnia", "namespace": ch.NAMESPACE}]
    assert not ch.find(objects, "Role")


def test_watched_namespaces_get_one_role_each_and_no_cluster_role() -> None:
    objects = _render("namespaced")
    assert not ch.find(objects, "ClusterRole")
    assert not ch.find(objects, "ClusterRoleBinding")
    roles = ch.find(objects, "Role", "omnia")
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["team-a", "team-b"]
    bindings = ch.find(objects, "RoleBinding", "omnia")
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["team-a", "team-b"]
    (cluster_rules,) = ch.find(_render("default"), "ClusterRole", "omnia")
    assert all(r["rules"] == cluster_rules["rules"] for r in roles)
    (deployment,) = ch.find(objects, "Deployment", "omnia")
    assert _env(deployment)["OMNIA_OPERATOR_NAMESPACES"] == "team-a,team-b"


def test_operator_cannot_write_secrets_or_touch_anything_cluster_wide_but_its_kinds() -> None:
    (role,) = ch.find(_render("default"), "ClusterRole", "omnia")
    for rule in role["rules"]:
        wildcards = [field for field in ("verbs", "resources", "apiGroups") if "*" in rule[field]]
        assert wildcards == []
        if "secrets" in rule["resources"]:
            assert sorted(rule["verbs"]) == ["get", "list", "watch"]
    granted = {(g, r) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
    assert ("", "pods") not in granted
    assert ("rbac.authorization.k8s.io", "roles") not in granted


def test_metrics_service_targets_the_operator_metrics_port() -> None:
    objects = _render("default")
    (service,) = ch.find(objects, "Service", "omnia-metrics")
    (deployment,) = ch.find(objects, "Deployment", "omnia")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"


def test_monitors_select_the_operator_service_and_agent_pods() -> None:
    objects = _render("monitoring")
    (service_monitor,) = ch.find(objects, "ServiceMonitor")
    assert service_monitor["metadata"]["labels"]["release"] == "prometheus"
    (service,) = ch.find(objects, "Service", "omnia-metrics")
    assert service_monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (pod_monitor,) = ch.find(objects, "PodMonitor")
    assert pod_monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/managed-by"] == "omnia-operator"
    endpoints = pod_monitor["spec"]["podMetricsEndpoints"]
    assert [e["port"] for e in endpoints] == ["facade-health", "runtime-health"]
    assert {e["interval"] for e in endpoints} == {"15s"}


def test_network_policy_limits_agent_egress_to_dns_providers_tools_and_redis() -> None:
    objects = _render("network-policy")
    (policy,) = ch.find(objects, "NetworkPolicy")
    assert policy["metadata"]["namespace"] == "agents"
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    egress = policy["spec"]["egress"]
    assert [r["ports"][0]["port"] for r in egress] == [53, 443, 8080, 6379]
    assert egress[1]["to"] == [{"ipBlock": {"cidr": "203.0.113.0/24"}}]
    facade_ingress = policy["spec"]["ingress"][0]
    assert facade_ingress["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert facade_ingress["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "gateway"}


def test_redis_url_secret_exists_in_release_and_listed_namespaces() -> None:
    objects = _render("redis")
    secrets = ch.find(objects, "Secret", "omnia-redis")
    assert sorted(s["metadata"]["namespace"] for s in secrets) == ["agents", ch.NAMESPACE]
    assert {s["stringData"]["url"] for s in secrets} == {"redis://omnia-redis.omnia-system.svc.cluster.local:6379/0"}
    (service,) = ch.find(objects, "Service", "omnia-redis")
    (deployment,) = ch.find(objects, "Deployment", "omnia-redis")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_tracing_settings_reach_the_operator_environment() -> None:
    (deployment,) = ch.find(_render("tracing"), "Deployment", "omnia")
    env = _env(deployment)
    assert env["OMNIA_TRACING_ENABLED"] == "true"
    assert env["OMNIA_TRACING_ENDPOINT"] == "otel-collector.observability:4317"
    assert env["OMNIA_TRACING_SAMPLE_RATE"] == "0.25"
    assert "OMNIA_TRACING_ENDPOINT" not in _env(ch.find(_render("default"), "Deployment", "omnia")[0])


def test_customised_images_and_scheduling_are_applied() -> None:
    (deployment,) = ch.find(_render("customised"), "Deployment", "omnia")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "registry.example.com/omnia-operator:1.2.3"
    env = _env(deployment)
    assert env["OMNIA_OPERATOR_FACADE_IMAGE"] == "registry.example.com/omnia-facade:1.2.3"
    assert env["OMNIA_OPERATOR_WORKERS"] == "8"
    assert env["OMNIA_OPERATOR_LOG_LEVEL"] == "debug"
    assert env["EXTRA"] == "1"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert pod["tolerations"][0]["key"] == "dedicated"


def test_minimal_configuration_creates_no_rbac_service_account_or_metrics() -> None:
    objects = _render("minimal")
    assert {o["kind"] for o in objects} == {"Deployment"}
    (deployment,) = objects
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "preexisting"
    assert [p["name"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]] == ["health"]


def test_notes_explain_how_to_deploy_a_first_agent() -> None:
    rendered = ch.render({"redis": {"enabled": True}})
    notes = next(text for path, text in rendered.items() if path.endswith("NOTES.txt"))
    assert "kubectl apply -f examples/quickstart/" in notes
    assert "storeRef: {name: omnia-redis}" in notes
    assert "--server-side" in notes


def test_chart_crds_are_valid_kubernetes_crds_for_the_four_kinds(crds: dict[tuple[str, str], Any]) -> None:
    assert {kind for _, kind in crds} >= {"AgentRuntime", "PromptPack", "Provider", "ToolRegistry"}
    assert [p for crd in crds.values() for p in ch.validate_kubernetes(crd)] == []
    loaded = {c["name"] for c in ch.load_chart().crds}
    assert len(loaded) == len(crds), "helm does not see every CRD file under crds/"


@pytest.mark.parametrize("config", ["default", "ha", "namespaced", "customised"])
def test_operator_settings_read_every_operator_variable_the_chart_sets(
    config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_module = pytest.importorskip("omnia_operator.settings", reason="the operator settings have not landed")
    (deployment,) = ch.find(_render(config), "Deployment", "omnia")
    env = {k: v if isinstance(v, str) else ch.NAMESPACE for k, v in _env(deployment).items()}
    fields = settings_module.OperatorSettings.model_fields
    unknown = [
        n for n in env if n.startswith("OMNIA_OPERATOR_") and n.removeprefix("OMNIA_OPERATOR_").lower() not in fields
    ]
    assert unknown == [], "the chart sets variables the operator does not read"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = settings_module.OperatorSettings()
    assert settings.leader_elect is (config == "ha")
    assert settings.leader_election_namespace == ch.NAMESPACE
    assert settings.namespaces == (["team-a", "team-b"] if config == "namespaced" else [])
    assert settings.workers == ch.CONFIGURATIONS[config].get("operator", {}).get("workers", 10)
    assert settings.health_port == 8081
    assert settings.facade_image.endswith(":1.2.3" if config == "customised" else ":0.1.0")
