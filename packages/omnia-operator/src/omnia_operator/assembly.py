"""Assemble the operator: informers per watched namespace, the four controllers and the watches between kinds.

The watches between kinds map an event to the objects that reference it through informer indexes
(reconcile/mapping.py), so their cost does not grow with the number of agents."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from omnia_operator.controller.controller import Controller, ObjectKey, ReconcileResult
from omnia_operator.controller.informer import Informer
from omnia_operator.controller.manager import Manager
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import ResourceKind
from omnia_operator.reconcile import mapping
from omnia_operator.reconcile.agentruntime import AgentRuntimeReconciler, Outcome
from omnia_operator.reconcile.child_cache import ChildCache
from omnia_operator.reconcile.informer_source import InformerObjectSource
from omnia_operator.reconcile.promptpack import PromptPackReconciler
from omnia_operator.reconcile.provider import ProviderReconciler
from omnia_operator.reconcile.tool_discovery import ToolDiscovery
from omnia_operator.reconcile.toolregistry import ToolRegistryReconciler
from omnia_operator.settings import OperatorSettings

MANAGED = "app.kubernetes.io/managed-by=omnia-operator"


@dataclass
class Assembly:
    manager: Manager
    agents: Controller
    providers: Controller
    prompt_packs: Controller
    tool_registries: Controller


def _adapt(reconcile: Callable[[str, str], Awaitable[Outcome]]) -> Callable[[ObjectKey], Awaitable[ReconcileResult]]:
    async def run(key: ObjectKey) -> ReconcileResult:
        outcome = await reconcile(key.namespace, key.name)
        return ReconcileResult(outcome.requeue_after)

    return run


def assemble(client: KubeClient, settings: OperatorSettings, manager: Manager) -> Assembly:
    namespaces: list[str | None] = list(settings.namespaces) or [None]

    def informers(kind: ResourceKind, selector: str | None = None) -> list[Informer]:
        return [manager.informer(kind, ns, selector) for ns in namespaces]

    agent_informers = informers(kinds.AGENT_RUNTIME)
    pack_informers = informers(kinds.PROMPT_PACK)
    provider_informers = informers(kinds.PROVIDER)
    registry_informers = informers(kinds.TOOL_REGISTRY)
    secret_informers = informers(kinds.SECRET)
    config_map_informers = informers(kinds.CONFIG_MAP)
    deployment_informers = informers(kinds.DEPLOYMENT, MANAGED)
    service_informers = informers(kinds.SERVICE, MANAGED)

    mapping.add_indexes(agent_informers, mapping.AGENT_INDEXES)
    mapping.add_indexes(pack_informers, mapping.PACK_INDEXES)
    mapping.add_indexes(provider_informers, mapping.PROVIDER_INDEXES)
    mapping.add_indexes(registry_informers, mapping.REGISTRY_INDEXES)
    agents_by = mapping.indexed(agent_informers)
    packs_by = mapping.indexed(pack_informers)
    providers_by = mapping.indexed(provider_informers)
    registries_by = mapping.indexed(registry_informers)
    source = InformerObjectSource(
        {
            "PromptPack": pack_informers,
            "Provider": provider_informers,
            "ToolRegistry": registry_informers,
            "Secret": secret_informers,
            "ConfigMap": config_map_informers,
        }
    )
    children = ChildCache(
        {"ConfigMap": config_map_informers, "Deployment": deployment_informers, "Service": service_informers}
    )
    agent_reconciler = AgentRuntimeReconciler(client, source, settings, children)
    discovery = ToolDiscovery(timeout=settings.discovery_timeout, ttl=settings.rediscovery_interval)
    agents = Controller("agentruntime", _adapt(agent_reconciler.reconcile), workers=settings.workers)
    providers = Controller(
        "provider",
        _adapt(ProviderReconciler(client, source).reconcile),
        workers=settings.workers,
    )
    prompt_packs = Controller(
        "promptpack",
        _adapt(PromptPackReconciler(client, source).reconcile),
        workers=settings.workers,
    )
    tool_registries = Controller(
        "toolregistry", _adapt(ToolRegistryReconciler(client, source, discovery).reconcile), workers=settings.workers
    )
    for informer in agent_informers:
        agents.watch(informer)
    for informer in pack_informers:
        agents.watch(informer, mapping.agents_using_pack(agents_by))
        prompt_packs.watch(informer)
    for informer in provider_informers:
        agents.watch(informer, mapping.agents_using_provider(agents_by))
        providers.watch(informer)
    for informer in registry_informers:
        agents.watch(informer, mapping.agents_using_registry(agents_by))
        tool_registries.watch(informer)
    for informer in secret_informers:
        agents.watch(informer, mapping.agents_using_secret(agents_by, providers_by, registries_by))
        providers.watch(informer, mapping.providers_using_secret(providers_by))
        tool_registries.watch(informer, mapping.registries_using_secret(registries_by))
    for informer in config_map_informers:
        agents.watch(informer, mapping.agents_using_config_map(agents_by, packs_by))
        prompt_packs.watch(informer, mapping.packs_using_config_map(packs_by))
    for informer in [*deployment_informers, *service_informers]:
        agents.watch(informer, mapping.owner_agent)
    for informer in deployment_informers:
        prompt_packs.watch(informer, mapping.packs_of_canary(packs_by))
    for controller in (agents, providers, prompt_packs, tool_registries):
        manager.add_controller(controller)
    return Assembly(manager, agents, providers, prompt_packs, tool_registries)
