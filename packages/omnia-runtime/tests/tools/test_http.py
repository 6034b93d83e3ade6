import email.utils
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from omnia_runtime.tools.adapter import context_metadata
from omnia_runtime.tools.base import ToolCallContext
from omnia_runtime.tools.config import HandlerConfig, ToolsConfig, parse_tools_config
from omnia_runtime.tools.http import parse_retry_after
from omnia_runtime.tools.router import ToolRouter

CONTEXT = ToolCallContext(session_id="s-1", call_id="c-1", agent_name="agent", namespace="ns", metadata={"user": "u1"})


async def call(handler: HandlerConfig, arguments: dict[str, Any], **router_options: Any) -> tuple[bool, Any]:
    router = ToolRouter(**router_options)
    await router.start(ToolsConfig(handlers=[handler]))
    try:
        result = await router.execute(handler.tool.name if handler.tool else "", arguments, context=CONTEXT)
    finally:
        await router.aclose()
    return result.is_error, json.loads(result.content)


async def test_post_sends_json_body_with_static_body_and_context_headers(backend, make_http_handler) -> None:
    url, state = backend
    handler = make_http_handler(f"{url}/echo", staticBody={"source": "omnia", "q": "overridden"}, headers={"X-K": "v"})
    is_error, answer = await call(handler, {"q": "rain", "n": 3})
    assert not is_error
    assert answer["method"] == "POST"
    assert answer["body"] == {"source": "omnia", "q": "rain", "n": 3}
    headers = state.requests[0]["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["x-k"] == "v"
    assert headers["x-omnia-session-id"] == "s-1"
    assert headers["x-omnia-tool-call-id"] == "c-1"
    assert headers["x-omnia-user"] == "u1"


async def test_get_puts_arguments_in_the_query_string(backend, make_http_handler) -> None:
    url, state = backend
    handler = make_http_handler(f"{url}/echo", method="GET", staticQuery={"units": "metric"})
    is_error, answer = await call(handler, {"q": "paris", "days": 2, "tags": ["a", "b"]})
    assert not is_error
    assert answer["body"] is None
    assert ("tags", "a") in state.requests[0]["query_list"]
    assert ("tags", "b") in state.requests[0]["query_list"]
    assert answer["query"]["q"] == "paris"
    assert answer["query"]["days"] == "2"
    assert answer["query"]["units"] == "metric"


async def test_url_template_encodes_arguments_and_params_move_to_query_and_headers(backend, make_http_handler) -> None:
    url, state = backend
    handler = make_http_handler(
        "",
        method="PUT",
        urlTemplate=f"{url}/items/{{item_id}}",
        queryParams=["version"],
        headerParams={"tenant": "X-Tenant"},
        bodyMapping="{value: payload.value}",
    )
    is_error, answer = await call(
        handler, {"item_id": "a b?c&d", "version": 7, "tenant": "t9", "payload": {"value": 1}}
    )
    assert not is_error
    request = state.requests[0]
    assert request["path"].startswith("/items/a b")  # "?" and "&" stayed inside the path segment
    assert answer["query"] == {"version": "7"}
    assert request["headers"]["x-tenant"] == "t9"
    assert answer["body"] == {"value": 1}


async def test_response_mapping_and_redaction_shape_what_the_model_sees(backend, make_http_handler) -> None:
    url, _ = backend
    handler = make_http_handler(f"{url}/secret", redact=["password", "token"])
    _, answer = await call(handler, {})
    assert answer == {"user": "ada", "password": "[REDACTED]", "token": "[REDACTED]", "ok": True}
    mapped = make_http_handler(f"{url}/secret", responseMapping="user")
    assert (await call(mapped, {}))[1] == "ada"


async def test_non_json_success_is_wrapped(backend, make_http_handler) -> None:
    url, _ = backend
    assert await call(make_http_handler(f"{url}/text"), {}) == (False, {"result": "plain words"})


async def test_non_2xx_is_an_error_result_with_a_truncated_body(backend, make_http_handler) -> None:
    url, _ = backend
    is_error, answer = await call(make_http_handler(f"{url}/status/404"), {})
    assert is_error
    assert answer["error"].startswith("HTTP 404: xxx")
    assert answer["error"].endswith("...(truncated)")
    assert len(answer["error"]) < 600


async def test_bearer_token_is_read_from_the_file_on_every_call(backend, make_http_handler, tmp_path) -> None:
    url, state = backend
    token = tmp_path / "token"
    token.write_text("first-token\n")
    handler = make_http_handler(f"{url}/echo", authType="bearer", authTokenPath=str(token))
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[handler]))
    try:
        await router.execute("echo", {}, context=CONTEXT)
        token.write_text("rotated-token")
        await router.execute("echo", {}, context=CONTEXT)
    finally:
        await router.aclose()
    assert [r["headers"]["authorization"] for r in state.requests] == ["Bearer first-token", "Bearer rotated-token"]


