"""Anthropic Messages adapter (official ``anthropic`` SDK). Consumes the raw stream events: text deltas,
``tool_use`` blocks whose JSON input arrives as ``input_json_delta`` fragments, input tokens in
``message_start`` and output tokens in ``message_delta``. Consecutive tool results are sent as one user
message of ``tool_result`` blocks, as the API requires.

Anthropic counts ``input_tokens`` without the prompt-cache tokens; ``Usage.input_tokens`` is every prompt
token (uncached + ``cache_creation_input_tokens`` + ``cache_read_input_tokens``, as OpenAI and Gemini count
them) and ``Usage.cached_input_tokens`` the cache reads. A ``message_delta`` that repeats the input counts
overrides those of ``message_start``."""

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from omnia_runtime.errors import MissingExtraError, ProviderError, ProviderUnavailableError
from omnia_runtime.providers.arguments import parse_arguments
from omnia_runtime.providers.base import (
    ChatRequest,
    Finish,
    ProviderEvent,
    TextDelta,
    ToolCallEvent,
    ToolCallRequest,
    Usage,
)

try:
    import anthropic
except ImportError as e:  # the extra is not installed
    raise MissingExtraError("the claude provider", "anthropic") from e

DEFAULT_MAX_TOKENS = 4096


def _messages(request: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
                "is_error": message.is_error,
            }
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif message.role == "assistant" and message.tool_calls:
            blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
            blocks.extend(
                {"type": "tool_use", "id": c.id, "name": c.name, "input": dict(c.arguments)} for c in message.tool_calls
            )
            out.append({"role": "assistant", "content": blocks})
        else:
            out.append({"role": message.role, "content": message.content})
    return out


def _count_prompt(prompt: dict[str, int], usage: Any) -> None:
    """Take the prompt token counts an event reports (a count the event leaves out keeps its value)."""
    reported = {
        "input": usage.input_tokens,
        "cache_creation": usage.cache_creation_input_tokens,
        "cache_read": usage.cache_read_input_tokens,
    }
    prompt.update({key: value for key, value in reported.items() if value is not None})


class ClaudeProvider:
    """Streams Anthropic messages; see the module docstring."""

    name = "anthropic"

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.model = model or "claude-sonnet-4-5"
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, default_headers=dict(headers or {}), timeout=timeout, max_retries=0
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        kwargs: dict[str, Any] = {}
        if request.system:
            kwargs["system"] = request.system
        if request.tools and request.tool_choice != "none":
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": dict(t.input_schema)}
                for t in request.tools
            ]
            kwargs["tool_choice"] = {"type": "any" if request.tool_choice == "required" else "auto"}
        # Sampling parameters travel in the body: recent SDKs no longer take them as keyword arguments.
        sampling = {"temperature": request.params.temperature, "top_p": request.params.top_p}
        if any(value is not None for value in sampling.values()):
            kwargs["extra_body"] = {key: value for key, value in sampling.items() if value is not None}
        blocks: dict[int, dict[str, str]] = {}
        prompt: dict[str, int] = {"input": 0, "cache_creation": 0, "cache_read": 0}
        output_tokens = 0
        finish = "stop"
        try:
            events = await self._client.messages.create(  # pyright: ignore[reportCallIssue]
                model=self.model,
                max_tokens=request.params.max_tokens or DEFAULT_MAX_TOKENS,
                messages=_messages(request),  # pyright: ignore[reportArgumentType]
                stream=True,
                **kwargs,
            )
            async for event in events:
                if event.type == "message_start":
                    _count_prompt(prompt, event.message.usage)
                elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                    block = event.content_block
                    blocks[event.index] = {"id": block.id, "name": block.name, "json": ""}
                elif event.type == "content_block_delta":
                    if event.delta.type == "text_delta":
                        yield TextDelta(event.delta.text)
                    elif event.delta.type == "input_json_delta" and event.index in blocks:
                        blocks[event.index]["json"] += event.delta.partial_json
                elif event.type == "message_delta":
                    output_tokens = event.usage.output_tokens or 0
                    _count_prompt(prompt, event.usage)
                    finish = event.delta.stop_reason or finish
        except (anthropic.APIConnectionError, anthropic.RateLimitError, anthropic.InternalServerError) as e:
            raise ProviderUnavailableError(f"anthropic is unavailable: {type(e).__name__}: {e}") from e
        except anthropic.APIStatusError as e:
            raise ProviderError(f"anthropic rejected the request (HTTP {e.status_code}): {e.message}") from e
        except httpx.HTTPError as e:  # the connection broke while the stream was being read
            raise ProviderUnavailableError(f"anthropic stream broke off: {type(e).__name__}") from e
        except anthropic.AnthropicError as e:
            raise ProviderError(f"anthropic request failed: {e}") from e
        for index in sorted(blocks):
            block = blocks[index]
            yield ToolCallEvent(ToolCallRequest(block["id"], block["name"], parse_arguments(block["json"])))
        yield Usage(sum(prompt.values()), output_tokens, prompt["cache_read"])
        yield Finish(finish)

    async def aclose(self) -> None:
        await self._client.close()
