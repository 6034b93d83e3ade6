"""The shared Redis fixture hands out a real, empty Redis server."""

import redis.asyncio as redis


async def test_redis_fixture_is_a_real_empty_server(redis_url: str) -> None:
    client = redis.from_url(redis_url)
    try:
        assert await client.dbsize() == 0
        await client.set("omnia:probe", "1", ex=60)
        assert await client.ttl("omnia:probe") > 0
        info = await client.info("server")
        assert "redis_version" in info
    finally:
        await client.aclose()
