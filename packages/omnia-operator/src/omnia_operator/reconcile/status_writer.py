"""Compare-before-write status updates shared by the reconcilers."""

from typing import Any

from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import ConflictError
from omnia_operator.kube.resources import ResourceKind

ATTEMPTS = 4


async def write_status(client: KubeClient, kind: ResourceKind, raw: dict[str, Any], status: dict[str, Any]) -> bool:
    """Replace .status when it differs from what is stored; True when a write happened."""
    meta = raw["metadata"]
    current = raw
    for _ in range(ATTEMPTS):
        if (current.get("status") or {}) == status:
            return False
        try:
            await client.replace_status(kind, {**current, "status": status})
            return True
        except ConflictError:
            current = await client.get(kind, meta["name"], meta["namespace"])
    raise ConflictError(f"{kind.kind} {meta['name']}: status kept changing during {ATTEMPTS} attempts")
