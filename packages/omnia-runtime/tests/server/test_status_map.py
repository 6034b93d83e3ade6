"""The one error table: each domain error → gRPC status, ``Error.code`` and message."""

import grpc
import pytest

from omnia_runtime.errors import (
    ConfigError,
    InvalidRequestError,
    MissingExtraError,
    OmniaRuntimeError,
    PackError,
    ProviderError,
    ProviderUnavailableError,
    SessionNotFoundError,
    StoreUnavailableError,
    TemplateError,
    TransientError,
    ValidationFailedError,
)
from omnia_runtime.server.grpc_service import error_frame
from omnia_runtime.server.status_map import classify
from omnia_runtime.tools.errors import ToolBackendError, UnknownToolError

S = grpc.StatusCode


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidRequestError("content is too long"), S.INVALID_ARGUMENT, "INVALID_MESSAGE"),
        (TemplateError("missing required template variable(s): customer"), S.INVALID_ARGUMENT, "TEMPLATE_ERROR"),
        (SessionNotFoundError("no conversation for s-1"), S.NOT_FOUND, "SESSION_NOT_FOUND"),
        (ValidationFailedError("max_length: too long"), S.FAILED_PRECONDITION, "VALIDATION_FAILED"),
        (ProviderUnavailableError("openai is unavailable: 503"), S.UNAVAILABLE, "PROVIDER_UNAVAILABLE"),
        (StoreUnavailableError("redis is unreachable"), S.UNAVAILABLE, "STORE_UNAVAILABLE"),
        (ProviderError("openai rejected the request: 400"), S.INTERNAL, "PROVIDER_ERROR"),
        (ConfigError("the runtime is not ready: bad pack"), S.FAILED_PRECONDITION, "CONFIG_ERROR"),
        (PackError("pack.json is not a valid PromptPack", ["/: x"]), S.FAILED_PRECONDITION, "INVALID_PACK"),
        (MissingExtraError("the gemini provider", "gemini"), S.FAILED_PRECONDITION, "CONFIG_ERROR"),
        (UnknownToolError("no tool named x"), S.INTERNAL, "TOOL_FAILED"),
        (ToolBackendError("backend down", retryable=True), S.INTERNAL, "TOOL_FAILED"),
        (TimeoutError("the provider did not answer within 60s"), S.DEADLINE_EXCEEDED, "TIMEOUT"),
    ],
)
def test_each_domain_error_maps_to_its_status_code_and_keeps_its_message(
    error: BaseException, status: grpc.StatusCode, code: str
) -> None:
    assert classify(error) == (status, code, str(error))
    frame = error_frame(error)
    assert (frame.error.code, frame.error.message) == (code, str(error))


def test_a_timeout_without_text_is_named_by_its_type() -> None:
    assert classify(TimeoutError()) == (S.DEADLINE_EXCEEDED, "TIMEOUT", "TimeoutError")


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("connection to db://admin:hunter2@10.0.0.5 failed"),
        KeyError("api_key=sk-secret"),
        ValueError("Traceback (most recent call last): internal frame"),
        OmniaRuntimeError("bare root error with token sk-secret"),
        TransientError("transient without a table row: sk-secret"),
    ],
)
def test_unexpected_errors_are_internal_and_hide_their_details(error: BaseException) -> None:
    status, code, message = classify(error)
    assert (status, code) == (S.INTERNAL, "INTERNAL_ERROR")
    assert message == "internal error in the runtime (see its logs)"
    frame = error_frame(error)
    assert frame.error.code == "INTERNAL_ERROR"
    for secret in ("hunter2", "sk-secret", "Traceback", str(error)):
        assert secret not in frame.error.message


def test_a_subclass_is_classified_by_the_first_row_that_matches_it() -> None:
    class ProviderQuotaError(ProviderUnavailableError):
        code = "PROVIDER_QUOTA"

    assert classify(ProviderQuotaError("quota exhausted")) == (S.UNAVAILABLE, "PROVIDER_QUOTA", "quota exhausted")
