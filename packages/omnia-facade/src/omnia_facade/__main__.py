"""Command line of omnia-facade: ``serve`` runs the facade, ``chat`` talks to one."""

import argparse
import asyncio
import sys

from pydantic import ValidationError

from omnia_facade.errors import ConfigError
from omnia_facade.grpc_env import prefer_low_latency_grpc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omnia-facade",
        description="The Omnia agent facade: a WebSocket gateway in front of an omnia.runtime.v1 runtime.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the facade (configured by OMNIA_* environment variables; see the README)",
        description=(
            "Serve the WebSocket endpoint /ws on OMNIA_FACADE_PORT (8080) and /healthz, /readyz, /metrics on "
            "OMNIA_HEALTH_PORT (8081). Every setting comes from OMNIA_* environment variables; the options below "
            "override the listeners."
        ),
    )
    serve.add_argument("--host", help="listen address (default: OMNIA_BIND_HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, help="WebSocket port (default: OMNIA_FACADE_PORT or 8080)")
    serve.add_argument("--health-port", type=int, help="health/metrics port (default: OMNIA_HEALTH_PORT or 8081)")
    chat = commands.add_parser(
        "chat",
        help="chat with an agent from the terminal",
        description="Connect to an agent's WebSocket, send each stdin line as a message and stream the replies.",
    )
    chat.add_argument("url", help="WebSocket URL, e.g. ws://localhost:8080/ws?agent=my-agent")
    chat.add_argument("--session", help="resume this session id")
    chat.add_argument("--token", help="bearer token (API key or OIDC JWT)")
    return parser


def _serve(args: argparse.Namespace) -> int:
    prefer_low_latency_grpc()  # before anything imports grpc
    from omnia_facade.logs import configure_logging
    from omnia_facade.server import serve_forever
    from omnia_facade.settings import FacadeSettings

    overrides = {
        key: value
        for key, value in {"bind_host": args.host, "facade_port": args.port, "health_port": args.health_port}.items()
        if value is not None
    }
    try:
        settings = FacadeSettings(**overrides)
    except ValidationError as e:
        print(f"omnia-facade: invalid configuration:\n{e}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        runner(serve_forever(settings))
    except ConfigError as e:
        print(f"omnia-facade: {e}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    from omnia_facade.cli.chat import run_chat

    return asyncio.run(run_chat(args.url, session=args.session, token=args.token))


if __name__ == "__main__":
    sys.exit(main())
