"""Monthly pay lines in fen: civil-service scale (ZWGZ/JBGZ) or PI scale (GWGZ/XJGZ), with deductions."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Iterator
from typing import NamedTuple

from hub.core.codes import CIVIL_SERVICE_SCALE, PostCategory
from hub.demo.draws import choice, randint
from hub.demo.population import Person

# 职务(职级)工资 by A0221 level code, yuan; non-leaders by years of service below.
LEVEL_PAY = {"131": 4200, "132": 3300, "141": 2600, "142": 2100, "150": 1700, "160": 1450}
# Monthly individual income tax brackets on taxable fen: (upper bound, rate %, quick deduction).
TAX = (
    (300_000, 3, 0),
    (1_200_000, 10, 21_000),
    (2_500_000, 20, 141_000),
    (3_500_000, 25, 266_000),
    (5_500_000, 30, 441_000),
    (8_000_000, 35, 716_000),
    (10**12, 45, 1_516_000),
)
_UPPERS = tuple(upper for upper, _, _ in TAX)
THRESHOLD = 500_000  # 5,000 yuan a month


class PayBase(NamedTuple):
    """A person's monthly pay standard in fen; `raise_` is added to the step pay from January."""

    civil: bool
    post: int
    step: int
    raise_: int
    basic: int
    award: int
    allowance: int
    housing: int  # housing-fund rate, percent
    pension: bool


def pay_base(p: Person, years: int, rng: random.Random) -> PayBase:
    """The pay standard of a person: scale by quota type (swapped when R06 is planted)."""
    civil = (p.quota in CIVIL_SERVICE_SCALE) != p.scale_swap
    years = max(0, min(years, 40))
    if civil:
        level = p.appointment.code if p.appointment else None
        post = LEVEL_PAY[level] if level else 1450 + min(years, 30) * 60
        step, raise_ = 1300 + years * 75, 75
    else:
        category, grade = (p.post[0], p.post[1]) if p.post else (PostCategory.MANAGEMENT, 9)
        post = {
            PostCategory.MANAGEMENT: 1500 + (10 - grade) * 380,
            PostCategory.TECHNICAL: 1550 + (13 - grade) * 330,
            PostCategory.WORKER: 1450 + (5 - grade) * 150,
        }[category]
        step, raise_ = 350 + years * 70, 70
    return PayBase(
        civil,
        post * 100,
        step * 100,
        raise_ * 100,
        randint(rng, 2400, 3400) * 100,
        randint(rng, 600, 1600) * 100,
        randint(rng, 1800, 3200) * 100,
        choice(rng, (10, 12)),
        p.pension,
    )


# A payee's pay lines as `pay_lines` draws them: the PayBase as a plain tuple (it travels to the
# process that writes GZ_YB: a tuple pickles in a fraction of the time), payee, months, award %.
PayLines = tuple[tuple, str, list[tuple[str, str, bool]], list[int]]


def pay_lines(base: PayBase, payee: str, months: list[tuple[str, str, bool]], rng: random.Random) -> PayLines:
    """The GZ_YB lines of one payee, one per (GZNY, DWDM, raised) month, as the draws they take: the
    award's percentage of its base each month (85-115%, one draw each; cheaper than randint per
    row). `pay_rows` turns them into rows, wherever the table is written."""
    random = rng.random
    return tuple(base), payee, months, [85 + int(random() * 31) for _ in months]


def pay_rows(lines: list[PayLines]) -> Iterator[tuple]:
    """GZ_YB rows of payees' pay lines: pay items, gross, deductions, net (all money in fen). Only
    the award varies from month to month; the rest is worked out once per raised state."""
    for fields, payee, months, awards in lines:
        base = PayBase._make(fields)
        fixed = {raised: _fixed(base, raised) for raised in {m[2] for m in months}}
        award_base, basic, allowance = base.award, base.basic, base.allowance
        for (month, unit, raised), percent in zip(months, awards, strict=True):
            zwgz, jbgz, gwgz, xjgz, insured, pension, medical, annuity, unemployment, housing, deducted = fixed[
                raised
            ]
            award = award_base * percent // 100
            gross = insured + award
            taxable = gross - deducted - THRESHOLD
            if taxable > 0:  # the monthly income tax: the first bracket whose upper bound holds it
                _, rate, quick = TAX[bisect_left(_UPPERS, taxable)]
                tax = max(0, taxable * rate // 100 - quick)
            else:
                tax = 0
            yield (month, payee, unit, zwgz, jbgz, gwgz, xjgz, basic, award, allowance, gross,
                   pension, medical, annuity, unemployment, housing, tax, gross - deducted - tax)  # fmt: skip


def _fixed(base: PayBase, raised: bool) -> tuple[int, ...]:
    """The month-independent parts of a pay line: the four scale items, the contribution base (gross
    without the award), each deduction but the tax, and their sum."""
    step = base.step + (base.raise_ if raised else 0)
    insured = base.post + step + base.basic + base.allowance  # contribution base excludes the award
    pension = insured * 8 // 100 if base.pension else 0
    medical = insured * 2 // 100
    annuity = insured * 4 // 100
    unemployment = 0 if base.civil else insured * 5 // 1000
    housing = insured * base.housing // 100
    items = (base.post, step, 0, 0) if base.civil else (0, 0, base.post, step)
    deducted = pension + medical + annuity + unemployment + housing
    return (*items, insured, pension, medical, annuity, unemployment, housing, deducted)
