"""PromptPack reconcile: the ConfigMap exists and holds a pack.json that passes the runtime's validation.

Agents that use the pack are requeued by the PromptPack watch mapping (see mapping.py), not from here.
Canary rollout is accepted but not effective yet: the status says so instead of pretending.
"""

from typing import Any

from omnia_operator.api.models.resources import parse_prompt_pack
from omnia_operator.errors import InvalidResourceError
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.reconcile.agentruntime import Outcome
from omnia_operator.reconcile.conditions import condition, now
from omnia_operator.reconcile.status_writer import write_status
from omnia_operator.resolve.promptpacks import load_pack_content, pack_name
from omnia_operator.resolve.source import ObjectSource

PACK_LABEL = "omnia.altairalabs.ai/promptpack"
_SOURCE_REASONS = ("SourceInvalid", "ConfigMapNotFound", "PackJsonMissing")


class PromptPackReconciler:
    def __init__(self, client: KubeClient, source: ObjectSource) -> None:
        self._client = client
        self._source = source

    async def reconcile(self, namespace: str, name: str) -> Outcome:
        try:
            raw = await self._client.get(kinds.PROMPT_PACK, name, namespace)
        except NotFoundError:
            return Outcome()
        meta = raw.get("metadata") or {}
        generation = int(meta.get("generation") or 0)
        old_status = raw.get("status") or {}
        existing: list[dict[str, Any]] = list(old_status.get("conditions") or [])
        try:
            pack = parse_prompt_pack(raw)
        except InvalidResourceError as e:
            status = {
                "phase": "Failed",
                "observedGeneration": generation,
                "conditions": [condition(existing, "SchemaValid", False, "InvalidSpec", str(e), generation)],
            }
            await write_status(self._client, kinds.PROMPT_PACK, raw, status)
            return Outcome()
        logical = pack_name(pack)
        if pack.metadata.labels.get(PACK_LABEL) != logical:
            patch = {"metadata": {"labels": {PACK_LABEL: logical}}}
            raw = await self._client.patch(kinds.PROMPT_PACK, name, patch, namespace=namespace)
        content, check = await load_pack_content(pack, self._source)
        source_ok = content is not None or check.reason not in _SOURCE_REASONS
        conditions = [
            condition(
                existing,
                "SourceValid",
                source_ok,
                "SourceFound" if source_ok else check.reason,
                "ConfigMap holds pack.json" if source_ok else check.message,
                generation,
            ),
            condition(
                existing,
                "SchemaValid",
                content is not None,
                "PackValid" if content is not None else ("SourceInvalid" if not source_ok else check.reason),
                check.message,
                generation,
            ),
        ]
        if pack.spec.skills:
            conditions.append(
                condition(
                    existing,
                    "SkillsResolved",
                    False,
                    "SkillsNotSupported",
                    "spec.skills is not supported yet: the pack runs without skills",
                    generation,
                )
            )
        rollout = pack.spec.rollout
        if rollout is not None and rollout.type == "canary":
            conditions.append(
                condition(
                    existing,
                    "RolloutEffective",
                    False,
                    "CanaryNotSupported",
                    "canary rollout is not implemented yet: agents switch to this version at once",
                    generation,
                )
            )
        status: dict[str, Any] = {
            "phase": "Active" if content is not None else "Failed",
            "observedGeneration": generation,
            "conditions": conditions,
        }
        if content is not None:
            status["activeVersion"] = pack.spec.version
        comparable = {k: v for k, v in old_status.items() if k != "lastUpdated"}
        status["lastUpdated"] = old_status.get("lastUpdated") if comparable == status else now()
        if status["lastUpdated"] is None:
            status["lastUpdated"] = now()
        await write_status(self._client, kinds.PROMPT_PACK, raw, status)
        return Outcome(None if content is not None else check.requeue_after)
