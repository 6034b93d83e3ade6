"""Status models: what they dump is what the CRD stores, and what is stored reads back to the same JSON.

The reconcilers compare the dumped status with the stored one to skip needless writes, so a status must
survive model → JSON → model → JSON without a key added, dropped or renamed.
"""

from typing import Any

import pytest
from pydantic import BaseModel

from omnia_operator.api.models.agentruntime import AgentRollout, AgentRuntimeStatus, Replicas
from omnia_operator.api.models.base import Condition, CrdModel
from omnia_operator.api.models.promptpack import PackAgentRollout, PromptPackStatus
from omnia_operator.api.models.provider import ProviderStatus
from omnia_operator.api.models.resources import parse_status
from omnia_operator.api.models.toolregistry import DiscoveredTool, ToolRegistryStatus
from omnia_operator.api.validation import object_schema, validate

READY = Condition(
    type="Ready",
    status="True",
    reason="RuntimeReady",
    message="1/1 pods ready",
    last_transition_time="2026-01-02T03:04:05Z",
    observed_generation=3,
)
FAILED = Condition(
    type="HandlersValid",
    status="False",
    reason="InvalidSpec",
    message="spec.handlers.0: bad",
    last_transition_time="2026-01-02T03:04:05Z",
    observed_generation=2,
)

AGENT = AgentRuntimeStatus(
    phase="Running",
    replicas=Replicas(desired=3, ready=2, available=2),
    active_version="1.0.0",
    service_endpoint="support.default.svc.cluster.local:8080",
    rollout=AgentRollout(
        active=True,
        stable_version="1.0.0",
        candidate_version="1.1.0",
        current_weight=20,
        approximate_weight=25,
        traffic_weight_enforced=False,
        traffic_routing_mode="replicaWeighted",
        message="1 canary pod(s)",
    ),
    conditions=[READY],
    observed_generation=3,
)
PROVIDER = ProviderStatus(phase="Ready", conditions=[READY], observed_generation=3)
REGISTRY = ToolRegistryStatus(
    phase="Degraded",
    discovered_tools_count=1,
    discovered_tools=[
        DiscoveredTool(
            name="get_weather",
            handler_name="weather",
            description="Weather",
            input_schema={"type": "object", "properties": {"city": {"type": "string", "default": None}}},
            endpoint="http://weather:8080/",
            status="Available",
        ),
        DiscoveredTool(name="docs", handler_name="docs", status="Unavailable", error="connection refused"),
    ],
    last_discovery_time="2026-01-02T03:04:05Z",
    conditions=[READY, FAILED],
    observed_generation=3,
)
PACK_CANARY = PromptPackStatus(
    phase="Canary",
    active_version="1.0.0",
    active_snapshot="support-0123456789",
    canary_version="1.1.0",
    canary_snapshot="support-abcdefabcd",
    canary_weight=25,
    canary_started_at="2026-01-02T03:04:05Z",
    step_started_at="2026-01-02T03:09:05Z",
    traffic_weight_enforced=False,
    rollout_message="canary of version 1.1.0 at 25%",
    agents=[
        PackAgentRollout(name="support", state="Canary", canary_replicas=1, canary_ready_replicas=1),
        PackAgentRollout(name="triage", state="Waiting", canary_replicas=0, canary_ready_replicas=0),
    ],
    last_updated="2026-01-02T03:09:05Z",
    conditions=[READY],
    observed_generation=3,
)
STATUSES: list[tuple[str, CrdModel]] = [
    ("AgentRuntime", AGENT),
    ("Provider", PROVIDER),
    ("ToolRegistry", REGISTRY),
    ("PromptPack", PACK_CANARY),
]


@pytest.mark.parametrize(("kind", "status"), STATUSES, ids=[kind for kind, _ in STATUSES])
def test_status_round_trips_model_to_json_to_model_unchanged(kind: str, status: CrdModel) -> None:
    written = status.dump()
    read = type(status).model_validate(written)
    assert read == status
    assert read.dump() == written


