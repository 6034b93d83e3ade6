"""Compare-before-write status updates shared by the reconcilers.

This is the one place a typed status becomes JSON: `CrdModel.dump()` (camelCase aliases, unset optional
fields omitted), compared with the stored status so an unchanged verdict writes nothing.
"""

from typing import Any, TypeVar

from omnia_operator.api.models.agentruntime import AgentRuntimeStatus
from omnia_operator.api.models.base import CrdModel
from omnia_operator.api.models.promptpack import PromptPackStatus
from omnia_operator.api.models.provider import ProviderStatus
from omnia_operator.api.models.resources import parse_metadata, parse_status
from omnia_operator.api.models.toolregistry import ToolRegistryStatus
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import ConflictError
from omnia_operator.kube.resources import ResourceKind
from omnia_operator.reconcile.conditions import make_condition

ATTEMPTS = 4
Status = TypeVar("Status", AgentRuntimeStatus, PromptPackStatus, ProviderStatus, ToolRegistryStatus)


def status_json(status: CrdModel) -> dict[str, Any]:
    """The status as it is stored: the model through its aliases, unset fields left out."""
    return status.dump()


async def write_status(client: KubeClient, kind: ResourceKind, raw: dict[str, Any], status: CrdModel) -> bool:
    """Replace .status when it differs from what is stored; True when a write happened."""
    body = status_json(status)
    meta = raw["metadata"]
    current = raw
    for _ in range(ATTEMPTS):
        if (current.get("status") or {}) == body:
            return False
        try:
            await client.replace_status(kind, {**current, "status": body})
            return True
        except ConflictError:
            current = await client.get(kind, meta["name"], meta["namespace"])
    raise ConflictError(f"{kind.kind} {meta['name']}: status kept changing during {ATTEMPTS} attempts")


def invalid_spec_status(
    raw: dict[str, Any], status_type: type[Status], *, phase: Any, condition: str, message: str
) -> Status:
    """The status of an object whose spec the models cannot read: `phase`, and `condition` False with reason
    InvalidSpec and the parse problems; the stored conditions keep their transition times. `phase` is one of
    `status_type`'s phases (checked by the model)."""
    generation = parse_metadata(raw).generation
    existing = parse_status(raw, status_type).conditions
    return status_type(
        phase=phase,
        observed_generation=generation,
        conditions=[make_condition(existing, condition, False, "InvalidSpec", message, generation)],
    )
