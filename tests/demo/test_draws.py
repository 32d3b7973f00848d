"""The generator's fast draws give the numbers `random.Random`'s own methods give for the same state."""

from __future__ import annotations

import random

from hub.demo.draws import below, choice, randint, weighted


def test_fast_draws_follow_random_random_draw_for_draw() -> None:
    ours, theirs = random.Random("draws"), random.Random("draws")
    spans = [(0, 0), (1, 6), (0, 1), (365, 4000), (0, 255), (0, 256), (-5, 5), (0, 10**20)]
    for _ in range(2000):
        for a, b in spans:
            assert randint(ours, a, b) == theirs.randint(a, b)
        for n in (1, 2, 3, 64, 1000):
            assert below(ours, n) == theirs.randrange(n)
        assert choice(ours, "abcdefg") == theirs.choice("abcdefg")
        pairs = (("x", 1.0), ("y", 2.5), ("z", 0.5))
        assert weighted(pairs).pick(ours) == theirs.choices(*zip(*pairs, strict=True))[0]
    assert ours.random() == theirs.random()  # the two streams are still in step
