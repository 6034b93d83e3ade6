from pathlib import Path

import pytest
import redis.asyncio as redis

from omnia_runtime.conversation.store import RedisConversationStore
from omnia_runtime.errors import ConfigError
from omnia_runtime.providers.base import Message
from omnia_runtime.server.app import build_store
from omnia_runtime.settings import RuntimeSettings, load_settings, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("1h30m", 5400), ("500ms", 0.5), ("24h", 86400), ("2", 2)])
def test_go_durations_parse_to_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_invalid_duration_names_the_expected_syntax(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_CONTEXT_TTL", "one day")
    with pytest.raises(ConfigError, match="context_ttl"):
        load_settings()


def test_defaults_follow_the_env_contract() -> None:
    settings = RuntimeSettings()
    assert (settings.grpc_port, settings.health_port) == (9000, 9001)
    assert settings.promptpack_path == Path("/etc/omnia/pack/pack.json")
    assert settings.effective_provider == "mock"
    assert settings.context_ttl == 86400


def test_env_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_PROVIDER_TYPE", "Anthropic")
    monkeypatch.setenv("OMNIA_PROVIDER_HEADERS", '{"x-team": "a"}')
    monkeypatch.setenv("OMNIA_PROVIDER_TEMPERATURE", "0.3")
    monkeypatch.setenv("OMNIA_CONTEXT_URL", "redis://127.0.0.1:1/0")
    settings = load_settings()
    assert settings.effective_provider == "claude"
    assert settings.provider_headers == {"x-team": "a"}
    assert settings.provider_temperature == 0.3
    assert settings.context_url == "redis://127.0.0.1:1/0"


def test_mock_provider_flag_forces_the_mock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_PROVIDER_TYPE", "openai")
    monkeypatch.setenv("OMNIA_MOCK_PROVIDER", "true")
    assert load_settings().effective_provider == "mock"


def test_api_key_sources_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    monkeypatch.setenv("OPENAI_API_KEY", "vendor")
    monkeypatch.setenv("MY_KEY", "named")
    assert RuntimeSettings(provider_type="openai").resolve_api_key() == "vendor"
    assert RuntimeSettings(provider_type="openai", provider_api_key_env="MY_KEY").resolve_api_key() == "named"
    assert RuntimeSettings(provider_type="openai", provider_api_key_file=key_file).resolve_api_key() == "from-file"
    assert RuntimeSettings(provider_type="openai", provider_api_key="direct").resolve_api_key() == "direct"  # pyright: ignore[reportArgumentType]


def test_unreadable_key_file_says_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OMNIA_PROVIDER_API_KEY_FILE"):
        RuntimeSettings(provider_api_key_file=tmp_path / "absent").resolve_api_key()


def test_the_api_key_never_shows_in_the_settings_repr() -> None:
    assert "s3cret" not in repr(RuntimeSettings(provider_api_key="s3cret"))  # pyright: ignore[reportArgumentType]


def test_cached_cost_is_unset_unless_given_and_refuses_a_negative_price(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().provider_cached_cost is None
    monkeypatch.setenv("OMNIA_PROVIDER_CACHED_COST", "")
    assert load_settings().provider_cached_cost is None
    monkeypatch.setenv("OMNIA_PROVIDER_CACHED_COST", "0.0003")
    assert load_settings().provider_cached_cost == 0.0003
    monkeypatch.setenv("OMNIA_PROVIDER_CACHED_COST", "-1")
    with pytest.raises(ConfigError, match="provider_cached_cost"):
        load_settings()


def test_session_url_is_read_as_the_conversation_store_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_SESSION_URL", "redis://127.0.0.1:6380/2")
    assert load_settings().context_url == "redis://127.0.0.1:6380/2"


def test_context_url_wins_over_session_url_when_both_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_SESSION_URL", "redis://127.0.0.1:6380/2")
    monkeypatch.setenv("OMNIA_CONTEXT_URL", "redis://127.0.0.1:6381/3")
    assert load_settings().context_url == "redis://127.0.0.1:6381/3"


async def test_session_url_alone_puts_conversations_in_that_redis(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    monkeypatch.setenv("OMNIA_SESSION_URL", redis_url)
    settings = load_settings()
    store = await build_store(settings)
    try:
        assert isinstance(store, RedisConversationStore)
        await store.save("via-session-url", [Message(role="user", content="hi")])
    finally:
        await store.aclose()
    raw = redis.Redis.from_url(redis_url)
    try:
        assert await raw.exists(f"{settings.context_key_prefix}session:via-session-url") == 1
    finally:
        await raw.aclose()


async def test_redis_context_type_without_any_url_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_CONTEXT_TYPE", "redis")
    with pytest.raises(ConfigError, match=r"OMNIA_CONTEXT_URL \(or OMNIA_SESSION_URL\)"):
        await build_store(load_settings())
