"""Monthly pay lines in fen: civil-service scale (ZWGZ/JBGZ) or PI scale (GWGZ/XJGZ), with deductions."""

from __future__ import annotations

import random
from bisect import bisect_left
from dataclasses import dataclass

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


@dataclass(slots=True, frozen=True)
class PayBase:
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


def pay_rows(
    base: PayBase, payee: str, months: list[tuple[str, str, bool]], rng: random.Random
) -> list[tuple]:
    """GZ_YB rows of one payee, one per (GZNY, DWDM, raised) month: pay items, gross, deductions, net
    (all money in fen). Only the award varies from month to month (one draw each); the rest is
    worked out once per raised state."""
    fixed = {raised: _fixed(base, raised) for raised in {m[2] for m in months}}
    random, award_base, basic, allowance = rng.random, base.award, base.basic, base.allowance
    rows = []
    for month, unit, raised in months:
        zwgz, jbgz, gwgz, xjgz, insured, pension, medical, annuity, unemployment, housing, deducted = fixed[
            raised
        ]
        award = award_base * (85 + int(random() * 31)) // 100  # 85-115%: cheaper than randint per row
        gross = insured + award
        taxable = gross - deducted - THRESHOLD
        if taxable > 0:  # the monthly income tax: the first bracket whose upper bound holds it
            _, rate, quick = TAX[bisect_left(_UPPERS, taxable)]
            tax = max(0, taxable * rate // 100 - quick)
        else:
            tax = 0
        rows.append((month, payee, unit, zwgz, jbgz, gwgz, xjgz, basic, award, allowance, gross,
                     pension, medical, annuity, unemployment, housing, tax, gross - deducted - tax))  # fmt: skip
    return rows


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
