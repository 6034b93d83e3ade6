"""The conversation loop of the PromptPack runtime.

A turn: load the session's history, render the entry prompt's system template (variables come from the
turn's ``metadata["variables"]`` JSON object, or Invoke's input), offer the tools, stream the model's answer,
and run tool calls until the model answers in text: server-side calls go through the ``ToolExecutor`` after
their arguments pass the tool's JSON Schema (bad arguments go back to the model as an error result), client
tools go to the client through the emitter. Rounds are bounded by ``tool_policy.max_rounds`` (after the last
round the model is asked once more with tools disabled) and calls per turn by ``max_tool_calls_per_turn``
(extra calls get an error result). The answer then passes the prompt's output validators and the history is
saved. Offered tools: the prompt's ``tools`` found in the pack, plus every tool of the executor (a registry
tool is offered even when the prompt does not list it), minus ``tool_policy.blocklist``. Spans:
``omnia.runtime.conversation.turn`` → ``genai.chat`` (one per model call) → ``omnia.tool.call`` (the calls that
response asked for).
"""

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from opentelemetry.trace import Span, set_span_in_context

from omnia_runtime import metrics
from omnia_runtime.conversation.store import ConversationStore
from omnia_runtime.errors import InvalidRequestError, OmniaRuntimeError
from omnia_runtime.handler import Emitter, Turn, TurnUsage
from omnia_runtime.promptpack import Prompt, PromptPack, ValidatorConfig, check_output, render
from omnia_runtime.providers.base import (
    ChatRequest,
    Finish,
    GenerationParams,
    Message,
    Provider,
    TextDelta,
    ToolCallEvent,
    ToolCallRequest,
    Usage,
)
from omnia_runtime.tools.base import ToolCallContext, ToolExecutor, ToolResult, ToolSpec
from omnia_runtime.tools.telemetry import TOOL_CALL_DURATION, TOOL_CALL_SPAN, TOOL_CALLS
from omnia_runtime.tracing import start_span

logger = logging.getLogger(__name__)


class Pricing:
    """USD per 1K tokens (``OMNIA_PROVIDER_INPUT_COST``, ``_OUTPUT_COST``, ``_CACHED_COST``).

    Cached prompt tokens are billed at ``cached_cost`` and the rest of the prompt at ``input_cost``:
    ``(input - cached) * input_cost + cached * cached_cost + output * output_cost``, all per 1K tokens.
    Without a ``cached_cost`` (the Provider's pricing has no ``cachedCostPer1K``) cached tokens are billed at
    ``input_cost``: a missing price must not make tokens look free.
    """

    def __init__(self, input_cost: float = 0.0, output_cost: float = 0.0, cached_cost: float | None = None) -> None:
        self.input_cost = input_cost
        self.output_cost = output_cost
        self.cached_cost = input_cost if cached_cost is None else cached_cost

    def cost(self, usage: Usage) -> float:
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        return (
            (usage.input_tokens - cached) / 1000 * self.input_cost
            + cached / 1000 * self.cached_cost
            + usage.output_tokens / 1000 * self.output_cost
        )


def turn_variables(metadata: Mapping[str, str]) -> dict[str, Any]:
    """Template values of a turn: the JSON object in ``metadata["variables"]``."""
    raw = metadata.get("variables")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InvalidRequestError("metadata 'variables' must be a JSON object of template values") from e
    if not isinstance(value, dict):
        raise InvalidRequestError("metadata 'variables' must be a JSON object of template values")
    return value


