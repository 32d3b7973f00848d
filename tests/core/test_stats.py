"""The cell rules of restricted statistics (hub/core/stats.py): suppression, complements, rounding, age bands."""

from __future__ import annotations

import datetime as dt

from hub.core.stats import age_band, round_to, suppress

ALONG_0 = (0, lambda k: k[1:])  # the line of a cell along dimension 0: the rest of its key
ALONG_1 = (1, lambda k: k[:1])


def test_a_small_cell_takes_the_smallest_other_cell_of_its_line_with_it() -> None:
    support = {("A", "M"): 3, ("A", "F"): 40, ("A", None): 8, ("B", "M"): 20, ("B", "F"): 30}
    hidden = suppress(dict(support), 5, [ALONG_1])
    assert hidden == {("A", "M"), ("A", None)}  # A's total minus A/F no longer gives A/M


def test_complements_are_chained_until_no_line_has_exactly_one() -> None:
    support = {("A", "M"): 3, ("A", "F"): 40, ("B", "M"): 20, ("B", "F"): 30}
    hidden = suppress(dict(support), 5, [ALONG_0, ALONG_1])
    assert hidden == {("A", "M"), ("A", "F"), ("B", "M"), ("B", "F")}
    for line in (ALONG_0[1], ALONG_1[1]):
        groups: dict[object, int] = {}
        for k in hidden:
            groups[line(k)] = groups.get(line(k), 0) + 1
        assert all(n != 1 for n in groups.values())


def test_a_lone_small_cell_gets_an_empty_neighbour_suppressed_with_it() -> None:
    support: dict[tuple[object, ...], int | None] = {("A", "F"): 3, ("B", "M"): 20, ("B", "F"): 30}
    hidden = suppress(support, 5, [ALONG_1])
    assert hidden == {("A", "F"), ("A", "M")} and support[("A", "M")] == 0  # "all of A are women" is not told


def test_cells_without_people_are_never_suppressed_and_large_ones_stay() -> None:
    assert suppress({("A",): None, ("B",): 9}, 5, [ALONG_0]) == set()


def test_rounding_and_age_bands() -> None:
    assert [round_to(n, 5) for n in (0, 1, 2, 3, 7, 8, 12, 13)] == [0, 0, 0, 5, 5, 10, 10, 15]
    assert round_to(7, 1) == 7
    today = dt.date(2026, 6, 30)
    assert age_band(dt.date(1996, 7, 1), today) == "<30" and age_band(dt.date(1996, 6, 30), today) == "30-39"
    assert age_band(dt.date(1971, 6, 30), today) == "55-59" and age_band(dt.date(1960, 1, 1), today) == "60+"
