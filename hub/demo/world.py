"""Run-wide state of one generation: the pay window, the institutions and the code counters."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from hub.core.codes import QuotaType
from hub.core.retirement import add_months, month_end
from hub.demo.institutions import Institution


def years_after(day: dt.date, years: float) -> dt.date:
    """`day` plus a (possibly negative, fractional) number of years, to the nearest month."""
    return add_months(day, round(years * 12))


def month_key(day: dt.date) -> str:
    """The legacy pay-month spelling of a date's month: '202610'."""
    return f"{day.year}{day.month:02d}"


@dataclass(slots=True)
class World:
    """Everything one run shares; persons are generated institution by institution against it."""

    seed: int
    reference_month: str  # 'YYYY-MM'
    months: int
    institutions: list[Institution]
    ref_end: dt.date = dt.date.min
    window_start: dt.date = dt.date.min
    pay_months: tuple[str, ...] = ()
    january: int = 0  # index of the window's last January (the yearly raise), `months` if there is none
    by_quota: dict[QuotaType, list[int]] = field(default_factory=dict)
    extra_active: dict[tuple[int, QuotaType], int] = field(default_factory=lambda: defaultdict(int))
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    id_cells: dict[tuple[str, dt.date, bool], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ref_end = month_end(self.reference_month)
        year, month = int(self.reference_month[:4]), int(self.reference_month[5:7])
        index = year * 12 + month - 1
        self.pay_months = tuple(
            f"{i // 12}{i % 12 + 1:02d}" for i in range(index - self.months + 1, index + 1)
        )
        januaries = [i for i, m in enumerate(self.pay_months) if m.endswith("01")]
        self.january = max(januaries, default=self.months)
        first = index - self.months + 1
        self.window_start = dt.date(first // 12, first % 12 + 1, 1)
        for inst in self.institutions:
            for quota, _ in inst.kind.quotas:
                self.by_quota.setdefault(quota, []).append(inst.idx)

    @property
    def last(self) -> int:
        """Index of the reference month in the pay window."""
        return self.months - 1

    def month_index(self, day: dt.date) -> int:
        """Position of a date's month in the pay window (negative before it)."""
        return (day.year - self.window_start.year) * 12 + day.month - self.window_start.month

    def next_code(self, counter: str) -> int:
        """The next number of a code sequence (1, 2, …); generation order makes it deterministic."""
        self.counters[counter] += 1
        return self.counters[counter]

    def other_institution(self, quota: QuotaType, not_idx: int, rng: random.Random) -> Institution | None:
        """Another institution that has slots of a quota type."""
        pool = self.by_quota.get(quota, [])
        if len(pool) < 2:
            return None
        for _ in range(8):
            pick = pool[rng.randrange(len(pool))]
            if pick != not_idx:
                return self.institutions[pick]
        return None

    def rng(self, *parts: object) -> random.Random:
        """A generator derived from the seed and a purpose, independent of every other stream."""
        return random.Random(":".join(map(str, (self.seed, *parts))))