async def test_basic_auth_and_a_missing_credential_file(backend, make_http_handler, tmp_path) -> None:
    url, state = backend
    secret = tmp_path / "basic"
    secret.write_text("ada:s3cret")
    is_error, _ = await call(make_http_handler(f"{url}/echo", authType="basic", authTokenPath=str(secret)), {})
    assert not is_error
    assert state.requests[0]["headers"]["authorization"] == "Basic YWRhOnMzY3JldA=="
    missing = make_http_handler(f"{url}/echo", authType="bearer", authTokenPath=str(tmp_path / "nope"))
    is_error, answer = await call(missing, {})
    assert is_error
    assert "cannot read the credential file" in answer["error"]
    assert len(state.requests) == 1


async def test_server_that_dies_mid_call_gives_an_error_result(crashing_server, make_http_handler) -> None:
    async with crashing_server() as url:
        is_error, answer = await call(make_http_handler(f"{url}/echo"), {"q": "x"})
    assert is_error
    assert "connection failed" in answer["error"]


async def test_unreachable_endpoint_is_retried_then_reported(make_http_handler, fake_sleep) -> None:
    delays, sleep = fake_sleep
    handler = make_http_handler("http://127.0.0.1:9/echo", retryPolicy={"maxAttempts": 3, "initialBackoff": "1s"})
    is_error, answer = await call(handler, {}, sleep=sleep)
    assert is_error
    assert "connection failed" in answer["error"]
    assert len(delays) == 2
    assert 0.5 <= delays[0] <= 1.0
    assert 1.0 <= delays[1] <= 2.0


def test_fixture_helpers_are_wired(make_http_handler: Callable[..., HandlerConfig]) -> None:
    assert make_http_handler("http://h/x").type == "http"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    delay = parse_retry_after(later)
    assert delay is not None
    assert 60 < delay <= 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_context_metadata_keys_and_values_are_made_header_safe() -> None:
    handler = http_handler_for_metadata()
    context = ToolCallContext(session_id="s", metadata={"User Name": "ada\r\nInjected: 1"})
    headers = context_metadata(context, handler)
    assert headers["x-omnia-user-name"] == "ada  Injected: 1"
    assert headers["x-omnia-handler-name"] == "meta"


def http_handler_for_metadata() -> HandlerConfig:
    config = parse_tools_config(
        {"handlers": [{"name": "meta", "type": "http", "endpoint": "http://h/", "tool": {"name": "t"}}]}
    )
    return config.handlers[0]


async def test_form_content_type_sends_a_form_body(backend, make_http_handler) -> None:
    url, state = backend
    handler = make_http_handler(f"{url}/text", contentType="application/x-www-form-urlencoded")
    is_error, _ = await call(handler, {"q": "a b", "tags": ["x", "y"]})
    assert not is_error
    assert state.requests[0]["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert state.requests[0]["raw"] == b"q=a+b&tags=x&tags=y"
