"""`omnia-operator dev`: resolve the manifests, write the pod's files, run runtime + facade, print where to connect."""

import argparse
import asyncio
import importlib.util
import os
import shutil
import sys
from pathlib import Path

from omnia_operator.dev.env import LocalOptions, facade_overrides, runtime_overrides
from omnia_operator.dev.plan import DevPlan, plan_from_manifests
from omnia_operator.dev.pod import LocalContainer, PodError, PodMaterializer
from omnia_operator.dev.processes import Child, StartError, check_port_free, run_children
from omnia_operator.errors import ManifestError

DEFAULT_MANIFESTS = Path("examples/quickstart")
DEFAULT_WORK_DIR = Path(".omnia-dev")
DESCRIPTION = """\
Run an agent on this machine from the YAML you would apply to a cluster: the manifests are validated and resolved
with the operator's own code, the files the pod would mount are written under the work directory, and the runtime
and the facade run as two local processes wired as in the pod (runtime gRPC on --runtime-port, facade WebSocket and
browser console on --port, health ports next to each). Mock provider and in-memory sessions unless --redis-url is
given or a real provider's key is set (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, or its Secret in the
manifests). Everything listens on 127.0.0.1 and accepts unauthenticated clients. Ctrl-C stops both."""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65534:
        raise argparse.ArgumentTypeError("ports are 1-65534 (the next port is used for health)")
    return port


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    dev = commands.add_parser(
        "dev",
        help="run an agent locally from manifests (no cluster)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dev.add_argument(
        "-f",
        "--filename",
        action="append",
        type=Path,
        metavar="PATH",
        help=f"manifest file or directory (repeatable; default {DEFAULT_MANIFESTS})",
    )
    dev.add_argument("--agent", help="the AgentRuntime to run when the input holds several")
    dev.add_argument("-n", "--namespace", default="default", help="namespace for objects without one")
    dev.add_argument("--port", type=_port, default=8080, help="facade WebSocket/console port; health on PORT+1")
    dev.add_argument("--runtime-port", type=_port, default=9000, help="runtime gRPC port; health on PORT+1")
    dev.add_argument("--redis-url", help="keep sessions and conversations in this Redis (default: in memory)")
    dev.add_argument("--media", action="store_true", help="enable media uploads (stored under the work directory)")
    dev.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="where the pod's files are written")


def _banner(plan: DevPlan, options: LocalOptions, runtime_env: dict[str, str], notes: list[str]) -> str:
    agent = plan.agent.name
    base = f"{options.host}:{options.port}"
    ws = f"ws://{base}/ws?agent={agent}"
    provider = "mock" if runtime_env.get("OMNIA_MOCK_PROVIDER") == "true" else runtime_env.get("OMNIA_PROVIDER_TYPE")
    model = runtime_env.get("OMNIA_PROVIDER_MODEL")
    sessions = "Redis" if options.redis_url else "memory"
    lines = [
        "",
        f"Agent {agent!r} is running locally (namespace {plan.agent.namespace}).",
        f"  Provider:   {provider}{f' ({model})' if model and provider != 'mock' else ''}; sessions in {sessions}",
        f"  WebSocket:  {ws}",
        f"  Console:    http://{base}/",
        f'  Chat:       uv run omnia-facade chat "{ws}"',
        f"  Health:     http://{options.host}:{options.facade_health_port}/readyz (facade), "
        f"http://{options.host}:{options.runtime_health_port}/readyz (runtime)",
    ]
    lines.extend(f"  note: {n}" for n in notes)
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def _children(
    containers: list[LocalContainer], options: LocalOptions, environ: dict[str, str], notes: list[str]
) -> list[Child]:
    by_name = {c.name: c for c in containers}
    runtime, facade = by_name["runtime"], by_name["facade"]
    notes.extend(f"{c.name} env {m}" for c in containers for m in c.missing)
    runtime_env = runtime_overrides(runtime.env, options, environ, notes)
    facade_env = facade_overrides(facade.env, options)
    return [
        Child(
            "runtime",
            runtime.argv,
            {**environ, **runtime_env},
            f"http://{options.host}:{options.runtime_health_port}/readyz",
        ),
        Child(
            "facade",
            facade.argv,
            {**environ, **facade_env},
            f"http://{options.host}:{options.facade_health_port}/readyz",
        ),
    ]


async def _dev(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("omnia_facade") is None:
        print("error: omnia-facade is not installed; `pip install omnia-facade` (or run `make setup`)", file=sys.stderr)
        return 2
    options = LocalOptions(
        port=args.port,
        runtime_port=args.runtime_port,
        redis_url=args.redis_url,
        media_dir=(args.work_dir / "media").resolve() if args.media else None,
    )
    ports = {
        options.port: "facade WebSocket (--port)",
        options.facade_health_port: "facade health (--port + 1)",
        options.runtime_port: "runtime gRPC (--runtime-port)",
        options.runtime_health_port: "runtime health (--runtime-port + 1)",
    }
    if len(ports) < 4:
        print(
            "error: --port and --runtime-port need two free ports each (PORT and PORT+1) that do not overlap",
            file=sys.stderr,
        )
        return 2
    try:
        plan = await plan_from_manifests(
            args.filename or [DEFAULT_MANIFESTS], agent_name=args.agent, namespace=args.namespace
        )
        work_dir = (args.work_dir / plan.agent.name).resolve()
        shutil.rmtree(work_dir / "volumes", ignore_errors=True)  # nothing stale from an earlier run
        environ = dict(os.environ)
        materializer = PodMaterializer(plan.lookup, work_dir, environ, plan.agent.namespace)
        deployment = next(c for c in plan.plan.children if c["kind"] == "Deployment")
        containers = await materializer.containers(deployment)
        for port, what in ports.items():
            check_port_free(options.host, port, what)
    except (ManifestError, PodError, StartError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    notes = [*plan.notes, *materializer.notes]
    children = _children(containers, options, environ, notes)
    banner = _banner(plan, options, children[0].env, notes)
    return await run_children(children, lambda: print(banner, flush=True))


def run_dev(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_dev(args))
    except KeyboardInterrupt:
        return 130
