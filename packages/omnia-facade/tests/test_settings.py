import pytest
from pydantic import ValidationError

from omnia_facade.errors import ErrorCode, RuntimeTurnError, SessionExpiredError, error_code_for
from omnia_facade.settings import FacadeSettings, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("5m", 300.0), ("1h30m", 5400.0), ("500ms", 0.5), ("24h", 86400.0), ("2.5", 2.5), (7, 7.0)],
)
def test_go_durations_parse_to_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "1x", "h", "30s5", True])
def test_bad_durations_are_rejected(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_settings_read_the_omnia_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_AGENT_NAME", "a1")
    monkeypatch.setenv("OMNIA_SESSION_TTL", "2h")
    monkeypatch.setenv("OMNIA_FACADE_DRAIN_TIMEOUT", "45s")
    monkeypatch.setenv("OMNIA_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("OMNIA_SESSION_STORE_URL", "")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = FacadeSettings()
    assert settings.agent_name == "a1"
    assert settings.session_ttl == 7200.0
    assert settings.facade_drain_timeout == 45.0
    assert settings.origins == {"https://a.example", "https://b.example"}
    assert settings.session_store_url is None
    assert settings.log_level == "debug"
    assert (settings.facade_port, settings.health_port, settings.facade_max_connections) == (8080, 8081, 500)
    assert settings.facade_per_message_deflate is False


def test_invalid_handler_mode_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_HANDLER_MODE", "magic")
    with pytest.raises(ValidationError):
        FacadeSettings()


def test_error_table_maps_our_errors_and_unknown_runtime_codes() -> None:
    assert error_code_for(SessionExpiredError("x")) == ErrorCode.SESSION_EXPIRED
    assert error_code_for(RuntimeTurnError("TOOL_FAILED", "x")) == ErrorCode.TOOL_FAILED
    assert error_code_for(RuntimeTurnError("PROVIDER_DOWN", "x")) == ErrorCode.INTERNAL_ERROR
    assert error_code_for(KeyError("x")) == ErrorCode.INTERNAL_ERROR
