"""Prometheus metrics of the runtime (default registry), named as in the Go Omnia (upstream-omnia.md §6.6).

Tool call metrics (``omnia_tool_calls_total``, ``omnia_tool_call_duration_seconds``) are defined once in
``omnia_runtime.tools.telemetry``; the router records the calls it executes and the conversation loop records
the ones it settles itself (client tools, calls refused before reaching an executor)."""

from prometheus_client import Counter, Gauge, Histogram, Info

RUNTIME_INFO = Info("omnia_runtime", "Static facts about this runtime")
PROVIDER_REQUESTS = Counter("omnia_provider_requests_total", "LLM provider requests", ["provider", "model", "status"])
PROVIDER_DURATION = Histogram(
    "omnia_provider_request_duration_seconds", "LLM provider request duration", ["provider", "model"]
)
INPUT_TOKENS = Counter("omnia_provider_input_tokens_total", "Prompt tokens sent", ["provider", "model"])
OUTPUT_TOKENS = Counter("omnia_provider_output_tokens_total", "Completion tokens received", ["provider", "model"])
CACHED_TOKENS = Counter(
    "omnia_provider_cached_tokens_total", "Prompt tokens served from the provider's prompt cache", ["provider", "model"]
)
COST = Counter("omnia_provider_cost_total", "Provider cost in USD", ["provider", "model"])
TURN_DURATION = Histogram("omnia_runtime_turn_duration_seconds", "Conversation turn duration", ["status"])
ACTIVE_SESSIONS = Gauge(
    "omnia_runtime_active_sessions",
    "Converse calls in progress (counted from their first message; an idle pre-opened call is not one)",
)
VALIDATIONS = Counter(
    "omnia_validations_total",
    "Output validator runs on final answers (validator: its type; validator_type: the stage, always output here;"
    " status: passed, failed or skipped when this runtime cannot enforce it)",
    ["validator", "validator_type", "status"],
)
VALIDATION_DURATION = Histogram(
    "omnia_validation_duration_seconds",
    "Time one output validator took on a final answer",
    ["validator", "validator_type"],
    buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5),
)
VALIDATORS_NOT_ENFORCED = Gauge(
    "omnia_runtime_validators_not_enforced",
    "Enabled validators of the served prompt that this runtime cannot enforce (answers pass them unchecked)",
    ["prompt", "validator_type"],
)
