"""Fixtures of the facade tests; the helpers themselves live in ``omnia_facade_testkit`` (put on sys.path here)."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

sys.path.insert(0, str(Path(__file__).parent))

from omnia_facade_testkit import (
    RunningFacade,
    ScriptedRuntime,
    facade_settings,
    running_facade,
    serving_runtime,
)


@pytest.fixture
async def runtime() -> AsyncIterator[ScriptedRuntime]:
    async with serving_runtime(ScriptedRuntime()) as scripted:
        yield scripted


@pytest.fixture
async def facade(runtime: ScriptedRuntime) -> AsyncIterator[RunningFacade]:
    async with running_facade(facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")) as running:
        yield running


@pytest.fixture(scope="session")
def asyncapi_validators(conformance_dir: Path) -> dict[str, Draft202012Validator]:
    """One validator per server/client message type, from the upstream AsyncAPI document."""
    document = yaml.safe_load((conformance_dir / "websocket" / "asyncapi.yaml").read_text())
    components = document["components"]
    by_type: dict[str, Draft202012Validator] = {}
    for message in components["messages"].values():
        payload = message["payload"]
        kind = payload["properties"]["type"].get("const")
        by_type[kind] = Draft202012Validator({**payload, "components": components})
    return by_type
