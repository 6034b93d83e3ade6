"""Resolving an agent's provider bindings and their credential Secrets.

Only the `default` binding (role llm) drives the runtime today; other bindings are checked (they must
exist) and reported as unused by the caller. The API key never leaves its Secret: the runtime gets it
through `valueFrom.secretKeyRef`, and only a digest of the Secret's value enters the config hash.
"""

import base64
import hashlib
from dataclasses import dataclass, field

from omnia_operator.api.models.agentruntime import AgentRuntimeSpec, ProviderBinding
from omnia_operator.api.models.resources import Provider, parse_provider
from omnia_operator.errors import InvalidResourceError
from omnia_operator.resolve.outcome import Check
from omnia_operator.resolve.source import KubeObject, ObjectSource

DEFAULT_BINDING = "default"

# Keys tried, in order, when credential.secretRef.key is not set (upstream lookup order).
KEY_LOOKUP_ORDER: dict[str, tuple[str, ...]] = {
    "claude": ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY", "api-key"),
    "openai": ("OPENAI_API_KEY", "OPENAI_TOKEN", "api-key"),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY", "api-key"),
    "voyageai": ("VOYAGE_API_KEY", "api-key"),
}
_OTHER_KEYS = ("api-key", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY")


def unsupported_provider_fields(provider: Provider) -> list[str]:
    """Provider fields the runtime does not act on yet (reported, never silently ignored)."""
    notes: list[str] = []
    defaults = provider.spec.defaults
    if defaults is not None:
        if defaults.context_window is not None:
            notes.append("defaults.contextWindow")
        if defaults.truncation_strategy != "sliding":
            notes.append(f"defaults.truncationStrategy {defaults.truncation_strategy}")
        if defaults.stream_idle_timeout is not None:
            notes.append("defaults.streamIdleTimeout")
    if provider.spec.role != "llm":
        notes.append(f"role {provider.spec.role} (only llm providers drive the runtime)")
    return notes


def candidate_keys(provider_type: str) -> tuple[str, ...]:
    return KEY_LOOKUP_ORDER.get(provider_type, _OTHER_KEYS)


@dataclass(frozen=True)
class CredentialRef:
    secret_name: str
    key: str
    digest: str  # sha256 of the value: enters the config hash, never the value itself


@dataclass(frozen=True)
class ResolvedProvider:
    binding: str
    provider: Provider
    credential: CredentialRef | None = None


@dataclass
class ProviderResolution:
    check: Check
    providers: dict[str, ResolvedProvider] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def default(self) -> ResolvedProvider | None:
        return self.providers.get(DEFAULT_BINDING)


def secret_value(secret: KubeObject, key: str) -> bytes | None:
    data = secret.get("data") or {}
    if key in data:
        try:
            return base64.b64decode(data[key])
        except ValueError:
            return None
    string_data = secret.get("stringData") or {}
    if key in string_data:
        return str(string_data[key]).encode()
    return None


def pick_credential_key(provider: Provider, secret: KubeObject) -> str | None:
    """The Secret key that holds the API key: the explicit one, else the first present in lookup order."""
    credential = provider.spec.credential
    if credential is None or credential.secret_ref is None:
        return None
    if credential.secret_ref.key:
        return credential.secret_ref.key if secret_value(secret, credential.secret_ref.key) is not None else None
    for key in candidate_keys(provider.spec.type):
        if secret_value(secret, key) is not None:
            return key
    return None


async def check_provider_credentials(provider: Provider, source: ObjectSource) -> tuple[CredentialRef | None, Check]:
    """Shared by the Provider reconcile and agent resolution: Secret exists and holds an expected key."""
    if provider.spec.type != "mock" and not provider.spec.model:
        return None, Check.bad("ModelMissing", f"Provider {provider.name}: set spec.model (required except for mock)")
    credential = provider.spec.credential
    if credential is None or credential.secret_ref is None:
        return None, Check.good("CredentialConfigured", f"Provider {provider.name} needs no credential Secret")
    ref = credential.secret_ref
    secret = await source.get("Secret", provider.namespace, ref.name)
    if secret is None:
        return None, Check.bad(
            "SecretNotFound",
            f"Secret {ref.name} (credential of Provider {provider.name}) not found in namespace {provider.namespace}; "
            "create it with the API key",
        )
    key = pick_credential_key(provider, secret)
    if key is None:
        expected = ref.key or " or ".join(candidate_keys(provider.spec.type))
        return None, Check.bad(
            "CredentialKeyMissing",
            f"Secret {ref.name} has no key {expected} for Provider {provider.name}; add the API key under that key",
        )
    value = secret_value(secret, key) or b""
    digest = hashlib.sha256(value).hexdigest()
    return CredentialRef(ref.name, key, digest), Check.good(
        "CredentialConfigured", f"API key in Secret {ref.name}/{key}"
    )


async def _resolve_binding(
    binding: ProviderBinding, namespace: str, source: ObjectSource, *, allow_cross_namespace: bool
) -> tuple[ResolvedProvider | None, Check]:
    ref = binding.provider_ref
    target_ns = ref.namespace or namespace
    if target_ns != namespace and not allow_cross_namespace:
        return None, Check.bad(
            "ProviderCrossNamespace",
            f"provider binding {binding.name!r} points at namespace {target_ns}; cross-namespace providers are "
            f"disabled: move the Provider to namespace {namespace}, or run the operator with "
            "OMNIA_OPERATOR_ALLOW_CROSS_NAMESPACE_PROVIDERS=true",
            requeue_after=None,
        )
    raw = await source.get("Provider", target_ns, ref.name)
    if raw is None:
        return None, Check.bad(
            "ProviderNotFound", f"Provider {target_ns}/{ref.name} (binding {binding.name!r}) not found; create it"
        )
    try:
        provider = parse_provider(raw)
    except InvalidResourceError as e:
        return None, Check.bad("ProviderInvalid", str(e), requeue_after=None)
    if provider.spec.role != binding.role:
        return None, Check.bad(
            "RoleMismatch",
            f"binding {binding.name!r} wants role {binding.role} but Provider {ref.name} has role {provider.spec.role}",
        )
    missing = sorted(set(binding.required_capabilities) - set(provider.spec.capabilities))
    if missing:
        return None, Check.bad(
            "CapabilityMismatch",
            f"Provider {ref.name} does not declare capabilities {missing} required by binding {binding.name!r}",
        )
    credential_spec = provider.spec.credential
    if target_ns != namespace and credential_spec is not None and credential_spec.secret_ref is not None:
        # Refused before the Secret is read: whether it exists or not, the pod could not mount it.
        return None, Check.bad(
            "ProviderCrossNamespace",
            f"Provider {target_ns}/{ref.name} keeps its key in Secret {credential_spec.secret_ref.name} of namespace "
            f"{target_ns}; a pod can only read Secrets of its own namespace: give that Provider "
            f"credential.envVar or credential.filePath instead, or use a Provider in namespace {namespace}",
            requeue_after=None,
        )
    credential, check = await check_provider_credentials(provider, source)
    if not check.ok:
        return None, check
    return ResolvedProvider(binding.name, provider, credential), check


async def resolve_providers(
    spec: AgentRuntimeSpec, namespace: str, source: ObjectSource, *, allow_cross_namespace: bool = False
) -> ProviderResolution:
    result = ProviderResolution(Check.good("ProvidersResolved", "all provider bindings resolved"))
    if not spec.providers:
        result.check = Check.good("NoProviders", "no provider bound: the runtime uses its mock provider")
        return result
    for binding in spec.providers:
        resolved, check = await _resolve_binding(
            binding, namespace, source, allow_cross_namespace=allow_cross_namespace
        )
        if resolved is None:
            result.check = check
            return result
        result.providers[binding.name] = resolved
        if binding.name != DEFAULT_BINDING:
            result.notes.append(
                f"provider binding {binding.name!r} is not used yet (only 'default' drives the runtime)"
            )
    if DEFAULT_BINDING not in result.providers:
        result.notes.append("no provider binding named 'default': the runtime uses its mock provider")
    return result
