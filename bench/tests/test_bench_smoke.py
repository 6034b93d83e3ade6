"""Each benchmark runs with tiny settings and ends with well-formed figure lines (never asserts a time)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted(path.stem for path in BENCH_DIR.glob("bench_*.py"))
FIGURE = re.compile(r"^[a-z0-9_]+: (-?[0-9.e+-]+|nan|-?inf) \S+ \(ratio (n/a|-?[0-9.]+|nan|inf) vs baseline\)")
RUN_TIMEOUT_S = 120


def test_every_benchmark_script_is_found() -> None:
    assert {"bench_streaming", "bench_connections", "bench_operator", "bench_tools", "bench_startup"} <= set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_prints_its_figures_when_run_tiny(name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / f"{name}.py"), "--tiny"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    figures = [line for line in done.stdout.splitlines() if FIGURE.match(line)]
    assert figures, f"{name} printed no figure line:\n{done.stdout}"
    assert not [line for line in figures if ": nan " in line], f"{name} measured nothing:\n{done.stdout}"


def test_run_py_refuses_an_unknown_benchmark_name() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / "run.py"), "--tiny", "bench_nothing"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown benchmark(s): bench_nothing" in done.stderr
