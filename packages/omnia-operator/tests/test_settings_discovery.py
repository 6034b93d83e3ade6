"""Discovery timing comes from the operator's settings."""

import pytest

from omnia_operator.settings import OperatorSettings


def test_discovery_timing_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_OPERATOR_DISCOVERY_TIMEOUT", "2.5")
    monkeypatch.setenv("OMNIA_OPERATOR_REDISCOVERY_INTERVAL", "60")
    settings = OperatorSettings()
    assert (settings.discovery_timeout, settings.rediscovery_interval) == (2.5, 60)


def test_a_rediscovery_interval_below_ten_seconds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIA_OPERATOR_REDISCOVERY_INTERVAL", "1")
    with pytest.raises(ValueError, match="rediscovery_interval"):
        OperatorSettings()
