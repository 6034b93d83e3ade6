import asyncio
from dataclasses import dataclass, field

import pytest

from omnia_facade.warm_calls import WarmCall, WarmCallPool

HEADERS = (("x-omnia-session-id", "s1"), ("x-omnia-user-id", "alice"))


@dataclass
class Call:
    """Stands in for a gRPC call: records its cancellation."""

    finished: bool = False
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    def cancel(self) -> bool:
        self.cancelled.set()
        self.finished = True
        return True

    def done(self) -> bool:
        return self.finished


def warm(call: Call, headers: tuple[tuple[str, str], ...] = HEADERS) -> WarmCall[Call]:
    return WarmCall(call=call, headers=headers, request_id="r-1")


async def test_take_returns_the_sessions_call_once_when_its_headers_match() -> None:
    pool: WarmCallPool[Call] = WarmCallPool(capacity=2, max_age=30)
    call = Call()
    assert pool.put("s1", warm(call))
    taken = pool.take("s1", HEADERS)
    assert taken is not None
    assert taken.call is call
    assert taken.request_id == "r-1"
    assert not call.cancelled.is_set()
    assert pool.take("s1", HEADERS) is None
    assert len(pool) == 0


async def test_a_call_opened_with_other_headers_is_cancelled_instead_of_used() -> None:
    pool: WarmCallPool[Call] = WarmCallPool(capacity=2, max_age=30)
    call = Call()
    pool.put("s1", warm(call))
    assert pool.take("s1", (*HEADERS, ("traceparent", "00-abc-def-01"))) is None
    assert call.cancelled.is_set()
    assert len(pool) == 0


async def test_a_call_that_already_ended_is_not_handed_out() -> None:
    pool: WarmCallPool[Call] = WarmCallPool(capacity=2, max_age=30)
    call = Call(finished=True)
    pool.put("s1", warm(call))
    assert pool.take("s1", HEADERS) is None


async def test_the_pool_never_holds_more_than_its_capacity_nor_two_calls_for_one_session() -> None:
    pool: WarmCallPool[Call] = WarmCallPool(capacity=2, max_age=30)
    calls = [Call() for _ in range(4)]
    assert pool.put("s1", warm(calls[0]))
    assert not pool.put("s1", warm(calls[1]))
    assert pool.put("s2", warm(calls[2]))
    assert not pool.has_room_for("s3")
    assert not pool.put("s3", warm(calls[3]))
    assert len(pool) == 2
    assert [c.cancelled.is_set() for c in calls] == [False, True, False, True]


async def test_an_unused_call_is_cancelled_when_it_reaches_its_max_age() -> None:
    pool: WarmCallPool[Call] = WarmCallPool(capacity=2, max_age=0.01)
    call = Call()
    pool.put("s1", warm(call))
    async with asyncio.timeout(5):
        await call.cancelled.wait()
    assert len(pool) == 0
    assert pool.has_room_for("s1")


async def test_discard_and_close_cancel_the_calls_and_a_closed_pool_keeps_nothing() -> None:
    pool: WarmCallPool[Call] = WarmCallPool(capacity=4, max_age=30)
    first, second, late = Call(), Call(), Call()
    pool.put("s1", warm(first))
    pool.put("s2", warm(second))
    pool.discard("s1")
    pool.discard("unknown")
    assert first.cancelled.is_set()
    assert not second.cancelled.is_set()
    pool.close()
    assert second.cancelled.is_set()
    assert not pool.put("s3", warm(late))
    assert late.cancelled.is_set()
    assert len(pool) == 0


def test_a_negative_capacity_or_a_non_positive_age_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        WarmCallPool[Call](capacity=-1, max_age=1)
    with pytest.raises(ValueError, match="max_age"):
        WarmCallPool[Call](capacity=1, max_age=0)
