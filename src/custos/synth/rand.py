"""Seeded randomness for the world generator.

Every random stream is derived from the world seed, a stream number and an
index (a block of taxpayers, a block of requests), never from how much was
generated before. That is what makes a world the same bytes for the same
arguments whatever the chunk size, and lets any block be regenerated on its own.

Bulk work draws numpy arrays; per-row Python code (requests, name variants)
consumes `Draws`, uniforms pre-drawn in bulk, because scalar calls into numpy
are slow. Variant functions accept anything with a `random()` method, so tests
may pass `random.Random`.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np

T = TypeVar("T")

STREAM_MASTER = 1
STREAM_FRESH = 2
STREAM_PLAN = 3
STREAM_REQUESTS = 4
STREAM_TIN = 5
STREAM_STREETS = 6


class Uniform(Protocol):
    """A source of floats uniform on [0, 1)."""

    def random(self) -> float: ...


def rng_for(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    """A PCG64 generator determined by (seed, stream, index) alone."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, index])))


class Draws:
    """Uniforms drawn from a numpy Generator in bulk and handed out one by one."""

    __slots__ = ("_buf", "_i", "_rng")

    def __init__(self, rng: np.random.Generator, batch: int = 4096) -> None:
        self._rng = rng
        self._buf: list[float] = rng.random(batch).tolist()
        self._i = 0

    def random(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self._rng.random(len(self._buf)).tolist()
            self._i = 0
        value = self._buf[self._i]
        self._i += 1
        return value


def chance(u: Uniform, p: float) -> bool:
    """True with probability p."""
    return u.random() < p


def below(u: Uniform, n: int) -> int:
    """An integer uniform on [0, n); n must be positive."""
    return min(int(u.random() * n), n - 1)


def between(u: Uniform, low: int, high: int) -> int:
    """An integer uniform on [low, high], both ends included."""
    return low + below(u, high - low + 1)


def pick(u: Uniform, items: Sequence[T]) -> T:
    """One item, uniformly."""
    return items[below(u, len(items))]


def cumulative(weights: Sequence[float]) -> list[float]:
    """Cumulative weights for `pick_weighted`."""
    total = 0.0
    out: list[float] = []
    for w in weights:
        total += w
        out.append(total)
    return out


def pick_weighted(u: Uniform, items: Sequence[T], cum: Sequence[float]) -> T:
    """One item with probability proportional to its weight (cum from `cumulative`)."""
    i = bisect.bisect_right(cum, u.random() * cum[-1])
    return items[min(i, len(items) - 1)]
