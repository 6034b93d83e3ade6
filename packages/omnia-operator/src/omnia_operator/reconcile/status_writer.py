"""Compare-before-write status updates shared by the reconcilers.

This is the one place a typed status becomes JSON: `CrdModel.dump()` (camelCase aliases, unset optional
fields omitted), compared with the stored status so an unchanged verdict writes nothing.
"""

from typing import Any

from omnia_operator.api.models.base import CrdModel
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import ConflictError
from omnia_operator.kube.resources import ResourceKind

ATTEMPTS = 4


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
