"""At serve time, what ``validate-pack`` rejects beyond the schema (lint) is served but shown; an invalid pack
is not served and every problem is logged as well as listed by /readyz."""

import json
import logging
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_runtime.cli import validate_pack_command
from omnia_runtime.server.app import running_runtime
from omnia_runtime.settings import RuntimeSettings
from omnia_runtime.tools.base import StaticToolExecutor, ToolSpec

LINTED_PACK: dict[str, Any] = {
    "id": "linted",
    "name": "Linted",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "prompts": {
        "main": {
            "id": "main",
            "name": "Main",
            "version": "1.0.0",
            "system_template": "You help {{customer}} of {{company}}.",
            "variables": [{"name": "company", "type": "string", "required": False, "default": "Acme"}],
            "tools": ["lookup_order", "ghost_tool"],
        }
    },
}
UNDECLARED = "/prompts/main/system_template: variable 'customer' is not declared in /prompts/main/variables"
GHOST = "/prompts/main/tools/1: tool 'ghost_tool' is not defined in /tools nor offered by the ToolRegistry"


def settings_for(tmp_path: Path, pack: dict[str, Any]) -> RuntimeSettings:
    (tmp_path / "pack.json").write_text(json.dumps(pack))
    return RuntimeSettings(
        bind_host="127.0.0.1",
        grpc_port=0,
        health_port=0,
        promptpack_path=tmp_path / "pack.json",
        tools_config_path=tmp_path / "absent.yaml",
        shutdown_grace=1,
    )


def registry_with_lookup_order() -> StaticToolExecutor:
    executor = StaticToolExecutor()
    executor.add(ToolSpec(name="lookup_order", description="Look up an order"), lambda: {"status": "shipped"})
    return executor


def warnings_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "PromptPack" in r.getMessage()]


async def test_a_pack_validate_pack_rejects_for_lint_is_served_with_its_findings_in_readyz_and_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, LINTED_PACK)
    assert validate_pack_command(settings.promptpack_path) == 1  # the CLI does reject it
    capsys.readouterr()
    caplog.set_level(logging.WARNING, logger="omnia_runtime")
    async with (
        running_runtime(settings, executor=registry_with_lookup_order()) as servers,
        grpc.aio.insecure_channel(f"127.0.0.1:{servers.grpc_port}") as channel,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}", timeout=10) as http,
    ):
        ready = await http.get("/readyz")
        call = runtime_pb2_grpc.RuntimeServiceStub(channel).Converse(timeout=30)
        await call.write(runtime_pb2.ClientMessage(session_id="lint", content="hello"))
        kinds: list[str | None] = []
        for _ in range(100):
            frame = await call.read()
            if not isinstance(frame, runtime_pb2.ServerMessage):  # end of stream
                break
            kinds.append(frame.WhichOneof("message"))
    assert ready.status_code == 200
    lines = ready.text.splitlines()
    assert lines[0] == "ready"
    # One line per finding; 'lookup_order' is offered by the ToolRegistry, so it is not one.
    assert sorted(lines[1:]) == sorted([f"warning: PromptPack: {GHOST}", f"warning: PromptPack: {UNDECLARED}"])
    logged = warnings_logged(caplog)
    assert len(logged) == 2
    assert any(GHOST in message for message in logged)
    assert any(UNDECLARED in message for message in logged)
    assert not any("lookup_order" in message for message in logged)
    # And the pack is really served: the turn ends with done, not an error.
    assert kinds[0] == "runtime_hello"
    assert kinds[-1] == "done"


async def test_undefined_tool_is_a_finding_when_no_tool_registry_offers_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="omnia_runtime")
    async with (
        running_runtime(settings_for(tmp_path, LINTED_PACK)) as servers,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}", timeout=10) as http,
    ):
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert "warning: PromptPack: /prompts/main/tools/0: tool 'lookup_order' is not defined" in ready.text
    assert len(warnings_logged(caplog)) == 3


async def test_an_invalid_pack_logs_every_problem_and_readyz_lists_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = json.loads(json.dumps(LINTED_PACK))
    del broken["template_engine"]
    del broken["prompts"]["main"]["version"]
    caplog.set_level(logging.ERROR, logger="omnia_runtime")
    async with (
        running_runtime(settings_for(tmp_path, broken)) as servers,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{servers.health_port}", timeout=10) as http,
    ):
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    for schema_problem in ("/: 'template_engine' is a required property", "/prompts/main: 'version' is a required"):
        assert any(schema_problem in message for message in errors), schema_problem
        assert schema_problem in ready.text
    # Every problem /readyz lists was logged too.
    listed = ready.text.splitlines()[1:]
    assert listed
    for problem in listed:
        assert any(problem in message for message in errors), problem
