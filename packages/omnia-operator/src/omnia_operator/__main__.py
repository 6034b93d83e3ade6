"""Command line of omnia-operator: `run` the operator, `render` the children of manifests offline, or `dev`."""

import argparse
import asyncio
import sys
from pathlib import Path

from pydantic import ValidationError

from omnia_operator.errors import ConfigError, ManifestError
from omnia_operator.render import load_manifests, render, to_yaml
from omnia_operator.settings import AgentImages, OperatorSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omnia-operator",
        description="The Omnia Kubernetes operator: turns AgentRuntime, PromptPack, Provider and ToolRegistry "
        "resources into running agents.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run the operator against the cluster",
        description="Watch Omnia resources and reconcile them. Every flag also reads OMNIA_OPERATOR_<FLAG> "
        "(e.g. OMNIA_OPERATOR_WORKERS); flags win.",
    )
    run.add_argument("--namespaces", help="comma-separated namespaces to watch (default: all)")
    run.add_argument("--workers", type=int, help="concurrent reconciles per kind (default 10)")
    run.add_argument(
        "--leader-elect",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="use a Lease so only one replica reconciles",
    )
    run.add_argument("--leader-election-namespace", help="namespace of the Lease (default omnia-system)")
    run.add_argument("--facade-image", help="image of the facade container")
    run.add_argument("--runtime-image", help="image of the runtime container")
    run.add_argument("--health-port", type=int, help="port of /healthz and /readyz (default 8081)")
    run.add_argument("--metrics-port", type=int, help="port of /metrics (default 8080)")
    run.add_argument("--kubeconfig", help="kubeconfig path (default: in-cluster, then ~/.kube/config)")
    run.add_argument("--kube-url", help="API server URL without auth (kubectl proxy, tests)")
    run.add_argument("--log-format", choices=["json", "text"], help="log format (default json)")
    run.add_argument("--log-level", help="debug, info, warning, error (default info)")

    rend = commands.add_parser(
        "render",
        help="print the children the operator would create for manifests, without a cluster",
        description="Read the YAML you would `kubectl apply` (files or directories, multi-document), validate "
        "it against the CRDs and print the ConfigMap, Deployment and Service the operator would create. "
        "Exit status 1 when a manifest is invalid or a reference cannot be resolved.",
    )
    rend.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        type=Path,
        metavar="PATH",
        help="manifest file or directory (repeatable)",
    )
    rend.add_argument("-n", "--namespace", default="default", help="namespace for objects without one")
    rend.add_argument("--facade-image", help="image of the facade container")
    rend.add_argument("--runtime-image", help="image of the runtime container")

    from omnia_operator.dev.cli import add_parser as add_dev_parser

    add_dev_parser(commands)
    return parser


def _overrides(args: argparse.Namespace, names: list[str]) -> dict[str, object]:
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _render(args: argparse.Namespace) -> int:
    try:
        images = AgentImages(**_overrides(args, ["facade_image", "runtime_image"]))  # type: ignore[arg-type]
        objects = load_manifests(args.filename)
    except (ManifestError, ValidationError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    result = asyncio.run(render(objects, images, namespace=args.namespace))
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for error in result.errors:
        print(f"error: {error}", file=sys.stderr)
    if result.children:
        sys.stdout.write(to_yaml(result.children))
    return 1 if result.errors else 0


def _run(args: argparse.Namespace) -> int:
    names = [
        "namespaces",
        "workers",
        "leader_elect",
        "leader_election_namespace",
        "facade_image",
        "runtime_image",
        "health_port",
        "metrics_port",
        "kubeconfig",
        "kube_url",
        "log_format",
        "log_level",
    ]
    try:
        settings = OperatorSettings(**_overrides(args, names))  # type: ignore[arg-type]
    except ValidationError as e:
        print(f"error: invalid settings: {e}", file=sys.stderr)
        return 2
    from omnia_operator.process import run_operator

    try:
        return asyncio.run(run_operator(settings))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "render":
        return _render(args)
    if args.command == "dev":
        from omnia_operator.dev.cli import run_dev

        return run_dev(args)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
