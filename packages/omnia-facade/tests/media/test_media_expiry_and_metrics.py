"""Upload-id expiry (on an injected clock, and over HTTP with a tiny TTL) and exact upload-metric deltas."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from omnia_facade_testkit import ScriptedRuntime, facade_settings, running_facade
from prometheus_client.parser import text_string_to_metric_families

from omnia_facade.errors import MediaNotFoundError
from omnia_facade.media.storage import LocalMediaStorage
from omnia_facade.sessions.base import Session
from omnia_facade.sessions.memory import InMemorySessionStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 300
SESSION = "sess-1"
IDENTITY = {"agent": "test-agent", "namespace": "test-ns"}


async def body(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def storage_at(root: Path, now: list[float]) -> LocalMediaStorage:
    return LocalMediaStorage(
        root,
        max_file_size=1000,
        allowed_types=frozenset({"image/png"}),
        upload_ttl=60,
        media_ttl=3600,
        clock=lambda: now[0],
    )


async def test_an_upload_id_works_until_its_ttl_and_is_refused_as_expired_from_then_on(tmp_path: Path) -> None:
    now = [500.0]
    storage = storage_at(tmp_path, now)
    early = storage.request_upload(session_id=SESSION, filename="a.png", mime_type="image/png", size_bytes=10)
    late = storage.request_upload(session_id=SESSION, filename="b.png", mime_type="image/png", size_bytes=10)

    now[0] += 59
    stored = await storage.receive(early.upload_id, "image/png", body(PNG[:10]))
    now[0] += 1
    with pytest.raises(MediaNotFoundError, match="expired"):
        await storage.receive(late.upload_id, "image/png", body(PNG[:10]))
    with pytest.raises(MediaNotFoundError, match="unknown or already used"):
        await storage.receive(late.upload_id, "image/png", body(PNG[:10]))

    assert storage.info(SESSION, stored.media_id).size_bytes == 10
    assert [p.name for p in (tmp_path / SESSION).iterdir() if p.suffix != ".json"] == [stored.media_id]


async def test_a_foreign_caller_cannot_spend_an_upload_id_or_see_the_media(tmp_path: Path) -> None:
    storage = storage_at(tmp_path, [0.0])
    upload = storage.request_upload(
        session_id=SESSION, filename="a.png", mime_type="image/png", size_bytes=10, owner="alice"
    )
    with pytest.raises(MediaNotFoundError):
        await storage.receive(upload.upload_id, "image/png", body(PNG[:10]), caller="bob")
    stored = await storage.receive(upload.upload_id, "image/png", body(PNG[:10]), caller="alice")
    with pytest.raises(MediaNotFoundError):
        storage.info(SESSION, stored.media_id, caller="bob")
    assert storage.file(SESSION, stored.media_id, caller="alice")[1] == stored
    assert storage.info(SESSION, stored.media_id) == stored, "the facade's own lookup (caller=None) sees it"


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of this facade's series, keyed by name and the labels beyond agent/namespace."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if any(sample.labels.get(key) != value for key, value in IDENTITY.items()):
                continue
            extra = tuple(sorted((k, v) for k, v in sample.labels.items() if k not in IDENTITY))
            found[(sample.name, extra)] = sample.value
    return found


def upload_count(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], status: str) -> float:
    return samples.get(("omnia_facade_uploads_total", (("status", status),)), 0.0)


async def test_upload_metrics_move_by_exact_deltas_for_a_success_a_failure_and_a_refusal(
    runtime: ScriptedRuntime, tmp_path: Path
) -> None:
    store = InMemorySessionStore(ttl=600)
    await store.create(Session(id=SESSION, agent_name="test-agent", namespace="test-ns"))
    settings = facade_settings(
        runtime_address=f"127.0.0.1:{runtime.port}",
        media_storage_type="local",
        media_storage_path=tmp_path,
        media_max_file_size=1000,
    )
    request = {"session_id": SESSION, "filename": "a.png", "mime_type": "image/png", "size_bytes": len(PNG)}
    async with (
        running_facade(settings, session_store=store) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
        httpx.AsyncClient(base_url=running.health_url, timeout=10) as health,
    ):
        before = metric_samples((await health.get("/metrics")).text)
        ok = (await http.post("/media/request-upload", json=request)).json()
        put = await http.put(ok["upload_url"], content=PNG, headers={"Content-Type": "image/png"})
        assert put.status_code == 201, put.text
        after_success = metric_samples((await health.get("/metrics")).text)

        refused = await http.post("/media/request-upload", json={**request, "session_id": "unknown"})
        assert refused.status_code == 404
        spare = (await http.post("/media/request-upload", json=request)).json()
        wrong = await http.put(spare["upload_url"], content=b"<html>", headers={"Content-Type": "text/html"})
        assert wrong.status_code == 415
        after_failures = metric_samples((await health.get("/metrics")).text)

    assert upload_count(after_success, "success") - upload_count(before, "success") == 1
    assert upload_count(after_success, "failed") == upload_count(before, "failed")
    bytes_key = ("omnia_facade_upload_bytes_total", ())
    assert after_success[bytes_key] - before.get(bytes_key, 0.0) == len(PNG)
    duration_key = ("omnia_facade_upload_duration_seconds_count", ())
    assert after_success[duration_key] - before.get(duration_key, 0.0) == 1

    assert upload_count(after_failures, "rejected") - upload_count(after_success, "rejected") == 1
    assert upload_count(after_failures, "failed") - upload_count(after_success, "failed") == 1
    assert upload_count(after_failures, "success") == upload_count(after_success, "success")
    assert after_failures[bytes_key] == after_success[bytes_key], "a refused body adds no stored bytes"


async def test_an_expired_upload_url_answers_404_with_the_expiry_message_over_http(
    runtime: ScriptedRuntime, tmp_path: Path
) -> None:
    store = InMemorySessionStore(ttl=600)
    await store.create(Session(id=SESSION, agent_name="test-agent", namespace="test-ns"))
    ttl = 0.2
    settings = facade_settings(
        runtime_address=f"127.0.0.1:{runtime.port}",
        media_storage_type="local",
        media_storage_path=tmp_path,
        media_upload_url_ttl=ttl,
    )
    request = {"session_id": SESSION, "filename": "a.png", "mime_type": "image/png", "size_bytes": len(PNG)}
    async with (
        running_facade(settings, session_store=store) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
    ):
        requested_at = time.monotonic()
        upload = (await http.post("/media/request-upload", json=request)).json()
        async with asyncio.timeout(5):  # bounded wait until the TTL has certainly passed
            while time.monotonic() < requested_at + ttl + 0.05:
                await asyncio.sleep(0.02)
        expired = await http.put(upload["upload_url"], content=PNG, headers={"Content-Type": "image/png"})
    assert expired.status_code == 404
    assert "expired" in expired.json()["error"]
    assert "OMNIA_MEDIA_UPLOAD_URL_TTL" in expired.json()["error"]
    assert not list(tmp_path.glob(f"{SESSION}/*")), "nothing was stored for the expired id"