@pytest.mark.parametrize(("kind", "status"), STATUSES, ids=[kind for kind, _ in STATUSES])
def test_dumped_status_is_accepted_by_the_crd_status_schema(kind: str, status: CrdModel) -> None:
    schema = object_schema(kind)["properties"]["status"]
    assert validate(schema, status.dump(), ".status") == []


def test_status_json_uses_the_crd_names() -> None:
    written = AGENT.dump()
    assert set(written) == {
        "phase",
        "replicas",
        "activeVersion",
        "serviceEndpoint",
        "rollout",
        "conditions",
        "observedGeneration",
    }
    assert written["rollout"]["trafficRoutingMode"] == "replicaWeighted"
    assert set(written["conditions"][0]) == {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
        "observedGeneration",
    }
    pack = PACK_CANARY.dump()
    assert {"canarySnapshot", "canaryWeight", "trafficWeightEnforced", "lastUpdated"} <= set(pack)
    assert pack["agents"][0] == {"name": "support", "state": "Canary", "canaryReplicas": 1, "canaryReadyReplicas": 1}
    tool = REGISTRY.dump()["discoveredTools"][0]
    assert tool["handlerName"] == "weather"
    assert tool["inputSchema"]["properties"]["city"] == {"type": "string", "default": None}, "schemas kept verbatim"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            AgentRuntimeStatus(phase="Failed", conditions=[FAILED], observed_generation=2),
            {"phase", "conditions", "observedGeneration"},
        ),
        (
            ToolRegistryStatus(phase="Failed", conditions=[FAILED], observed_generation=2),
            {"phase", "conditions", "observedGeneration"},
        ),
        (ProviderStatus(phase="Error", observed_generation=0), {"phase", "conditions", "observedGeneration"}),
        (
            PromptPackStatus(phase="Failed", conditions=[FAILED], observed_generation=2),
            {"phase", "conditions", "observedGeneration"},
        ),
        (
            PromptPackStatus(
                phase="Active", active_snapshot="support-0123456789", active_version="1.0.0", observed_generation=2
            ),
            {"phase", "activeSnapshot", "activeVersion", "conditions", "observedGeneration"},
        ),
    ],
)
def test_unset_optional_fields_are_left_out_of_the_status_json(status: CrdModel, expected: set[str]) -> None:
    assert set(status.dump()) == expected


def test_stored_status_json_reads_back_to_the_same_json() -> None:
    stored: dict[str, Any] = {
        "phase": "Pending",
        "replicas": {"desired": 1, "ready": 0, "available": 0},
        "activeVersion": "1.0.0",
        "serviceEndpoint": "support.default.svc.cluster.local:8080",
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "RuntimeNotReady",
                "message": "0/1 pods ready",
                "lastTransitionTime": "2026-01-02T03:04:05Z",
                "observedGeneration": 1,
            }
        ],
        "observedGeneration": 1,
    }
    assert parse_status({"status": stored}, AgentRuntimeStatus).dump() == stored


@pytest.mark.parametrize(
    ("status_type", "stored"),
    [
        (AgentRuntimeStatus, {"phase": "Exploded"}),
        (ProviderStatus, {"conditions": [{"type": "Ready", "status": "maybe"}]}),
        (ToolRegistryStatus, {"discoveredTools": [{"name": "x"}]}),
        (AgentRuntimeStatus, {"rollout": {"unknownField": 1}}),
        (PromptPackStatus, {"activeSnapshot": "s", "agents": [{"name": "support", "state": "Exploded"}]}),
        (PromptPackStatus, {"canaryWeight": "a lot"}),
    ],
)
def test_unreadable_stored_status_reads_as_empty(status_type: type[BaseModel], stored: dict[str, Any]) -> None:
    assert parse_status({"status": stored}, status_type) == status_type()


def test_pack_canary_no_agent_uses_yet_keeps_its_empty_agents_list() -> None:
    stored = {"phase": "Canary", "canarySnapshot": "support-abcdefabcd", "agents": []}
    assert parse_status({"status": stored}, PromptPackStatus).dump() == {**stored, "conditions": []}
