"""Kubernetes Events for condition transitions (best effort: a failed Event never fails a reconcile)."""

import logging
import secrets
from typing import Any

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import KubeError
from omnia_operator.reconcile.conditions import now

logger = logging.getLogger(__name__)
COMPONENT = "omnia-operator"


class EventRecorder:
    def __init__(self, client: KubeClient) -> None:
        self._client = client

    async def record(self, obj: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        meta = obj.get("metadata") or {}
        timestamp = now()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{secrets.token_hex(8)}", "namespace": meta.get("namespace")},
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "name": meta.get("name"),
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "type": event_type,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "firstTimestamp": timestamp,
            "lastTimestamp": timestamp,
            "count": 1,
        }
        try:
            await self._client.create(kinds.EVENT, event)
        except KubeError as e:
            logger.warning("could not record event %s on %s: %s", reason, meta.get("name"), e)
