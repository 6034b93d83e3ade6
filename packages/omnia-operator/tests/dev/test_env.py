from pathlib import Path

from omnia_operator.dev.env import LocalOptions, facade_overrides, provider_has_key, runtime_overrides


def test_a_real_provider_without_any_key_falls_back_to_the_mock_and_says_what_to_set() -> None:
    notes: list[str] = []
    env = runtime_overrides({"OMNIA_PROVIDER_TYPE": "openai"}, LocalOptions(), {}, notes)
    assert env["OMNIA_MOCK_PROVIDER"] == "true"
    assert any("set OPENAI_API_KEY" in n for n in notes)


def test_a_real_provider_keeps_its_key_from_the_developers_environment() -> None:
    notes: list[str] = []
    env = runtime_overrides({"OMNIA_PROVIDER_TYPE": "claude"}, LocalOptions(), {"ANTHROPIC_API_KEY": "k"}, notes)
    assert "OMNIA_MOCK_PROVIDER" not in env
    assert notes == []


def test_key_env_and_key_file_count_as_keys(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("k")
    assert provider_has_key({"OMNIA_PROVIDER_TYPE": "gemini", "OMNIA_PROVIDER_API_KEY_FILE": str(key_file)}, {})[0]
    assert provider_has_key({"OMNIA_PROVIDER_TYPE": "openai", "OMNIA_PROVIDER_API_KEY_ENV": "MY_KEY"}, {"MY_KEY": "k"})[
        0
    ]
    assert provider_has_key({"OMNIA_PROVIDER_TYPE": "openai", "OMNIA_PROVIDER_API_KEY_ENV": "MY_KEY"}, {}) == (
        False,
        "MY_KEY",
    )


def test_sessions_stay_in_memory_unless_a_redis_url_is_given() -> None:
    pod_env = {"OMNIA_CONTEXT_TYPE": "redis", "OMNIA_CONTEXT_URL": "redis://cluster:6379"}
    notes: list[str] = []
    local = runtime_overrides(pod_env, LocalOptions(), {}, notes)
    assert local["OMNIA_CONTEXT_TYPE"] == "memory"
    assert any("--redis-url" in n for n in notes)
    assert "OMNIA_CONTEXT_URL" not in local
    url = "redis://127.0.0.1:6390/0"
    redis = runtime_overrides(pod_env, LocalOptions(redis_url=url), {}, [])
    assert redis["OMNIA_CONTEXT_URL"] == url
    facade = facade_overrides({"OMNIA_SESSION_TYPE": "memory"}, LocalOptions(redis_url=url))
    assert facade["OMNIA_SESSION_TYPE"] == "redis"
    assert facade["OMNIA_SESSION_STORE_URL"] == url


def test_the_facade_is_wired_to_the_local_runtime_with_the_console_on(tmp_path: Path) -> None:
    options = LocalOptions(port=18080, runtime_port=19000, media_dir=tmp_path / "media")
    env = facade_overrides({"OMNIA_RUNTIME_ADDRESS": "localhost:9000"}, options)
    assert env["OMNIA_RUNTIME_ADDRESS"] == "127.0.0.1:19000"
    assert env["OMNIA_FACADE_PORT"] == "18080"
    assert env["OMNIA_HEALTH_PORT"] == "18081"
    assert env["OMNIA_BIND_HOST"] == "127.0.0.1"
    assert env["OMNIA_FACADE_CONSOLE_ENABLED"] == "true"
    assert env["OMNIA_FACADE_ALLOW_UNAUTHENTICATED"] == "true"
    assert "http://127.0.0.1:18080" in env["OMNIA_ALLOWED_ORIGINS"].split(",")
    assert env["OMNIA_MEDIA_STORAGE_TYPE"] == "local"
    assert (tmp_path / "media").is_dir()


def test_a_placeholder_key_from_an_example_secret_does_not_count() -> None:
    notes: list[str] = []
    pod_env = {"OMNIA_PROVIDER_TYPE": "openai", "OMNIA_PROVIDER_API_KEY": "replace-me"}
    env = runtime_overrides(pod_env, LocalOptions(), {}, notes)
    assert env["OMNIA_MOCK_PROVIDER"] == "true"
    assert "OMNIA_PROVIDER_API_KEY" not in env
    real = runtime_overrides(pod_env, LocalOptions(), {"OPENAI_API_KEY": "sk-real"}, [])
    assert "OMNIA_MOCK_PROVIDER" not in real
    assert "OMNIA_PROVIDER_API_KEY" not in real, "the runtime falls back to OPENAI_API_KEY itself"
