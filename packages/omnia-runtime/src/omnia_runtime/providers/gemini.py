"""Google Gemini adapter (official ``google-genai`` SDK, ``generate_content_stream``). Function calls arrive
whole in a part; the API has no call ids in older models, so one is made up from the name when absent. Tool
results go back as ``function_response`` parts in a user turn."""

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
    import google.genai as genai
    from google.genai import errors as genai_errors, types
except ImportError as e:  # the extra is not installed
    raise MissingExtraError("the gemini provider", "gemini") from e


def _contents(request: ChatRequest) -> list[types.Content]:
    out: list[types.Content] = []
    for message in request.messages:
        if message.role == "tool":
            response = parse_arguments(message.content) if message.content.startswith("{") else {}
            part = types.Part.from_function_response(
                name=message.name, response=response or {"result": message.content}
            )
            if out and out[-1].role == "user" and out[-1].parts and out[-1].parts[0].function_response is not None:
                out[-1].parts.append(part)
            else:
                out.append(types.Content(role="user", parts=[part]))
        elif message.role == "assistant":
            parts = [types.Part(text=message.content)] if message.content else []
            parts.extend(
                types.Part(function_call=types.FunctionCall(id=c.id, name=c.name, args=dict(c.arguments)))
                for c in message.tool_calls
            )
            out.append(types.Content(role="model", parts=parts))
        else:
            out.append(types.Content(role="user", parts=[types.Part(text=message.content)]))
    return out


class GeminiProvider:
    """Streams Gemini responses; see the module docstring."""

    name = "gemini"

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.model = model or "gemini-2.5-flash"
        # Our own httpx client: the SDK would otherwise pick aiohttp when installed; one attempt, retries are
        # the caller's decision.
        self._http = httpx.AsyncClient(timeout=timeout)
        options = types.HttpOptions(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=int(timeout * 1000),
            httpx_async_client=self._http,
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self._client = genai.Client(api_key=api_key or "not-set", http_options=options)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        config: dict[str, Any] = {}
        if request.system:
            config["system_instruction"] = request.system
        if request.tools and request.tool_choice != "none":
            declarations = [
                types.FunctionDeclaration(
                    name=t.name, description=t.description, parameters_json_schema=dict(t.input_schema)
                )
                for t in request.tools
            ]
            config["tools"] = [types.Tool(function_declarations=declarations)]
            config["automatic_function_calling"] = types.AutomaticFunctionCallingConfig(disable=True)
        if request.params.temperature is not None:
            config["temperature"] = request.params.temperature
        if request.params.top_p is not None:
            config["top_p"] = request.params.top_p
        if request.params.max_tokens is not None:
            config["max_output_tokens"] = request.params.max_tokens
        usage = Usage()
        finish = "stop"
        calls = 0
        try:
            stream = await self._client.aio.models.generate_content_stream(
                model=self.model, contents=_contents(request), config=types.GenerateContentConfig(**config)
            )
            async for chunk in stream:
                if chunk.usage_metadata is not None:
                    usage = Usage(
                        chunk.usage_metadata.prompt_token_count or 0,
                        chunk.usage_metadata.candidates_token_count or 0,
                        chunk.usage_metadata.cached_content_token_count or 0,
                    )
                for candidate in chunk.candidates or []:
                    if candidate.finish_reason is not None:
                        finish = str(candidate.finish_reason.value).lower()
                    for part in (candidate.content.parts if candidate.content else None) or []:
                        if part.function_call is not None:
                            calls += 1
                            call = part.function_call
                            call_id = call.id or f"{call.name}-{calls}"
                            yield ToolCallEvent(ToolCallRequest(call_id, call.name or "", dict(call.args or {})))
                        elif part.text:
                            yield TextDelta(part.text)
        except genai_errors.ServerError as e:
            raise ProviderUnavailableError(f"gemini is unavailable (HTTP {e.code}): {e.message}") from e
        except genai_errors.ClientError as e:
            if e.code == 429:
                raise ProviderUnavailableError(f"gemini is rate limiting: {e.message}") from e
            raise ProviderError(f"gemini rejected the request (HTTP {e.code}): {e.message}") from e
        except genai_errors.APIError as e:
            raise ProviderError(f"gemini request failed: {e}") from e
        except OSError as e:
            raise ProviderUnavailableError(f"gemini could not be reached: {e}") from e
        yield usage
        yield Finish("tool_calls" if calls else finish)

    async def aclose(self) -> None:
        await self._client.aio.aclose()
        await self._http.aclose()
