"""Provider reconcile: the credential Secret exists and holds an expected key; model set unless mock."""

from omnia_operator.api.models.provider import ProviderStatus
from omnia_operator.api.models.resources import parse_provider
from omnia_operator.errors import InvalidResourceError
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.reconcile.agentruntime import Outcome
from omnia_operator.reconcile.conditions import make_condition
from omnia_operator.reconcile.status_writer import invalid_spec_status, write_status
from omnia_operator.resolve.providers import check_provider_credentials, unsupported_provider_fields
from omnia_operator.resolve.source import ObjectSource


class ProviderReconciler:
    def __init__(self, client: KubeClient, source: ObjectSource) -> None:
        self._client = client
        self._source = source

    async def reconcile(self, namespace: str, name: str) -> Outcome:
        try:
            raw = await self._client.get(kinds.PROVIDER, name, namespace)
        except NotFoundError:
            return Outcome()
        try:
            provider = parse_provider(raw)
        except InvalidResourceError as e:
            invalid = invalid_spec_status(raw, ProviderStatus, phase="Error", condition="Ready", message=str(e))
            await write_status(self._client, kinds.PROVIDER, raw, invalid)
            return Outcome()
        generation = provider.metadata.generation
        existing = provider.status.conditions
        _, check = await check_provider_credentials(provider, self._source)
        model_ok = provider.spec.type == "mock" or bool(provider.spec.model)
        conditions = [
            make_condition(
                existing,
                "ModelValid",
                model_ok,
                "ModelSet" if model_ok else "ModelMissing",
                f"model {provider.spec.model}"
                if provider.spec.model
                else ("mock needs no model" if model_ok else "set spec.model (required except for mock)"),
                generation,
            ),
            make_condition(existing, "CredentialConfigured", check.ok, check.reason, check.message, generation),
            make_condition(
                existing,
                "Ready",
                check.ok,
                "ProviderReady" if check.ok else check.reason,
                "provider is usable" if check.ok else check.message,
                generation,
            ),
        ]
        unsupported = unsupported_provider_fields(provider)
        conditions.append(
            make_condition(
                existing,
                "FeaturesSupported",
                not unsupported,
                "UnsupportedFields" if unsupported else "AllSupported",
                ("not supported yet: " + ", ".join(unsupported)) if unsupported else "every field is supported",
                generation,
            )
        )
        status = ProviderStatus(
            phase="Ready" if check.ok else "Error", observed_generation=generation, conditions=conditions
        )
        await write_status(self._client, kinds.PROVIDER, provider.raw, status)
        return Outcome(None if check.ok else check.requeue_after)
