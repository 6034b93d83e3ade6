"""ObjectSource backed by the Kubernetes API (the resolution layer's view of the cluster)."""

from collections.abc import Mapping

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.kube.resources import KubeObject, ResourceKind
from omnia_operator.resolve.source import has_pack_name

KINDS: dict[str, ResourceKind] = {
    k.kind: k
    for k in (
        kinds.CONFIG_MAP,
        kinds.SECRET,
        kinds.SERVICE,
        kinds.DEPLOYMENT,
        kinds.HPA,
        kinds.AGENT_RUNTIME,
        kinds.PROMPT_PACK,
        kinds.PROVIDER,
        kinds.TOOL_REGISTRY,
    )
}


class KubeObjectSource:
    """Reads straight from the API server; missing objects are None, not errors."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client

    async def get(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        try:
            return await self._client.get(KINDS[kind], name, namespace)
        except NotFoundError:
            return None

    async def prompt_packs_named(self, namespace: str, pack_name: str) -> list[KubeObject]:
        # the API cannot select on spec fields: list the namespace's packs and keep that name's
        return [o for o in await self.list("PromptPack", namespace) if has_pack_name(o, pack_name)]

    async def list(self, kind: str, namespace: str, labels: Mapping[str, str] | None = None) -> list[KubeObject]:
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else None
        return (await self._client.list(KINDS[kind], namespace, label_selector=selector)).items
