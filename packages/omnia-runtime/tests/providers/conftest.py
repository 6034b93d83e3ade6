"""Fake vendor HTTP servers speaking each vendor's streaming wire format, so the real SDKs run against them.

Each fake answers a request that carries no tool result with a little text and one tool call
(``get_weather``, its arguments split over several deltas where the vendor does that), and a request that
carries a tool result with a text answer. Every request body is recorded in ``requests``. Every response
reports the same usage, part of the prompt served from the vendor's prompt cache: ``USAGE`` per vendor.
"""

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

USAGE: dict[str, tuple[int, int, int]] = {
    "openai": (21, 8, 7),  # prompt_tokens (cached included), cached_tokens, completion_tokens
    "claude": (30 + 4 + 12, 12, 9),  # input + cache creation + cache read; cache read; message_delta output
    "gemini": (17, 6, 5),  # promptTokenCount (cached included), cachedContentTokenCount, candidatesTokenCount
}
"""(every prompt token, cached prompt tokens, output tokens) that each fake vendor reports per response."""


@dataclass
class FakeVendor:
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_with: int | None = None


def _sse(events: Sequence[tuple[str | None, dict[str, Any] | str]]) -> Callable[[], AsyncIterator[bytes]]:
    async def body() -> AsyncIterator[bytes]:
        for name, data in events:
            text = data if isinstance(data, str) else json.dumps(data)
            yield ((f"event: {name}\n" if name else "") + f"data: {text}\n\n").encode()

    return body


def _openai_app(vendor: FakeVendor) -> Starlette:
    async def completions(request: Request) -> Response:
        body = await request.json()
        vendor.requests.append(body)
        vendor.headers.append(dict(request.headers))
        if vendor.fail_with:
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, status_code=vendor.fail_with)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        usage = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": body["model"],
            "choices": [],
            "usage": {
                "prompt_tokens": 21,
                "completion_tokens": 7,
                "total_tokens": 28,
                "prompt_tokens_details": {"cached_tokens": 8},
            },
        }
        if any(m["role"] == "tool" for m in body["messages"]):
            events = [
                chunk({"role": "assistant", "content": "It is "}),
                chunk({"content": "sunny."}),
                chunk({}, "stop"),
                usage,
            ]
        else:
            call = {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
            events = [
                chunk({"role": "assistant", "content": "Checking."}),
                chunk({"tool_calls": [call]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
                chunk({}, "tool_calls"),
                usage,
            ]
        stream = _sse([(None, e) for e in events] + [(None, "[DONE]")])
        return StreamingResponse(stream(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


def _anthropic_app(vendor: FakeVendor) -> Starlette:
    async def messages(request: Request) -> Response:
        body = await request.json()
        vendor.requests.append(body)
        vendor.headers.append(dict(request.headers))
        if vendor.fail_with:
            return JSONResponse(
                {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
                status_code=vendor.fail_with,
            )
        start = {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": 30,
                    "cache_creation_input_tokens": 4,
                    "cache_read_input_tokens": 12,
                    "output_tokens": 1,
                },
            },
        }
        has_result = any(
            isinstance(m["content"], list) and any(b.get("type") == "tool_result" for b in m["content"])
            for m in body["messages"]
        )
        events: list[tuple[str | None, dict[str, Any] | str]] = [
            ("message_start", start),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            ),
        ]
        text = ["It is ", "sunny."] if has_result else ["Checking."]
        events += [
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}},
            )
            for t in text
        ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        if not has_result:
            events += [
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 1,
                        "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
                    },
                ),
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 1,
                        "delta": {"type": "input_json_delta", "partial_json": '{"city": '},
                    },
                ),
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 1,
                        "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'},
                    },
                ),
                ("content_block_stop", {"type": "content_block_stop", "index": 1}),
            ]
        events += [
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn" if has_result else "tool_use", "stop_sequence": None},
                    "usage": {"output_tokens": 9},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return StreamingResponse(_sse(events)(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])


def _gemini_app(vendor: FakeVendor) -> Starlette:
    async def generate(request: Request) -> Response:
        body = await request.json()
        vendor.requests.append(body)
        vendor.headers.append(dict(request.headers))
        if vendor.fail_with:
            return JSONResponse(
                {"error": {"code": vendor.fail_with, "message": "busy", "status": "UNAVAILABLE"}},
                status_code=vendor.fail_with,
            )
        has_result = any("functionResponse" in p for c in body["contents"] for p in c.get("parts", []))

        def chunk(parts: list[dict[str, Any]], finish: str | None = None) -> dict[str, Any]:
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
            if finish:
                candidate["finishReason"] = finish
            return {
                "candidates": [candidate],
                "modelVersion": "gemini-test",
                "usageMetadata": {
                    "promptTokenCount": 17,
                    "cachedContentTokenCount": 6,
                    "candidatesTokenCount": 5,
                    "totalTokenCount": 22,
                },
            }

        if has_result:
            events = [chunk([{"text": "It is "}]), chunk([{"text": "sunny."}], "STOP")]
        else:
            events = [
                chunk([{"text": "Checking."}]),
                chunk([{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}], "STOP"),
            ]
        return StreamingResponse(_sse([(None, e) for e in events])(), media_type="text/event-stream")

    return Starlette(routes=[Route("/{version}/models/{rest:path}", generate, methods=["POST"])])


@pytest.fixture
def fake_vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture
def openai_app(fake_vendor: FakeVendor) -> Starlette:
    return _openai_app(fake_vendor)


@pytest.fixture
def anthropic_app(fake_vendor: FakeVendor) -> Starlette:
    return _anthropic_app(fake_vendor)


@pytest.fixture
def gemini_app(fake_vendor: FakeVendor) -> Starlette:
    return _gemini_app(fake_vendor)


@pytest.fixture
def vendor_usage() -> dict[str, tuple[int, int, int]]:
    """``USAGE``: what each fake vendor reports per response."""
    return USAGE
