"""resolve_agent: everything an AgentRuntime needs, checked, and the children built from it."""

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from omnia_operator.api.models.agentruntime import AgentRuntimeSpec
from omnia_operator.api.models.resources import AgentRuntime
from omnia_operator.resolve import children
from omnia_operator.resolve.children import KubeObject, Owner, PodInputs
from omnia_operator.resolve.env import CONTEXT_URL_KEY, facade_env, runtime_env
from omnia_operator.resolve.outcome import Check
from omnia_operator.resolve.promptpacks import PackContent, RolloutContents, find_prompt_pack, load_rollout, pack_name
from omnia_operator.resolve.providers import ProviderResolution, resolve_providers, secret_value
from omnia_operator.resolve.source import ObjectSource
from omnia_operator.resolve.tools import ToolsResolution, resolve_tools
from omnia_operator.settings import AgentImages


@dataclass
class AgentPlan:
    """What the operator creates for one agent."""

    pack: PackContent
    tools_config: dict[str, Any] | None
    tools_yaml: str | None
    runtime_env: list[dict[str, Any]]
    facade_env: list[dict[str, Any]]
    config_hash: str
    children: list[KubeObject]
    service_endpoint: str
    rollout: dict[str, Any] | None = None
    """status.rollout of the agent while a canary of its pack runs."""


@dataclass
class Resolution:
    """Per-dependency verdicts (future conditions) and the plan when nothing blocks it."""

    prompt_pack: Check
    tool_registry: Check
    providers: Check
    context_store: Check
    notes: list[str] = field(default_factory=list)
    plan: AgentPlan | None = None
    autoscaling: Check | None = None

    @property
    def checks(self) -> dict[str, Check]:
        checks = {
            "PromptPackReady": self.prompt_pack,
            "ToolRegistryReady": self.tool_registry,
            "ProviderReady": self.providers,
            "ContextStoreReady": self.context_store,
        }
        if self.autoscaling is not None:
            checks["AutoscalingReady"] = self.autoscaling
        return checks


def unsupported_features(spec: AgentRuntimeSpec) -> list[str]:
    """Accepted-for-compatibility fields this operator does not act on; reported, never silently ignored."""
    notes: list[str] = []
    if spec.mode == "function":
        notes.append("spec.mode 'function' is not supported yet: the agent is served over WebSocket only")
    extra = [f.type for f in spec.facades[1:]]
    if spec.facades[0].type != "websocket":
        notes.append(f"facade type {spec.facades[0].type!r} is not supported yet: a websocket facade is served instead")
    if extra:
        notes.append(f"only the first facade is served; ignored facades: {', '.join(extra)}")
    if spec.framework and spec.framework.type != "promptkit" and not spec.framework.image:
        notes.append(f"framework {spec.framework.type!r} has no built-in image: set spec.framework.image")
    if spec.memory and spec.memory.enabled:
        notes.append("spec.memory is not supported yet")
    if spec.media and spec.media.base_path != "/etc/omnia/media":
        notes.append("spec.media.basePath (mock:// media) is not supported yet")
    return notes


async def _check_context_store(agent: AgentRuntime, source: ObjectSource) -> tuple[Check, str]:
    context = agent.spec.context
    if context.type != "redis" or context.store_ref is None:
        return Check.good("InMemory", "conversation state is kept in memory"), ""
    secret = await source.get("Secret", agent.namespace, context.store_ref.name)
    if secret is None:
        return Check.bad(
            "StoreSecretNotFound",
            f"Secret {context.store_ref.name} (spec.context.storeRef) not found; create it with key {CONTEXT_URL_KEY}",
        ), ""
    value = secret_value(secret, CONTEXT_URL_KEY)
    if value is None:
        return Check.bad(
            "StoreSecretKeyMissing",
            f"Secret {context.store_ref.name} has no key {CONTEXT_URL_KEY}; put the Redis URL under it",
        ), ""
    return Check.good("RedisConfigured", f"Redis URL from Secret {context.store_ref.name}"), hashlib.sha256(
        value
    ).hexdigest()


