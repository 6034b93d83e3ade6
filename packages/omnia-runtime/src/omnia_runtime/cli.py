"""Command line: ``omnia-runtime serve`` and ``omnia-runtime validate-pack PATH``."""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from omnia_runtime.errors import ConfigError, PackError

if TYPE_CHECKING:
    from omnia_runtime.settings import RuntimeSettings

logger = logging.getLogger(__name__)

LOW_LATENCY_GRPC_EXPERIMENTS = "-event_engine_client,-event_engine_listener"
"""gRPC core experiments ``serve`` turns off unless ``GRPC_EXPERIMENTS`` is set: gRPC's older poller hands each message
to the event loop with one thread wake-up less (added time to first chunk ~0.14 ms lower, ``bench/README.md``). The
variable is gRPC's own, read when ``grpc`` is imported, so it is set here rather than in ``settings``; the facade
does the same (``omnia_facade.grpc_env``)."""

DESCRIPTION = "The Omnia agent runtime: serves omnia.runtime.v1 on gRPC for a PromptPack."
SERVE_HELP = """\
Serve the PromptPack named by OMNIA_PROMPTPACK_PATH (default /etc/omnia/pack/pack.json) on gRPC
(OMNIA_GRPC_PORT, 9000) with /healthz, /readyz and /metrics on OMNIA_HEALTH_PORT (9001).
Everything is configured through OMNIA_* environment variables (see the package README), e.g.
  OMNIA_PROVIDER_TYPE=openai OMNIA_PROVIDER_MODEL=gpt-4o-mini OPENAI_API_KEY=... omnia-runtime serve
An invalid pack keeps the runtime unready: /readyz answers 503 and lists every problem."""
VALIDATE_HELP = """\
Check a pack.json: schema errors with their JSON path, tools a prompt lists that the pack does not define,
and template variables that are neither declared nor fragments. Exit 0 when valid, 1 with every problem
listed otherwise (2 when the file cannot be read). Validators this runtime cannot enforce (e.g. sentiment,
toxicity, pii_detection, custom) are listed as warnings on stderr; they do not change the exit code."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omnia-runtime", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "serve",
        help="serve the agent (reads OMNIA_* env)",
        description=SERVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate = commands.add_parser(
        "validate-pack",
        help="check a PromptPack file",
        description=VALIDATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("path", type=Path, help="the pack.json to check")
    validate.add_argument(
        "--schema-only", action="store_true", help="report only structural problems (what blocks serving)"
    )
    return parser


def validate_pack_command(path: Path, *, schema_only: bool = False) -> int:
    from omnia_runtime.promptpack.loader import (
        lint_pack_data,
        read_pack_file,
        validate_pack_data,
        validator_warnings,
    )

    try:
        data = read_pack_file(path)
    except PackError as e:
        print(f"{path}: {e}", file=sys.stderr)
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2 if not e.problems else 1
    problems = validate_pack_data(data)
    if not schema_only:  # every problem at once: authoring problems are listed beside structural ones
        problems += [p for p in lint_pack_data(data) if p not in problems]
    for warning in validator_warnings(data):
        print(f"{path}: warning: {warning}", file=sys.stderr)
    if problems:
        print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{path}: valid PromptPack {json.dumps(data.get('id'))} with {len(data['prompts'])} prompt(s)")
    return 0


async def _serve(settings: "RuntimeSettings") -> None:
    from omnia_runtime.server.app import serve_until

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await serve_until(settings, stop)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate-pack":
        return validate_pack_command(args.path, schema_only=args.schema_only)
    os.environ.setdefault("GRPC_EXPERIMENTS", LOW_LATENCY_GRPC_EXPERIMENTS)  # read once, when grpc is imported
    from omnia_runtime.logs import configure_logging
    from omnia_runtime.settings import load_settings

    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"omnia-runtime: {e}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    asyncio.run(_serve(settings))
    return 0
