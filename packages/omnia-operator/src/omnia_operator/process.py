"""`omnia-operator run`: the process around the manager.

One task group owns everything: the health server (/healthz, /readyz), the metrics server (/metrics) and the
manager. SIGTERM/SIGINT ask the manager to stop; it lets in-flight reconciles finish (bounded by the
shutdown timeout), then the servers close and the process exits 0. Losing leadership exits 1 so the pod
restarts as a candidate.
"""

import asyncio
import logging
import signal
import socket
import uuid

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from omnia_operator.assembly import assemble
from omnia_operator.controller.leader import LeaderElector, LeadershipLostError
from omnia_operator.controller.manager import Manager
from omnia_operator.errors import ConfigError
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import KubeError
from omnia_operator.logs import configure_logging
from omnia_operator.settings import OperatorSettings

logger = logging.getLogger(__name__)


def health_app(manager: Manager) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(_request: web.Request) -> web.Response:
        if manager.ready:
            return web.Response(text="ok")
        return web.Response(status=503, text="informers not synced yet")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


def metrics_app() -> web.Application:
    async def metrics(_request: web.Request) -> web.Response:
        body = generate_latest()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    return app


async def _serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def _client(settings: OperatorSettings) -> KubeClient:
    if settings.kube_url:
        return KubeClient.for_url(settings.kube_url)
    try:
        return await KubeClient.from_kubeconfig(settings.kubeconfig)
    except (KubeError, OSError, ValueError) as e:
        raise ConfigError(f"cannot load Kubernetes credentials ({e}); set --kubeconfig or run in a cluster") from e


def build_manager(client: KubeClient, settings: OperatorSettings) -> Manager:
    elector = None
    if settings.leader_elect:
        elector = LeaderElector(
            client,
            name=settings.leader_election_id,
            namespace=settings.leader_election_namespace,
            identity=f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}",
        )
    manager = Manager(client, leader_elector=elector, shutdown_timeout=settings.shutdown_timeout)
    assemble(client, settings, manager)
    return manager


async def run_operator(settings: OperatorSettings, *, started: asyncio.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (or `started`-aware tests call manager.stop()); returns the exit code."""
    configure_logging(settings.log_format, settings.log_level)
    client = await _client(settings)
    async with client:
        manager = build_manager(client, settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, manager.stop)
        runners: list[web.AppRunner] = []
        try:
            if settings.health_port:
                runners.append(await _serve(health_app(manager), settings.bind_host, settings.health_port))
            if settings.metrics_port:
                runners.append(await _serve(metrics_app(), settings.bind_host, settings.metrics_port))
            logger.info(
                "omnia-operator running (namespaces=%s, workers=%d, leader_elect=%s)",
                ",".join(settings.namespaces) or "*",
                settings.workers,
                settings.leader_elect,
            )
            if started is not None:
                started.set()
            await manager.run()
        except LeadershipLostError as e:
            logger.error("%s", e)
            return 1
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            for runner in runners:
                await runner.cleanup()
    logger.info("omnia-operator stopped")
    return 0
