"""Random draws on the generator's hot paths: the same numbers as `random.Random`'s own methods
give for the same generator state, with less work per draw."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


def below(rng: random.Random, n: int) -> int:
    """The draw `rng.randrange(n)` makes for n > 0, through the public `getrandbits`: CPython's
    `Random` takes n's bit length of random bits until they make a number below n (its private
    `_randbelow`)."""
    getrandbits, bits = rng.getrandbits, n.bit_length()
    r = getrandbits(bits)
    while r >= n:
        r = getrandbits(bits)
    return r


def randint(rng: random.Random, a: int, b: int) -> int:
    """The draw `rng.randint(a, b)` makes (a randrange), without its argument checks, which cost
    twice the draw on the generator's hot paths."""
    return a + below(rng, b - a + 1)


def choice(rng: random.Random, seq: Sequence[T]) -> T:
    """The draw `rng.choice(seq)` makes, likewise without its checks (`seq` must not be empty)."""
    return seq[below(rng, len(seq))]


class Weighted(Generic[T]):
    """A weighted choice drawn as `rng.choices(values, weights)[0]` draws it (the same value for the
    same generator state), without rebuilding the cumulative weights every time."""

    __slots__ = ("cumulative", "hi", "total", "values")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        values, weights = zip(*pairs, strict=True)
        self.values: tuple[T, ...] = values
        self.cumulative = list(accumulate(weights))
        self.total = self.cumulative[-1] + 0.0
        self.hi = len(values) - 1

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect_right(self.cumulative, rng.random() * self.total, 0, self.hi)]


@cache
def weighted(pairs: tuple[tuple[T, float], ...]) -> Weighted[T]:
    """The `Weighted` of (value, weight) pairs, built once per distinct table."""
    return Weighted(pairs)
