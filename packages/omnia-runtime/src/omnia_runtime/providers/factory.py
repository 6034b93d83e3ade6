"""Choose and build the provider from the settings; SDK adapters are imported only when chosen."""

from omnia_runtime.errors import ConfigError
from omnia_runtime.providers.base import Provider
from omnia_runtime.settings import RuntimeSettings


def build_provider(settings: RuntimeSettings) -> Provider:
    """The provider the settings select (``mock`` by default). ``MissingExtraError`` if its SDK is absent."""
    kind = settings.effective_provider
    if kind == "mock":
        from omnia_runtime.providers.mock import MockProvider

        return MockProvider.from_file(settings.mock_config, model=settings.provider_model)
    api_key = settings.resolve_api_key()
    model, base_url = settings.provider_model, settings.provider_base_url or None
    headers, timeout = settings.provider_headers, settings.provider_request_timeout
    if kind in ("openai", "ollama", "vllm"):
        from omnia_runtime.providers.openai import OpenAIProvider

        if kind != "openai" and not settings.provider_base_url:
            raise ConfigError(f"provider type {kind} needs OMNIA_PROVIDER_BASE_URL (its OpenAI-compatible endpoint)")
        return OpenAIProvider(
            model=model, api_key=api_key, base_url=base_url, headers=headers, timeout=timeout, system_name=kind
        )
    if kind == "claude":
        from omnia_runtime.providers.claude import ClaudeProvider

        return ClaudeProvider(model=model, api_key=api_key, base_url=base_url, headers=headers, timeout=timeout)
    if kind == "gemini":
        from omnia_runtime.providers.gemini import GeminiProvider

        return GeminiProvider(model=model, api_key=api_key, base_url=base_url, headers=headers, timeout=timeout)
    raise ConfigError(f"unknown provider type {kind!r}; use mock, openai, claude, gemini, ollama or vllm")
