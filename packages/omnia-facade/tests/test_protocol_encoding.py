"""Server frame encoding: the timestamp every frame carries and the hot-path chunk frame."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from omnia_facade.protocol import chunk_frame, now_rfc3339


def parsed(stamp: str) -> datetime:
    assert len(stamp) == len("2026-11-22T01:03:17.374Z"), stamp
    assert stamp.endswith("Z"), stamp
    return datetime.fromisoformat(stamp)


def test_timestamps_are_rfc3339_utc_with_milliseconds_and_follow_the_clock() -> None:
    before = datetime.now(UTC)
    stamp = parsed(now_rfc3339())
    after = datetime.now(UTC)
    assert before - timedelta(milliseconds=1) < stamp <= after  # milliseconds are truncated, not rounded


def test_the_formatted_second_changes_with_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1795306999.9995 is 2026-11-22T00:23:19.9995Z; half a millisecond later the next second starts.
    moments = iter([1795306999.9995, 1795307000.0005, 1795307000.25, 1795307061.5])
    monkeypatch.setattr(time, "time", lambda: next(moments))
    assert [now_rfc3339() for _ in range(4)] == [
        "2026-11-22T00:23:19.999Z",
        "2026-11-22T00:23:20.000Z",
        "2026-11-22T00:23:20.250Z",
        "2026-11-22T00:24:21.500Z",
    ]


def test_a_chunk_frame_is_json_with_unicode_kept_and_a_timestamp() -> None:
    frame = chunk_frame("s-1", 'naïve "quotes" \\ and \n newline ✓')
    assert "naïve" in frame  # kept as is, not \u-escaped
    assert "✓" in frame
    data = json.loads(frame)
    assert (data["type"], data["session_id"]) == ("chunk", "s-1")
    assert data["content"] == 'naïve "quotes" \\ and \n newline ✓'
    parsed(data["timestamp"])
