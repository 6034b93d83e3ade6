"""Run every benchmark in bench/ one after the other and print their figures.

Usage: ``python bench/run.py [--quick | --full | --tiny] [NAME ...]`` where NAME is a benchmark module
(``bench_streaming``, ...). ``make bench`` runs ``--quick``.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def benchmarks() -> list[str]:
    return sorted(path.stem for path in BENCH_DIR.glob("bench_*.py"))


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the Omnia benchmarks.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="each benchmark under 60 s (default)")
    mode.add_argument("--full", action="store_true", help="longer runs, steadier figures")
    mode.add_argument("--tiny", action="store_true", help="smoke-test settings: checks that each benchmark runs")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(benchmarks())})")
    options = parser.parse_args()
    flag = "--full" if options.full else "--tiny" if options.tiny else "--quick"
    names = options.names or benchmarks()
    unknown = sorted(set(names) - set(benchmarks()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    failed = []
    for name in names:
        start = time.perf_counter()
        print(f"\n### {name} {flag}", flush=True)
        code = subprocess.call([sys.executable, str(BENCH_DIR / f"{name}.py"), flag])
        print(f"### {name} finished in {time.perf_counter() - start:.1f}s (exit {code})", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
