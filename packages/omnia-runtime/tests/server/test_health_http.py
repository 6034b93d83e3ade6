import httpx

from omnia_runtime.server.health_http import HealthServer, Readiness


async def test_readyz_reports_reasons_until_ready_and_healthz_is_always_ok() -> None:
    readiness = Readiness()
    server = HealthServer(readiness, metrics=lambda: b"metric_total 1\n")
    port = await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            readiness.set_not_ready(["/prompts: missing"])
            not_ready = await http.get("/readyz")
            assert (await http.get("/healthz")).status_code == 200
            readiness.set_ready()
            ready = await http.get("/readyz")
            metrics = await http.get("/metrics")
            missing = await http.get("/nope")
            post = await http.post("/healthz")
    finally:
        await server.stop()
    assert not_ready.status_code == 503
    assert "/prompts: missing" in not_ready.text
    assert ready.status_code == 200
    assert metrics.text == "metric_total 1\n"
    assert (missing.status_code, post.status_code) == (404, 405)
