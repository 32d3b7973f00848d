"""The progressive retirement rule in force since 2025 (docs/retirement.md §Checks)."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.core.retirement import RetirementGroup, add_months, retirement_date, retirement_group

MEN, WOMEN55, WOMEN50 = RetirementGroup.MEN, RetirementGroup.WOMEN_CADRE, RetirementGroup.WOMEN_WORKER


@pytest.mark.parametrize(
    ("birth", "group", "expected"),
    [
        (dt.date(1964, 12, 1), MEN, dt.date(2024, 12, 1)),
        (dt.date(1965, 1, 1), MEN, dt.date(2025, 2, 1)),
        (dt.date(1970, 6, 15), MEN, dt.date(2031, 11, 15)),
        (dt.date(1975, 8, 20), WOMEN55, dt.date(2032, 1, 20)),
        (dt.date(1978, 3, 10), WOMEN50, dt.date(2029, 11, 10)),
        (dt.date(1976, 9, 1), MEN, dt.date(2039, 9, 1)),  # capped: 63
        (dt.date(1969, 12, 31), WOMEN55, dt.date(2024, 12, 31)),  # before the first affected month
    ],
)
def test_domain_examples(birth: dt.date, group: RetirementGroup, expected: dt.date) -> None:
    assert retirement_date(birth, group) == expected


def test_month_end_clamped() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


def test_group_choice() -> None:
    assert retirement_group("male", worker_post=True) is MEN
    assert retirement_group("female", worker_post=True) is WOMEN50
    assert retirement_group("female", worker_post=False) is WOMEN55


def test_the_table_by_birth_month_gives_the_rule_for_every_day() -> None:
    """retirement_date reads a table by (birth month, group): the same as the rule applied to each day."""
    from hub.core.retirement import RULES, delay_months

    day = dt.date(1940, 1, 1)
    while day < dt.date(2010, 1, 1):
        for group in RetirementGroup:
            assert retirement_date(day, group) == add_months(day, RULES[group].original_age * 12 + delay_months(day, group)), (day, group)
        day += dt.timedelta(days=1)
