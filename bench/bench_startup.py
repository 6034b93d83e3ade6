"""Start-up: process start to ``/readyz`` 200 for the runtime and the facade, and their import times.

Each figure is the median of several fresh processes (a cold start the first time, then with the OS page
cache warm, as a restarted pod would see). The baseline for the import time is importing the third-party
stack both servers stand on (fastapi, uvicorn, grpc, redis, opentelemetry, prometheus_client) in a bare
interpreter; the baseline for ``/readyz`` is a bare interpreter start (``python -c pass``). The run also
reports how many vendor SDKs (openai, anthropic, google-genai) a mock runtime imported: they should be
imported only when a provider of that type is configured.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Figure, print_figures
from stack import agent_stack

TARGET = "< 1.5 s"
VENDOR_SDKS = ("openai", "anthropic", "google.genai")
BASELINE_IMPORTS = "fastapi, uvicorn, grpc, redis, opentelemetry.sdk.trace, prometheus_client"
IMPORT_TIMEOUT_S = 60.0

# Each program prints the seconds its imports took (and, for the runtime, the vendor SDKs it pulled in).
RUNTIME_IMPORTS = "omnia_runtime.cli, omnia_runtime.settings, omnia_runtime.server.app"
FACADE_IMPORTS = "omnia_facade.__main__, omnia_facade.settings, omnia_facade.server"


def import_seconds(modules: str) -> tuple[float, int]:
    """Seconds a fresh interpreter takes to import ``modules``, and how many vendor SDKs came with them."""
    program = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        f"import {modules}\n"
        "elapsed = time.perf_counter() - start\n"
        f"vendors = sum(1 for name in {VENDOR_SDKS!r} if name in sys.modules)\n"
        "print(elapsed, vendors)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", program], check=True, capture_output=True, text=True, timeout=IMPORT_TIMEOUT_S
    ).stdout.split()
    return float(output[0]), int(output[1])


def interpreter_start_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=IMPORT_TIMEOUT_S)
    return time.perf_counter() - start


def measure(rounds: int) -> list[Figure]:
    runtime_import, facade_import, baseline_import, bare_start = [], [], [], []
    runtime_ready, facade_ready = [], []
    vendors = 0
    for modules in (RUNTIME_IMPORTS, FACADE_IMPORTS, BASELINE_IMPORTS):
        import_seconds(modules)  # warm the page cache so the first round is not the only cold one
    for _ in range(rounds):
        seconds, vendors = import_seconds(RUNTIME_IMPORTS)
        runtime_import.append(seconds)
        facade_import.append(import_seconds(FACADE_IMPORTS)[0])
        baseline_import.append(import_seconds(BASELINE_IMPORTS)[0])
        bare_start.append(interpreter_start_seconds())
        with agent_stack(chunks=1) as stack:
            runtime_ready.append(stack.runtime_ready_s)
            facade_ready.append(stack.facade_ready_s)
    median = statistics.median
    base_start = median(bare_start)
    return [
        Figure("runtime_start_to_ready", median(runtime_ready), "s", base_start, target=TARGET),
        Figure("facade_start_to_ready", median(facade_ready), "s", base_start, target=TARGET),
        Figure("runtime_import_time", median(runtime_import), "s", median(baseline_import)),
        Figure("facade_import_time", median(facade_import), "s", median(baseline_import)),
        Figure("runtime_vendor_sdks_imported_with_mock", vendors, "modules", target="0"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="3 rounds (the default)")
    mode.add_argument("--full", action="store_true", help="9 rounds")
    mode.add_argument("--tiny", action="store_true", help="1 round (smoke test)")
    options = parser.parse_args()
    rounds = 1 if options.tiny else 9 if options.full else 3
    print(f"import baseline: {BASELINE_IMPORTS}; start-up baseline: a bare `python -c pass`")
    print_figures(f"start-up (median of {rounds} rounds)", measure(rounds))


if __name__ == "__main__":
    main()