class ConversationEngine:
    """Runs turns of one PromptPack prompt; see the module docstring."""

    def __init__(
        self,
        *,
        pack: PromptPack,
        prompt: Prompt,
        provider: Provider,
        executor: ToolExecutor,
        store: ConversationStore,
        pricing: Pricing | None = None,
        default_params: GenerationParams | None = None,
        agent_name: str = "",
        namespace: str = "",
    ) -> None:
        self.pack = pack
        self.prompt = prompt
        self.provider = provider
        self.executor = executor
        self.store = store
        self.pricing = pricing or Pricing()
        self.default_params = default_params or GenerationParams()
        self.agent_name = agent_name
        self.namespace = namespace
        self._session_locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._plain_system: str | None = None

    async def _lock_session(self, session_id: str) -> asyncio.Lock | None:
        """Take the session's lock (None without a session): one turn at a time per session in this process, so two
        turns cannot overwrite each other's history. Give it back with ``_unlock_session``."""
        if not session_id:
            return None
        lock = self._session_locks.get(session_id)
        if lock is None:
            lock = self._session_locks[session_id] = asyncio.Lock()
        self._lock_users[session_id] = self._lock_users.get(session_id, 0) + 1
        try:
            await lock.acquire()
        except BaseException:
            self._release_user(session_id)
            raise
        return lock

    def _unlock_session(self, session_id: str, lock: asyncio.Lock | None) -> None:
        if lock is None:
            return
        lock.release()
        self._release_user(session_id)

    def _release_user(self, session_id: str) -> None:
        self._lock_users[session_id] -= 1
        if not self._lock_users[session_id]:
            del self._lock_users[session_id]
            del self._session_locks[session_id]

    def offered_tools(self) -> list[ToolSpec]:
        blocked = set(self.prompt.tool_policy.blocklist)
        offered: dict[str, ToolSpec] = {}
        for name in self.prompt.tools:
            tool = self.pack.tools.get(name)
            if tool is not None and name not in blocked:
                offered[name] = ToolSpec(name=name, description=tool.description, input_schema=tool.parameters)
        for spec in self.executor.specs():
            if spec.name not in blocked:
                offered[spec.name] = spec
        return list(offered.values())

    def system_prompt(self, values: Mapping[str, Any]) -> str:
        """The rendered system prompt; rendered once when the turn passes no values (the usual case)."""
        if not values:
            if self._plain_system is None:
                self._plain_system = self._render_system(values)
            return self._plain_system
        return self._render_system(values)

    def _render_system(self, values: Mapping[str, Any]) -> str:
        template = self.prompt.system_template
        override = self.prompt.model_overrides.get(self.provider.model)
        if override is not None:
            template = override.system_template or template
            template = override.system_template_prefix + template + override.system_template_suffix
        return render(template, values, variables=self.prompt.variables, fragments=self.pack.fragments)

    def params(self) -> GenerationParams:
        p, d = self.prompt.parameters, self.default_params
        return GenerationParams(
            temperature=p.temperature if p.temperature is not None else d.temperature,
            top_p=p.top_p if p.top_p is not None else d.top_p,
            max_tokens=p.max_tokens if p.max_tokens is not None else d.max_tokens,
        )

    async def has_conversation(self, session_id: str) -> bool | None:
        try:
            return await self.store.exists(session_id)
        except OmniaRuntimeError:
            return None

    async def run_turn(self, turn: Turn, emitter: Emitter, values: Mapping[str, Any] | None = None) -> str:
        """Run one turn, streaming through ``emitter``; returns the final text (``done`` is emitted)."""
        started = time.monotonic()
        status = "error"
        with start_span(
            "omnia.runtime.conversation.turn",
            attributes={"session.id": turn.session_id, "omnia.agent.name": self.agent_name},
        ):
            try:
                lock = await self._lock_session(turn.session_id)
                try:
                    final, usage = await self._turn(turn, emitter, values)
                finally:
                    self._unlock_session(turn.session_id, lock)
                status = "success"
            finally:
                metrics.TURN_DURATION.labels(status).observe(time.monotonic() - started)
        await emitter.done(final, usage)
        return final

    async def _turn(self, turn: Turn, emitter: Emitter, values: Mapping[str, Any] | None) -> tuple[str, TurnUsage]:
        values = dict(values) if values is not None else turn_variables(turn.metadata)
        system = self.system_prompt(values)
        history = (await self.store.load(turn.session_id)) if turn.session_id else None
        messages: list[Message] = [*(history or []), Message(role="user", content=turn.content)]
        tools = self.offered_tools() if self.prompt.tool_policy.tool_choice != "none" else []
        specs = {spec.name: spec for spec in tools}
        policy = self.prompt.tool_policy
        total = Usage()
        calls_made = 0
        final = ""
        for round_index in range(policy.max_rounds + 1):
            last_round = round_index == policy.max_rounds
            request = ChatRequest(
                system=system,
                messages=messages,
                tools=[] if last_round else tools,
                tool_choice="auto" if round_index else policy.tool_choice,
                params=self.params(),
                metadata=turn.metadata,
            )
            text, calls, usage, chat_span = await self._call_model(request, turn, emitter)
            total = Usage(
                total.input_tokens + usage.input_tokens,
                total.output_tokens + usage.output_tokens,
                total.cached_input_tokens + usage.cached_input_tokens,
            )
            if not calls or last_round:
                final = text
                messages.append(Message(role="assistant", content=text))
                break
            messages.append(Message(role="assistant", content=text, tool_calls=tuple(calls)))
            for call in calls:
                calls_made += 1
                if calls_made > policy.max_tool_calls_per_turn:
                    result = ToolResult.error(
                        f"tool call limit reached ({policy.max_tool_calls_per_turn} per turn); answer without it"
                    )
                else:
                    result = await self._run_tool(call, specs.get(call.name), turn, emitter, chat_span)
                messages.append(
                    Message(
                        role="tool",
                        content=result.content,
                        tool_call_id=call.id,
                        name=call.name,
                        is_error=result.is_error,
                    )
                )
        violations = check_output(final, self.prompt.validators, _record_validation)
        for violation in violations:
            logger.warning("validator %s: %s", violation.validator, violation.message)
        if turn.session_id:
            await self.store.save(turn.session_id, messages)
        return final, TurnUsage(total.input_tokens, total.output_tokens, self.pricing.cost(total))

    async def _call_model(
        self, request: ChatRequest, turn: Turn, emitter: Emitter
    ) -> tuple[str, list[ToolCallRequest], Usage, Span]:
        provider, model = self.provider.name, self.provider.model
        started = time.monotonic()
        text: list[str] = []
        calls: list[ToolCallRequest] = []
        usage = Usage()
        status = "error"
        with start_span(
            "genai.chat",
            attributes={
                "session.id": turn.session_id,
                "gen_ai.system": provider,
                "gen_ai.request.model": model,
                "gen_ai.operation.name": "chat",
            },
        ) as span:
            try:
                async for event in self.provider.stream(request):
                    if isinstance(event, TextDelta):
                        text.append(event.text)
                        await emitter.chunk(event.text)
                    elif isinstance(event, ToolCallEvent):
                        calls.append(event.call)
                    elif isinstance(event, Usage):
                        usage = event
                    elif isinstance(event, Finish):
                        span.set_attribute("gen_ai.response.finish_reasons", [event.reason])
                status = "success"
            finally:
                metrics.PROVIDER_REQUESTS.labels(provider, model, status).inc()
                metrics.PROVIDER_DURATION.labels(provider, model).observe(time.monotonic() - started)
            cost = self.pricing.cost(usage)
            span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
            span.set_attribute("gen_ai.usage.cost", cost)
            if usage.cached_input_tokens:
                span.set_attribute("gen_ai.usage.cached_input_tokens", usage.cached_input_tokens)
            metrics.INPUT_TOKENS.labels(provider, model).inc(usage.input_tokens)
            metrics.OUTPUT_TOKENS.labels(provider, model).inc(usage.output_tokens)
            metrics.CACHED_TOKENS.labels(provider, model).inc(usage.cached_input_tokens)
            metrics.COST.labels(provider, model).inc(cost)
        return "".join(text), calls, usage, span

    async def _run_tool(
        self, call: ToolCallRequest, spec: ToolSpec | None, turn: Turn, emitter: Emitter, chat_span: Span
    ) -> ToolResult:
        started = time.monotonic()
        # The call belongs to the model response that asked for it: parent it to that genai.chat span.
        with start_span(
            TOOL_CALL_SPAN,
            context=set_span_in_context(chat_span),
            attributes={"session.id": turn.session_id, "omnia.tool.name": call.name, "omnia.tool.call_id": call.id},
        ) as span:
            result, settled_here = await self._dispatch(call, spec, turn, emitter)
            status = "error" if result.is_error else "success"
            span.set_attribute("omnia.tool.status", status)
        if settled_here:  # executor-run calls are counted by the executor (the router) itself
            tool_label = call.name if spec is not None else "unknown"  # invented names must not become labels
            TOOL_CALLS.labels(tool=tool_label, status=status).inc()
            TOOL_CALL_DURATION.labels(tool=tool_label).observe(time.monotonic() - started)
        return result

    async def _dispatch(
        self, call: ToolCallRequest, spec: ToolSpec | None, turn: Turn, emitter: Emitter
    ) -> tuple[ToolResult, bool]:
        """The call's result, and whether it was settled here rather than by the executor."""
        if spec is None:
            return ToolResult.error(f"tool {call.name!r} is not available to this prompt"), True
        problems = _argument_problems(call.arguments, spec.input_schema)
        if problems:
            return ToolResult.error(f"invalid arguments for {call.name}: " + "; ".join(problems)), True
        if spec.execution == "client":
            answer = await emitter.client_tool_call(
                call.name,
                call.arguments,
                call_id=call.id,
                consent_message=spec.consent_message,
                categories=spec.categories,
            )
            if answer.is_rejected:
                return ToolResult.error(f"the user declined: {answer.rejection_reason or 'no reason given'}"), True
            return ToolResult(content=answer.result_json or "null"), True
        if not any(s.name == call.name for s in self.executor.specs()):
            return ToolResult.error(f"tool {call.name!r} has no handler configured (check the ToolRegistry)"), True
        context = ToolCallContext(
            session_id=turn.session_id,
            call_id=call.id,
            agent_name=self.agent_name,
            namespace=self.namespace,
            metadata=dict(turn.identity),
        )
        return await self.executor.execute(call.name, call.arguments, context=context), False


def _argument_problems(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> Sequence[str]:
    if "_raw" in arguments and len(arguments) == 1:
        return ["the arguments are not a JSON object"]
    try:
        validator = Draft202012Validator(dict(schema))
        return [
            f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator.iter_errors(dict(arguments))
        ]
    except SchemaError:
        logger.warning("tool schema is invalid; arguments not checked")
        return []


def _record_validation(config: ValidatorConfig, status: str, seconds: float) -> None:
    metrics.VALIDATIONS.labels(config.type, "output", status).inc()
    if status != "skipped":
        metrics.VALIDATION_DURATION.labels(config.type, "output").observe(seconds)
