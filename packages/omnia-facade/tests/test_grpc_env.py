"""``omnia-facade serve`` sets gRPC's experiments before gRPC is imported, unless the user chose them."""

import os
import subprocess
import sys

import pytest

from omnia_facade.grpc_env import LOW_LATENCY_EXPERIMENTS, prefer_low_latency_grpc


def test_sets_the_experiments_only_when_the_user_did_not() -> None:
    environ: dict[str, str] = {}
    assert prefer_low_latency_grpc(environ)
    assert environ["GRPC_EXPERIMENTS"] == LOW_LATENCY_EXPERIMENTS
    for chosen in ("", "event_engine_client"):
        environ = {"GRPC_EXPERIMENTS": chosen}
        assert not prefer_low_latency_grpc(environ)
        assert environ["GRPC_EXPERIMENTS"] == chosen


# `serve` with a bad setting stops right after reading its settings: far enough to see what it set up.
PROBE = """
import os, sys
from omnia_facade.__main__ import main
code = main(["serve"])
print(code, repr(os.environ.get("GRPC_EXPERIMENTS")), "grpc" in sys.modules, sep="|")
"""


@pytest.mark.parametrize("user_value", [None, ""])
def test_serve_sets_them_before_grpc_is_imported(user_value: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GRPC_EXPERIMENTS"} | {"OMNIA_FACADE_PORT": "not-a-port"}
    if user_value is not None:
        env["GRPC_EXPERIMENTS"] = user_value
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    expected = LOW_LATENCY_EXPERIMENTS if user_value is None else user_value
    assert done.stdout.strip().split("|") == ["2", repr(expected), "False"], done.stderr
