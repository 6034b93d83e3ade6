"""Exponential backoff with jitter and a cap, alone (`Backoff`) and per key (`KeyedBackoff`).

Jitter is "equal jitter": half the delay is fixed and half random, so retries of many keys spread out while
each still waits at least half its nominal delay. The random source is injectable for reproducible tests.
"""

import random
from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """`delay(n)` for the n-th consecutive failure (n >= 1): base * factor**(n-1), capped, with jitter."""

    base: float = 0.005
    cap: float = 300.0
    factor: float = 2.0
    jitter: float = 0.5
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        nominal = min(self.cap, self.base * self.factor ** min(failures - 1, 64))
        return nominal * (1 - self.jitter) + nominal * self.jitter * self.rng.random()


class KeyedBackoff:
    """Counts consecutive failures per key; `next_delay(key)` counts one more and returns its delay."""

    def __init__(self, backoff: Backoff | None = None) -> None:
        self.backoff = backoff or Backoff()
        self._failures: dict[Hashable, int] = {}

    def next_delay(self, key: Hashable) -> float:
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        return self.backoff.delay(failures)

    def failures(self, key: Hashable) -> int:
        return self._failures.get(key, 0)

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)
