"""At serve time, validators the runtime cannot enforce are visible: logged once, in /readyz, in a metric."""

import json
import logging
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from prometheus_client import REGISTRY

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_runtime.server.app import running_runtime
from omnia_runtime.settings import RuntimeSettings


def settings_for(tmp_path: Path, validators: list[dict[str, Any]]) -> RuntimeSettings:
    pack = {
        "id": "guarded",
        "name": "Guarded",
        "version": "1.0.0",
        "template_engine": {"version": "v1", "syntax": "{{variable}}"},
        "prompts": {
            "guarded_main": {
                "id": "guarded_main",
                "name": "Main",
                "version": "1.0.0",
                "system_template": "Be kind.",
                "validators": validators,
            }
        },
    }
    (tmp_path / "pack.json").write_text(json.dumps(pack))
    return RuntimeSettings(
        bind_host="127.0.0.1",
        grpc_port=0,
        health_port=0,
        promptpack_path=tmp_path / "pack.json",
        tools_config_path=tmp_path / "absent.yaml",
        shutdown_grace=1,
    )


def not_enforced(prompt: str, validator_type: str) -> float | None:
    return REGISTRY.get_sample_value(
        "omnia_runtime_validators_not_enforced", {"prompt": prompt, "validator_type": validator_type}
    )


async def one_turn(stub: Any, content: str) -> runtime_pb2.ServerMessage:
    call = stub.Converse(timeout=30)
    await call.write(runtime_pb2.ClientMessage(session_id="guarded", content=content))
    last = runtime_pb2.ServerMessage()
    for _ in range(100):
        frame = await call.read()
        if not isinstance(frame, runtime_pb2.ServerMessage):
            break
        last = frame
    return last


async def test_unenforced_validators_are_logged_once_listed_by_readyz_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(
        tmp_path,
        [
            {"type": "max_length", "enabled": True, "params": {"max_characters": 500}},
            {"type": "toxicity", "enabled": True, "params": {"threshold": 0.3}},
            {"type": "custom", "enabled": True, "fail_on_violation": True},
            {"type": "sentiment", "enabled": False},
        ],
    )
    caplog.set_level(logging.WARNING, logger="omnia_runtime")
    async with (
        running_runtime(settings) as servers,
        grpc.aio.insecure_channel(f"127.0.0.1:{servers.grpc_port}") as channel,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}", timeout=10) as http,
    ):
        stub = runtime_pb2_grpc.RuntimeServiceStub(channel)
        first = await one_turn(stub, "hello")
        second = await one_turn(stub, "hello again")
        ready = await http.get("/readyz")
    # The turns are served (the runtime is ready), the unenforceable validators do not block answers.
    assert first.WhichOneof("message") == "done"
    assert second.WhichOneof("message") == "done"
    assert ready.status_code == 200
    lines = ready.text.splitlines()
    assert lines[0] == "ready"
    assert lines[1:] == ["warning: prompt guarded_main: validators not enforced by this runtime: toxicity, custom"]
    logged = [r.getMessage() for r in caplog.records if "not enforced" in r.getMessage()]
    assert len(logged) == 1  # at start-up, not once per turn
    assert "toxicity, custom" in logged[0]
    assert not_enforced("guarded_main", "toxicity") == 1
    assert not_enforced("guarded_main", "custom") == 1
    assert not_enforced("guarded_main", "sentiment") is None  # disabled: nothing to enforce
    assert not_enforced("guarded_main", "max_length") is None  # enforced


async def test_readyz_has_no_warning_when_every_validator_is_enforced(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, [{"type": "banned_words", "enabled": True, "params": {"words": ["x"]}}])
    async with (
        running_runtime(settings) as servers,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}", timeout=10) as http,
    ):
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.text == "ready\n"
