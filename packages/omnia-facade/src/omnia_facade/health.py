"""The health listener (``OMNIA_HEALTH_PORT``): ``/healthz``, ``/readyz`` and ``/metrics``."""

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from omnia_facade.state import FacadeState


def create_health_app(facade_app: FastAPI) -> FastAPI:
    app = FastAPI(title="omnia-facade health", docs_url=None, redoc_url=None, openapi_url=None)

    def facade_state() -> FacadeState | None:
        return getattr(facade_app.state, "facade", None)

    @app.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz")
    async def readyz() -> PlainTextResponse:
        state = facade_state()
        if state is None or not state.started:
            return PlainTextResponse("starting", status_code=503)
        if state.draining:
            return PlainTextResponse("draining", status_code=503)
        if not await state.store.ping():
            return PlainTextResponse("session store unreachable", status_code=503)
        return PlainTextResponse("ok")

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(facade_app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
