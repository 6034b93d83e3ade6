"""Parsing a raw manifest (as the Kubernetes adapter returns it) into a typed resource."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from omnia_operator.api.models.agentruntime import AgentRuntimeSpec, AgentRuntimeStatus
from omnia_operator.api.models.base import ObjectMeta
from omnia_operator.api.models.promptpack import PromptPackSpec, PromptPackStatus
from omnia_operator.api.models.provider import ProviderSpec, ProviderStatus
from omnia_operator.api.models.toolregistry import ToolRegistrySpec, ToolRegistryStatus
from omnia_operator.errors import InvalidResourceError

SpecT = TypeVar("SpecT", bound=BaseModel)
StatusT = TypeVar("StatusT", bound=BaseModel)


@dataclass(frozen=True)
class Resource(Generic[SpecT, StatusT]):
    """One custom resource: typed metadata, spec and status, plus the raw manifest it came from."""

    kind: str
    metadata: ObjectMeta
    spec: SpecT
    status: StatusT
    raw: dict[str, Any]

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def namespace(self) -> str:
        return self.metadata.namespace


AgentRuntime = Resource[AgentRuntimeSpec, AgentRuntimeStatus]
PromptPack = Resource[PromptPackSpec, PromptPackStatus]
Provider = Resource[ProviderSpec, ProviderStatus]
ToolRegistry = Resource[ToolRegistrySpec, ToolRegistryStatus]

_TYPES: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "AgentRuntime": (AgentRuntimeSpec, AgentRuntimeStatus),
    "PromptPack": (PromptPackSpec, PromptPackStatus),
    "Provider": (ProviderSpec, ProviderStatus),
    "ToolRegistry": (ToolRegistrySpec, ToolRegistryStatus),
}


def _problems(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:10]:
        where = ".".join(str(p) for p in item["loc"])
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse_resource(obj: dict[str, Any]) -> Resource[Any, Any]:
    """Typed resource from a manifest; raises InvalidResourceError naming the bad fields."""
    kind = str(obj.get("kind", ""))
    if kind not in _TYPES:
        raise InvalidResourceError(f"kind {kind!r} is not an Omnia resource (expected one of {', '.join(_TYPES)})")
    spec_type, status_type = _TYPES[kind]
    name = (obj.get("metadata") or {}).get("name", "?")
    try:
        metadata = ObjectMeta.model_validate(obj.get("metadata") or {})
        spec = spec_type.model_validate(obj.get("spec") or {})
    except ValidationError as e:
        raise InvalidResourceError(f"{kind} {name}: {_problems(e)}") from e
    return Resource(kind=kind, metadata=metadata, spec=spec, status=parse_status(obj, status_type), raw=obj)


def parse_status(obj: dict[str, Any], status_type: type[StatusT]) -> StatusT:
    """The manifest's status as `status_type`; an unreadable one reads as empty.

    The status is ours to rewrite: one an older operator or a hand edit left behind must not block the spec,
    and a reconcile whose spec is invalid still needs the old conditions (to keep their transition times).
    """
    try:
        return status_type.model_validate(obj.get("status") or {})
    except ValidationError:
        return status_type()


def parse_metadata(obj: dict[str, Any]) -> ObjectMeta:
    """The manifest's metadata (the fields the operator reads); raises InvalidResourceError without a name."""
    try:
        return ObjectMeta.model_validate(obj.get("metadata") or {})
    except ValidationError as e:
        raise InvalidResourceError(f"{obj.get('kind', 'object')}: metadata: {_problems(e)}") from e


def parse_agent_runtime(obj: dict[str, Any]) -> AgentRuntime:
    return _parse_as(obj, "AgentRuntime")


def parse_prompt_pack(obj: dict[str, Any]) -> PromptPack:
    return _parse_as(obj, "PromptPack")


def parse_provider(obj: dict[str, Any]) -> Provider:
    return _parse_as(obj, "Provider")


def parse_tool_registry(obj: dict[str, Any]) -> ToolRegistry:
    return _parse_as(obj, "ToolRegistry")


def _parse_as(obj: dict[str, Any], kind: str) -> Any:
    if obj.get("kind") not in (None, kind):
        raise InvalidResourceError(f"expected a {kind}, got {obj.get('kind')}")
    return parse_resource({**obj, "kind": kind})