def config_hash(
    pack: PackContent,
    tools: ToolsResolution,
    providers: ProviderResolution,
    context_digest: str,
    spec: AgentRuntimeSpec,
) -> str:
    """First 16 hex of sha256 over everything that must restart the pod when it changes."""
    provider_parts = []
    for name in sorted(providers.providers):
        resolved = providers.providers[name]
        provider_parts.append(
            {
                "binding": name,
                "spec": resolved.provider.spec.dump(),
                "credential": resolved.credential.digest if resolved.credential else "",
            }
        )
    material = {
        "pack": [pack.pack.name, pack.version, pack.digest],
        "tools": [tools.yaml_text or "", tools.secret_digest],
        "providers": provider_parts,
        "context": [spec.context.dump(), context_digest],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def autoscaling_check(spec: AgentRuntimeSpec, keda_installed: bool | None) -> tuple[Check | None, int | None]:
    """The AutoscalingReady verdict and the Deployment replicas (None = left to the autoscaler)."""
    scaling = spec.runtime.autoscaling
    if scaling is None or not scaling.enabled:
        return None, spec.runtime.replicas
    if scaling.type == "hpa":
        return Check.good(
            "HPAConfigured",
            f"HorizontalPodAutoscaler scales {scaling.min_replicas}-{scaling.max_replicas} replicas on CPU and memory",
        ), None
    if keda_installed is False:
        return Check.bad(
            "KEDANotInstalled",
            "autoscaling.type is keda but the KEDA CRD scaledobjects.keda.sh is not installed; install KEDA "
            f"or use type hpa. Running {spec.runtime.replicas} static replica(s)",
            requeue_after=60.0,
        ), spec.runtime.replicas
    return Check.good(
        "KEDAConfigured",
        f"KEDA ScaledObject scales {scaling.min_replicas}-{scaling.max_replicas} replicas on open connections"
        + (" (scale to zero allowed)" if scaling.min_replicas == 0 else ""),
    ), None


async def resolve_agent(
    agent: AgentRuntime,
    source: ObjectSource,
    images: AgentImages,
    *,
    uid: str | None = None,
    keda_installed: bool | None = None,
) -> Resolution:
    """Check every reference of the agent and, when nothing blocks, build its children.

    `keda_installed` None means unknown (render, local mode): a keda agent gets its ScaledObject."""
    spec = agent.spec
    namespace = agent.namespace
    notes = unsupported_features(spec)
    pack, pack_check = await find_prompt_pack(spec.prompt_pack_ref, namespace, source)
    content: PackContent | None = None
    contents: RolloutContents | None = None
    if pack is not None:
        contents, pack_check = await load_rollout(pack, source)
        content = contents.stable if contents else None
    tools = await resolve_tools(spec, namespace, source)
    providers = await resolve_providers(
        spec, namespace, source, allow_cross_namespace=images.allow_cross_namespace_providers
    )
    notes.extend(providers.notes)
    context_check, context_digest = await _check_context_store(agent, source)
    # A missing ToolRegistry does not block the agent (it runs without tools, as upstream does); a broken
    # tool credential does, because tools.yaml would point at a file that cannot exist.
    tools_block = not tools.check.ok and tools.check.reason not in ("ToolRegistryNotFound",)
    resolution = Resolution(pack_check, tools.check, providers.check, context_check, notes)
    resolution.autoscaling, replicas = autoscaling_check(spec, keda_installed)
    if content is None or not providers.check.ok or not context_check.ok or tools_block:
        return resolution
    owner = Owner(agent.name, namespace, uid if uid is not None else agent.metadata.uid)
    has_tools = tools.config is not None
    digest = config_hash(content, tools, providers, context_digest, spec)
    r_env = runtime_env(
        agent.name, namespace, spec, agent.metadata.annotations, content, providers.default, has_tools=has_tools
    )
    f_env = facade_env(agent.name, namespace, spec, spec.facades[0], content)
    inputs = PodInputs(
        facade_image=images.facade_image,
        runtime_image=images.runtime_image,
        pull_policy=images.image_pull_policy,
        pack_config_map=content.config_map_name,
        has_tools=has_tools,
        tool_secrets=tools.secret_mounts,
        runtime_env=r_env,
        facade_env=f_env,
        config_hash=digest,
    )
    built: list[KubeObject] = []
    if tools.yaml_text is not None:
        built.append(children.tools_config_map(owner, tools.yaml_text))
    rollout: dict[str, Any] | None = None
    canary = contents.canary if contents else None
    if canary is not None and contents is not None:
        scaling = spec.runtime.autoscaling
        autoscaled_min = max(scaling.min_replicas, 1) if scaling else spec.runtime.replicas
        base = replicas if replicas is not None else autoscaled_min
        stable_replicas, canary_replicas = children.canary_split(base, contents.weight)
        if replicas is not None:
            replicas = stable_replicas
        canary_inputs = dataclasses.replace(
            inputs,
            pack_config_map=canary.config_map_name,
            runtime_env=runtime_env(
                agent.name, namespace, spec, agent.metadata.annotations, canary, providers.default, has_tools=has_tools
            ),
            facade_env=facade_env(agent.name, namespace, spec, spec.facades[0], canary),
            config_hash=config_hash(canary, tools, providers, context_digest, spec),
        )
        built.append(children.canary_deployment(owner, spec, canary_inputs, canary_replicas, pack_name(canary.pack)))
        share = round(100 * canary_replicas / (canary_replicas + (replicas if replicas is not None else base)))
        rollout = {
            "active": True,
            "stableVersion": content.version,
            "candidateVersion": canary.version,
            "currentWeight": contents.weight,
            "approximateWeight": share,
            "trafficWeightEnforced": False,
            "trafficRoutingMode": "replicaWeighted",
            "message": f"{canary_replicas} canary pod(s) beside the stable ones: about {share}% of connections "
            f"reach version {canary.version} (requested {contents.weight}%)",
        }
    built.insert(
        1 if tools.yaml_text is not None else 0, children.deployment(owner, spec, inputs, {}, replicas=replicas)
    )
    built.append(children.service(owner, spec))
    if children.hpa_enabled(spec):
        built.append(children.horizontal_autoscaler(owner, spec))
    if children.keda_enabled(spec) and keda_installed is not False:
        built.append(children.scaled_object(owner, spec))
    resolution.plan = AgentPlan(
        pack=content,
        tools_config=tools.config,
        tools_yaml=tools.yaml_text,
        runtime_env=r_env,
        facade_env=f_env,
        config_hash=digest,
        children=built,
        service_endpoint=children.service_endpoint(owner, spec),
        rollout=rollout,
    )
    return resolution
