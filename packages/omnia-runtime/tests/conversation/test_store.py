import asyncio
import json

import pytest
import redis.asyncio as redis

from omnia_runtime.conversation.store import MemoryConversationStore, RedisConversationStore
from omnia_runtime.errors import ConfigError
from omnia_runtime.providers.base import Message, ToolCallRequest

HISTORY = [
    Message(role="user", content="hi"),
    Message(role="assistant", tool_calls=(ToolCallRequest("c1", "t", {"a": 1}),)),
    Message(role="tool", content="{}", tool_call_id="c1", name="t", is_error=True),
    Message(role="assistant", content="done"),
]


async def test_memory_store_round_trips_and_expires() -> None:
    store = MemoryConversationStore(ttl=60)
    assert await store.load("s") is None
    await store.save("s", HISTORY)
    assert await store.load("s") == HISTORY
    assert await store.exists("s")
    expired = MemoryConversationStore(ttl=-1)
    await expired.save("s", HISTORY)
    assert not await expired.exists("s")


async def test_memory_store_hides_an_expired_session_at_once_and_sweeps_it_out() -> None:
    store = MemoryConversationStore(ttl=0.05)
    await store.save("old", HISTORY)
    assert await store.load("old") == HISTORY  # this read runs the periodic sweep: the next is a second away
    await asyncio.sleep(0.1)
    assert await store.load("old") is None  # expired: invisible before any sweep
    assert not await store.exists("old")
    assert await store.count() == 0  # counting sweeps


async def test_trimming_never_starts_a_history_with_a_tool_result() -> None:
    store = MemoryConversationStore(ttl=60, max_messages=2)
    await store.save("s", HISTORY)
    assert await store.load("s") == [HISTORY[3]]


async def test_redis_store_uses_the_documented_key_with_a_ttl(redis_url: str) -> None:
    store = RedisConversationStore(redis_url, ttl=120, prefix="test:")
    await store.save("abc", HISTORY)
    assert await store.load("abc") == HISTORY
    assert await store.exists("abc")
    assert not await store.exists("other")
    assert await store.count() == 1
    raw = redis.Redis.from_url(redis_url)
    try:
        assert 0 < await raw.ttl("test:session:abc") <= 120
        stored = await raw.get("test:session:abc")
        assert stored is not None
        assert json.loads(stored)[0] == {"role": "user", "content": "hi"}
    finally:
        await raw.aclose()
        await store.aclose()


async def test_unreachable_redis_is_a_config_error_naming_the_setting() -> None:
    store = RedisConversationStore("redis://127.0.0.1:1/0", ttl=10)
    with pytest.raises(ConfigError, match="OMNIA_CONTEXT_URL"):
        await store.ping()
    await store.aclose()
