"""The one table from our errors to gRPC status codes and the contract's ``Error.code``."""

import grpc

from omnia_runtime.errors import (
    ConfigError,
    InvalidRequestError,
    OmniaRuntimeError,
    PermanentError,
    ProviderError,
    ProviderUnavailableError,
    SessionNotFoundError,
    StoreUnavailableError,
    TemplateError,
    ValidationFailedError,
)

STATUS_BY_ERROR: list[tuple[type[BaseException], grpc.StatusCode]] = [
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (TemplateError, grpc.StatusCode.INVALID_ARGUMENT),
    (SessionNotFoundError, grpc.StatusCode.NOT_FOUND),
    (ValidationFailedError, grpc.StatusCode.FAILED_PRECONDITION),
    (ProviderUnavailableError, grpc.StatusCode.UNAVAILABLE),
    (StoreUnavailableError, grpc.StatusCode.UNAVAILABLE),
    (ProviderError, grpc.StatusCode.INTERNAL),
    (ConfigError, grpc.StatusCode.FAILED_PRECONDITION),
    (PermanentError, grpc.StatusCode.INTERNAL),
    (TimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED),
]


def classify(error: BaseException) -> tuple[grpc.StatusCode, str, str]:
    """(status, Error.code, message) for an error; unknown errors hide their details."""
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            code = error.code if isinstance(error, OmniaRuntimeError) else "TIMEOUT"
            return status, code, str(error) or type(error).__name__
    return grpc.StatusCode.INTERNAL, "INTERNAL_ERROR", "internal error in the runtime (see its logs)"
