from pathlib import Path

import pytest

from omnia_runtime.errors import ConfigError
from omnia_runtime.tools.config import load_tools_config, parse_duration, parse_tools_config

GOOD_HTTP = {
    "name": "weather",
    "type": "http",
    "endpoint": "http://weather.tools.svc:8080/forecast",
    "timeout": "5s",
    "tool": {"name": "get_weather", "description": "Forecast", "inputSchema": {"type": "object"}},
    "httpConfig": {
        "endpoint": "http://declared.example/forecast",
        "method": "get",
        "queryParams": ["city"],
        "retryPolicy": {"maxAttempts": 3, "initialBackoff": "200ms", "backoffMultiplier": "2.0", "retryOn": [503]},
        "authType": "bearer",
        "authTokenPath": "/etc/omnia/tool-secrets/weather",
    },
}


def test_load_reads_camel_case_keys_and_prefers_the_resolved_endpoint() -> None:
    config = parse_tools_config({"handlers": [GOOD_HTTP]})
    assert config.problems == []
    handler = config.handlers[0]
    assert handler.timeout == 5.0
    assert handler.http_config is not None
    assert handler.http_config.endpoint == "http://weather.tools.svc:8080/forecast"
    assert handler.http_config.method == "GET"
    assert handler.http_config.query_params == ["city"]
    policy = handler.retry_policy
    assert (policy.max_attempts, policy.initial_backoff, policy.backoff_multiplier) == (3, 0.2, 2.0)
    assert policy.retry_on == frozenset({503})
    assert handler.auth.auth_type == "bearer"


def test_bad_entries_each_get_one_problem_while_good_ones_load() -> None:
    config = parse_tools_config(
        {
            "handlers": [
                GOOD_HTTP,
                {"name": "no-tool", "type": "http", "httpConfig": {"endpoint": "http://x"}},
                {"name": "bad-type", "type": "smtp"},
                {"name": "mcp-no-cmd", "type": "mcp", "mcpConfig": {"transport": "stdio"}},
                {"name": "slow", "type": "grpc", "endpoint": "h:1", "timeout": "soon"},
                {"name": "secret", "type": "grpc", "endpoint": "h:1", "grpcConfig": {"authType": "basic"}},
                "not a mapping",
                {**GOOD_HTTP},
            ]
        }
    )
    assert [h.name for h in config.handlers] == ["weather"]
    assert len(config.problems) == 7
    joined = "\n".join(config.problems)
    assert "'no-tool'" in joined
    assert "needs a 'tool'" in joined
    assert "'bad-type'" in joined
    assert "mcpConfig.command" in joined
    assert "'soon' is not a duration" in joined
    assert "needs authTokenPath" in joined
    assert "duplicate handler name" in joined


def test_invalid_input_schema_is_reported_against_its_handler() -> None:
    entry = {**GOOD_HTTP, "tool": {"name": "t", "inputSchema": {"type": "nonsense"}}}
    config = parse_tools_config({"handlers": [entry]})
    assert config.handlers == []
    assert "inputSchema is not a valid JSON Schema" in config.problems[0]


def test_self_describing_handlers_need_no_tool_and_get_their_endpoints() -> None:
    config = parse_tools_config(
        {
            "handlers": [
                {"name": "fs", "type": "mcp", "endpoint": "http://mcp:8000/mcp", "mcpConfig": {"transport": "sse"}},
                {"name": "pets", "type": "openapi", "endpoint": "http://pets/openapi.json"},
                {"name": "calc", "type": "grpc", "grpcConfig": {"endpoint": "calc:9000"}},
                {
                    "name": "ui",
                    "type": "client",
                    "tool": {"name": "pick_color"},
                    "clientConfig": {"categories": ["ui"]},
                },
            ]
        }
    )
    assert config.problems == []
    fs, pets, calc, ui = config.handlers
    assert fs.mcp_config is not None
    assert fs.mcp_config.endpoint == "http://mcp:8000/mcp"
    assert pets.openapi_config is not None
    assert pets.openapi_config.spec_url == "http://pets/openapi.json"
    assert calc.grpc_config is not None
    assert calc.grpc_config.endpoint == "calc:9000"
    assert ui.client_config is not None
    assert ui.client_config.categories == ["ui"]
    assert calc.timeout == 30.0
    assert calc.retry_policy.max_attempts == 1


def test_legacy_tools_list_is_converted_to_handlers() -> None:
    config = parse_tools_config(
        {
            "tools": [
                {
                    "name": "lookup",
                    "type": "http",
                    "endpoint": {"url": "http://lookup/"},
                    "schema": {"input": {"type": "object"}},
                    "retries": 2,
                }
            ]
        }
    )
    assert config.problems == []
    (handler,) = config.handlers
    assert handler.http_config is not None
    assert handler.http_config.endpoint == "http://lookup/"
    assert handler.retry_policy.max_attempts == 3


def test_missing_file_means_no_tools_and_broken_yaml_is_a_config_error(tmp_path: Path) -> None:
    assert load_tools_config(tmp_path / "absent.yaml").handlers == []
    broken = tmp_path / "tools.yaml"
    broken.write_text("handlers: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_tools_config(broken)


def test_top_level_that_is_not_a_mapping_is_a_problem() -> None:
    assert parse_tools_config(["x"]).problems  # type: ignore[arg-type]
    assert parse_tools_config({"handlers": "x"}).problems == ["tools config: 'handlers' must be a list"]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0), (2, 2.0), ("0", 0.0)]
)
def test_go_durations_parse_to_seconds(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["30", "s", "1x", "-1s", "1s junk"])
def test_malformed_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_null_values_take_the_defaults() -> None:
    entry = {**GOOD_HTTP, "timeout": None, "httpConfig": {"endpoint": "http://x/", "method": None, "retryPolicy": None}}
    config = parse_tools_config({"handlers": [entry]})
    assert config.problems == []
    (handler,) = config.handlers
    assert handler.timeout == 30.0
    assert handler.http_config is not None
    assert handler.http_config.method == "POST"
    assert handler.retry_policy.max_attempts == 1
