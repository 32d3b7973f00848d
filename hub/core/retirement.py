"""Statutory retirement dates under the progressive rule in force since 2025-01-01.

The rule and its check table: docs/retirement.md §The rule, §Checks.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class RetirementGroup(StrEnum):
    """Which row of the progressive-retirement table applies to a person."""

    MEN = "men"
    WOMEN_CADRE = "women_cadre"  # cadre, management or technical posts
    WOMEN_WORKER = "women_worker"


@dataclass(frozen=True, slots=True)
class RetirementRule:
    """Original age, first affected birth month, one month of delay per `step` birth months, cap."""

    original_age: int
    first_month: tuple[int, int]
    step: int
    cap_months: int


RULES: dict[RetirementGroup, RetirementRule] = {
    RetirementGroup.MEN: RetirementRule(60, (1965, 1), 4, 36),
    RetirementGroup.WOMEN_CADRE: RetirementRule(55, (1970, 1), 4, 36),
    RetirementGroup.WOMEN_WORKER: RetirementRule(50, (1975, 1), 2, 60),
}

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus a number of months, clamped to the last day of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = 29 if month == 1 and calendar.isleap(year) else _MONTH_DAYS[month]
    return dt.date(year, month + 1, min(day.day, last))


def delay_months(birth: dt.date, group: RetirementGroup) -> int:
    """Months of delay for a birth month: 0 before the first affected month, then +1 per step, capped."""
    rule = RULES[group]
    k = (birth.year - rule.first_month[0]) * 12 + birth.month - rule.first_month[1]
    return 0 if k < 0 else min(rule.cap_months, k // rule.step + 1)


def retirement_date(birth: dt.date, group: RetirementGroup) -> dt.date:
    """The statutory retirement date: birth date + original age + delay months.

    >>> retirement_date(dt.date(1970, 6, 15), RetirementGroup.MEN)
    datetime.date(2031, 11, 15)
    """
    year, month, last = _retirement_month(birth.year, birth.month, group)
    return dt.date(year, month, min(birth.day, last))


@lru_cache(maxsize=4096)  # a small table: a century of birth months x the three groups
def _retirement_month(year: int, month: int, group: RetirementGroup) -> tuple[int, int, int]:
    """(year, month, days in that month) of the retirement of people born in a month: the delay and
    the target month depend on the birth month only, the day is the birth day clamped to the month."""
    born = dt.date(year, month, 1)
    rule = RULES[group]
    target = add_months(born, rule.original_age * 12 + delay_months(born, group))
    return target.year, target.month, calendar.monthrange(target.year, target.month)[1]


def retirement_group(sex: str | None, worker_post: bool) -> RetirementGroup:
    """The group for a person: men; women in worker posts; other women (cadre/management/technical)."""
    if sex == "male":
        return RetirementGroup.MEN
    return RetirementGroup.WOMEN_WORKER if worker_post else RetirementGroup.WOMEN_CADRE


def month_end(month: str) -> dt.date:
    """The last day of a 'YYYY-MM' month."""
    year, mon = int(month[:4]), int(month[5:7])
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])
