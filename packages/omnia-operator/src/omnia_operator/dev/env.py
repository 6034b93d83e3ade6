"""What local mode changes in the pod's env: loopback ports, dev conveniences, and safe provider/store fallbacks.

The pod's env stays the base (so local mode runs what the cluster would), with these overrides:
- both processes bind 127.0.0.1 on the chosen ports (health ports next to them), the facade dials the runtime there;
- the facade serves the browser console, admits unauthenticated clients (it listens on loopback only) and accepts
  the console's own origin;
- sessions and conversation state stay in memory unless a Redis URL is given;
- a real provider whose key is nowhere to be found (no Secret in the manifests, or one holding a placeholder such
  as `replace-me`, and no variable in the developer's environment) falls back to the mock provider, with a note
  saying which variable to set;
- logs are plain text.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

VENDOR_KEY_VARS = {
    "openai": ("OPENAI_API_KEY",),
    "claude": ("ANTHROPIC_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
KEYLESS_PROVIDERS = ("mock", "ollama", "vllm")
# Values example Secrets carry instead of a key: treated as no key, so the developer's own variable is used.
PLACEHOLDER_KEYS = frozenset({"", "replace-me", "changeme", "change-me", "your-api-key", "sk-..."})


@dataclass(frozen=True)
class LocalOptions:
    port: int = 8080
    runtime_port: int = 9000
    redis_url: str | None = None
    media_dir: Path | None = None  # local media storage (on when the agent asks for it or --media)
    host: str = "127.0.0.1"

    @property
    def facade_health_port(self) -> int:
        return self.port + 1

    @property
    def runtime_health_port(self) -> int:
        return self.runtime_port + 1


def provider_has_key(env: Mapping[str, str], environ: Mapping[str, str]) -> tuple[bool, str]:
    """(a key is available, the variable to set otherwise) for the runtime env of a pod."""
    provider = env.get("OMNIA_PROVIDER_TYPE", "mock")
    if provider in KEYLESS_PROVIDERS or env.get("OMNIA_MOCK_PROVIDER") == "true":
        return True, ""
    if env.get("OMNIA_PROVIDER_API_KEY"):
        return True, ""
    key_file = env.get("OMNIA_PROVIDER_API_KEY_FILE")
    if key_file and Path(key_file).is_file():
        return True, ""
    key_env = env.get("OMNIA_PROVIDER_API_KEY_ENV")
    if key_env and environ.get(key_env):
        return True, ""
    vendor = VENDOR_KEY_VARS.get(provider, ())
    if any(environ.get(name) for name in vendor):
        return True, ""
    wanted = key_env or (vendor[0] if vendor else "OMNIA_PROVIDER_API_KEY")
    return False, wanted


def runtime_overrides(
    env: dict[str, str], options: LocalOptions, environ: Mapping[str, str], notes: list[str]
) -> dict[str, str]:
    result = dict(env)
    if result.get("OMNIA_PROVIDER_API_KEY", "").strip().lower() in PLACEHOLDER_KEYS:
        result.pop("OMNIA_PROVIDER_API_KEY", None)
    result.update(
        OMNIA_BIND_HOST=options.host,
        OMNIA_GRPC_PORT=str(options.runtime_port),
        OMNIA_HEALTH_PORT=str(options.runtime_health_port),
        OMNIA_LOG_FORMAT="text",
    )
    has_key, variable = provider_has_key(result, environ)
    if not has_key:
        notes.append(
            f"provider {result.get('OMNIA_PROVIDER_TYPE')} has no API key here (set {variable}, or put its Secret "
            "in the manifests): using the mock provider"
        )
        result["OMNIA_MOCK_PROVIDER"] = "true"
    if options.redis_url:
        result.update(OMNIA_CONTEXT_TYPE="redis", OMNIA_CONTEXT_URL=options.redis_url)
    else:
        if result.get("OMNIA_CONTEXT_TYPE") == "redis":
            notes.append("the agent keeps its context in Redis in the cluster; here in memory (pass --redis-url)")
        result["OMNIA_CONTEXT_TYPE"] = "memory"
        result.pop("OMNIA_CONTEXT_URL", None)
    return result


def facade_overrides(env: dict[str, str], options: LocalOptions) -> dict[str, str]:
    result = dict(env)
    origins = [f"http://{options.host}:{options.port}", f"http://localhost:{options.port}"]
    result.update(
        OMNIA_BIND_HOST=options.host,
        OMNIA_FACADE_PORT=str(options.port),
        OMNIA_HEALTH_PORT=str(options.facade_health_port),
        OMNIA_RUNTIME_ADDRESS=f"{options.host}:{options.runtime_port}",
        OMNIA_FACADE_CONSOLE_ENABLED="true",
        OMNIA_FACADE_ALLOW_UNAUTHENTICATED="true",
        OMNIA_ALLOWED_ORIGINS=",".join(origins),
        OMNIA_LOG_FORMAT="text",
    )
    if result.get("OMNIA_HANDLER_MODE", "runtime") == "runtime":
        result["OMNIA_FACADE_DRAIN_TIMEOUT"] = "2s"  # Ctrl-C should not wait half a minute on a laptop
    if options.redis_url:
        result.update(OMNIA_SESSION_TYPE="redis", OMNIA_SESSION_STORE_URL=options.redis_url)
    else:
        result["OMNIA_SESSION_TYPE"] = "memory"
        result.pop("OMNIA_SESSION_STORE_URL", None)
    if options.media_dir is not None:
        options.media_dir.mkdir(parents=True, exist_ok=True)
        result.update(OMNIA_MEDIA_STORAGE_TYPE="local", OMNIA_MEDIA_STORAGE_PATH=str(options.media_dir))
    return result
