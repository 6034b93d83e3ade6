"""OpenAI Chat Completions adapter (official ``openai`` SDK); also Ollama, vLLM and any OpenAI-compatible server
through the base URL. Tool-call arguments arrive as string fragments per call index and are assembled here;
usage comes in the last chunk (``stream_options.include_usage``). Retries are left to the caller (max_retries=0)
so a failing provider ends the turn quickly with a clear error."""

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from omnia_runtime.errors import MissingExtraError, ProviderError, ProviderUnavailableError
from omnia_runtime.providers.arguments import parse_arguments
from omnia_runtime.providers.base import (
    ChatRequest,
    Finish,
    Message,
    ProviderEvent,
    TextDelta,
    ToolCallEvent,
    ToolCallRequest,
    Usage,
)

try:
    import openai
except ImportError as e:  # the extra is not installed
    raise MissingExtraError("the openai provider", "openai") from e


def _messages(request: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": request.system}] if request.system else []
    out.extend(_message(message) for message in request.messages)
    return out


def _message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments))}}
            for c in message.tool_calls
        ]
    return data


class OpenAIProvider:
    """Streams chat completions; see the module docstring."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        system_name: str = "openai",
    ) -> None:
        self.name = system_name
        self.model = model or "gpt-4o-mini"
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "not-needed",
            base_url=base_url,
            default_headers=dict(headers or {}),
            timeout=timeout,
            max_retries=0,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        kwargs: dict[str, Any] = {}
        if request.tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": dict(t.input_schema)},
                }
                for t in request.tools
            ]
            kwargs["tool_choice"] = request.tool_choice
        if request.params.temperature is not None:
            kwargs["temperature"] = request.params.temperature
        if request.params.top_p is not None:
            kwargs["top_p"] = request.params.top_p
        if request.params.max_tokens is not None:
            kwargs["max_tokens"] = request.params.max_tokens
        calls: dict[int, dict[str, str]] = {}
        finish = "stop"
        try:
            response = await self._client.chat.completions.create(  # pyright: ignore[reportCallIssue]
                model=self.model,
                messages=_messages(request),  # pyright: ignore[reportArgumentType]
                stream=True,
                stream_options={"include_usage": True},
                **kwargs,
            )
            async for chunk in response:
                if chunk.usage is not None:
                    details = chunk.usage.prompt_tokens_details
                    yield Usage(
                        chunk.usage.prompt_tokens or 0,
                        chunk.usage.completion_tokens or 0,
                        (details.cached_tokens or 0) if details is not None else 0,
                    )
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta.content:
                        yield TextDelta(delta.content)
                    for part in delta.tool_calls or []:
                        entry = calls.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
                        if part.id:
                            entry["id"] = part.id
                        if part.function is not None:
                            entry["name"] += part.function.name or ""
                            entry["arguments"] += part.function.arguments or ""
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as e:
            raise ProviderUnavailableError(f"{self.name} is unavailable: {type(e).__name__}: {e}") from e
        except openai.APIStatusError as e:
            raise ProviderError(f"{self.name} rejected the request (HTTP {e.status_code}): {e.message}") from e
        except httpx.HTTPError as e:  # the connection broke while the stream was being read
            raise ProviderUnavailableError(f"{self.name} stream broke off: {type(e).__name__}") from e
        except openai.OpenAIError as e:
            raise ProviderError(f"{self.name} request failed: {e}") from e
        for index in sorted(calls):
            entry = calls[index]
            yield ToolCallEvent(
                ToolCallRequest(entry["id"] or f"call_{index}", entry["name"], parse_arguments(entry["arguments"]))
            )
        yield Finish(finish)

    async def aclose(self) -> None:
        await self._client.close()
