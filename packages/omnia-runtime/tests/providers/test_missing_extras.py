"""Each SDK adapter, when its optional SDK is not installed, fails with an error naming the pip extra to install,
at start-up (``build_provider``) and on ``/readyz`` of a serving runtime. Absence is simulated by making the
SDK's import fail (``sys.modules[name] = None``) and dropping the adapter module so it is imported again."""

import json
import logging
import sys
from pathlib import Path

import httpx
import pytest

from omnia_runtime.errors import ConfigError, MissingExtraError
from omnia_runtime.providers import build_provider
from omnia_runtime.server.app import running_runtime
from omnia_runtime.settings import RuntimeSettings

CASES = [
    # provider type, SDK module made unimportable, adapter module, extra named in the error
    ("openai", "openai", "omnia_runtime.providers.openai", "openai"),
    ("vllm", "openai", "omnia_runtime.providers.openai", "openai"),
    ("claude", "anthropic", "omnia_runtime.providers.claude", "anthropic"),
    ("anthropic", "anthropic", "omnia_runtime.providers.claude", "anthropic"),
    ("gemini", "google.genai", "omnia_runtime.providers.gemini", "gemini"),
]


def without(monkeypatch: pytest.MonkeyPatch, sdk_module: str, adapter_module: str) -> None:
    monkeypatch.setitem(sys.modules, sdk_module, None)
    monkeypatch.delitem(sys.modules, adapter_module, raising=False)


@pytest.mark.parametrize(("provider_type", "sdk_module", "adapter_module", "extra"), CASES)
def test_a_missing_sdk_is_an_error_naming_its_extra(
    monkeypatch: pytest.MonkeyPatch, provider_type: str, sdk_module: str, adapter_module: str, extra: str
) -> None:
    without(monkeypatch, sdk_module, adapter_module)
    settings = RuntimeSettings(
        provider_type=provider_type,  # pyright: ignore[reportArgumentType]
        provider_base_url="http://127.0.0.1:1/v1",
        provider_api_key="k",  # pyright: ignore[reportArgumentType]
    )
    with pytest.raises(MissingExtraError) as raised:
        build_provider(settings)
    assert isinstance(raised.value, ConfigError)
    assert raised.value.extra == extra
    assert f"pip install 'omnia-runtime[{extra}]'" in str(raised.value)
    assert isinstance(raised.value.__cause__, ImportError)


async def test_a_runtime_missing_its_provider_sdk_is_unready_and_says_which_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    without(monkeypatch, "google.genai", "omnia_runtime.providers.gemini")
    pack = {
        "id": "p",
        "name": "P",
        "version": "1.0.0",
        "template_engine": {"version": "v1", "syntax": "{{variable}}"},
        "prompts": {"main": {"id": "main", "name": "M", "version": "1.0.0", "system_template": "S"}},
    }
    (tmp_path / "pack.json").write_text(json.dumps(pack))
    settings = RuntimeSettings(
        bind_host="127.0.0.1",
        grpc_port=0,
        health_port=0,
        promptpack_path=tmp_path / "pack.json",
        tools_config_path=tmp_path / "absent.yaml",
        provider_type="gemini",
        provider_api_key="k",  # pyright: ignore[reportArgumentType]
        shutdown_grace=1,
    )
    caplog.set_level(logging.ERROR, logger="omnia_runtime")
    async with (
        running_runtime(settings) as servers,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}", timeout=10) as http,
    ):
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert "pip install 'omnia-runtime[gemini]'" in ready.text
    assert any("omnia-runtime[gemini]" in r.getMessage() for r in caplog.records)
