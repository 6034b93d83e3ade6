"""Errors of omnia-runtime.

The tree, on two axes (where an error comes from, and whether retrying can help)::

    OmniaRuntimeError
    ├── ConfigError                  bad configuration found at start-up: fail fast, say what to change
    │   ├── PackError                the PromptPack is invalid (carries every problem found)
    │   └── MissingExtraError        an optional SDK is not installed (names the pip extra)
    ├── TransientError               may succeed if retried later
    │   ├── ProviderUnavailableError the LLM provider could not be reached or is overloaded
    │   └── StoreUnavailableError    the conversation store (Redis) could not be reached
    └── PermanentError               retrying the same request will not help
        ├── ProviderError            the provider rejected the request
        ├── TemplateError            a template could not be rendered (missing required variable, ...)
        ├── ValidationFailedError    an output validator with fail_on_violation failed
        ├── SessionNotFoundError     no conversation is stored under that session id
        ├── InvalidRequestError      the caller's request is malformed or too large
        └── ToolError                a tool call failed (see omnia_runtime.tools.errors)

Third-party errors are translated at the adapter that meets them (``raise ... from e``); the gRPC server
maps this tree to status codes and ``Error{code, message}`` through one table. Messages never contain secrets.
"""


class OmniaRuntimeError(Exception):
    """Root of every error omnia-runtime raises on purpose."""

    code: str = "INTERNAL_ERROR"
    """Stable error code sent to clients in ``Error.code``."""


class ConfigError(OmniaRuntimeError):
    """The runtime's configuration is wrong; raised at start-up."""

    code = "CONFIG_ERROR"


class PackError(ConfigError):
    """A PromptPack failed validation. ``problems`` lists every problem found."""

    code = "INVALID_PACK"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class MissingExtraError(ConfigError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(f"{feature} needs the optional dependency: pip install 'omnia-runtime[{extra}]'")
        self.extra = extra


class TransientError(OmniaRuntimeError):
    """May succeed if retried later."""


class ProviderUnavailableError(TransientError):
    """The LLM provider could not be reached, timed out, or is rate limiting."""

    code = "PROVIDER_UNAVAILABLE"


class StoreUnavailableError(TransientError):
    """The conversation store could not be reached."""

    code = "STORE_UNAVAILABLE"


class PermanentError(OmniaRuntimeError):
    """Retrying the same request will not help."""


class ProviderError(PermanentError):
    """The LLM provider rejected the request."""

    code = "PROVIDER_ERROR"


class TemplateError(PermanentError):
    """A prompt template could not be rendered."""

    code = "TEMPLATE_ERROR"


class ValidationFailedError(PermanentError):
    """An output validator with ``fail_on_violation`` rejected the model's answer."""

    code = "VALIDATION_FAILED"


class SessionNotFoundError(PermanentError):
    """No conversation is stored under the session id."""

    code = "SESSION_NOT_FOUND"


class InvalidRequestError(PermanentError):
    """The request is malformed or exceeds a limit."""

    code = "INVALID_MESSAGE"


class ToolError(PermanentError):
    """A tool call failed. Tool errors go back to the model as error results, never crash a turn."""

    code = "TOOL_FAILED"
