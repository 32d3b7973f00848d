"""The vocabulary of statistics: dimensions, measures, the field each stands for, age bands, cell rules.

A dimension or measure may be used by a role that reads its field (`READS`), or that holds the
policy action `aggregate` on `Dimension.<NAME>` / `Measure.<NAME>` (policies/grants.py): then
the answer is *restricted* and `restrict` below suppresses and rounds it (docs/statistics.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from enum import StrEnum


class Dimension(StrEnum):
    """What a statistic may be grouped by."""

    REGION = "REGION"  # the institution's division code (zones as sub-codes)
    INSTITUTION = "INSTITUTION"  # the institution code (USCC or crosswalk code)
    INSTITUTION_TYPE = "INSTITUTION_TYPE"  # 机构类别
    FUNDING = "FUNDING"  # 经费形式
    QUOTA_TYPE = "QUOTA_TYPE"  # 编制类型
    SEX = "SEX"  # from the ID number
    ETHNIC_GROUP = "ETHNIC_GROUP"  # the registry's
    EDUCATION = "EDUCATION"  # the registry's
    AGE_BAND = "AGE_BAND"  # from the ID number's birth date
    TITLE_LEVEL = "TITLE_LEVEL"  # the person's highest professional title (HR)
    POST_CATEGORY = "POST_CATEGORY"  # the person's current post (HR)
    POST_GRADE = "POST_GRADE"
    SUBJECT = "SUBJECT"  # teaching subject (HR)
    MONTH = "MONTH"  # pay month


PAY_COMPONENTS = (
    "post_pay", "grade_pay", "position_pay", "step_pay", "basic_performance", "reward_performance", "allowances",
    "gross", "pension", "medical", "annuity", "unemployment", "housing_fund", "income_tax", "net",
)


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(w.title() for w in rest)


Measure = StrEnum(  # type: ignore[misc]
    "Measure",
    [(n, n) for n in ("HEADCOUNT", "OCCUPIED", "APPROVED", "VACANT", "OVER", "VACANCY_RATE",
                      "LEADERSHIP_APPROVED", "LEADERSHIP_FILLED")]
    + [(f"PAY_{c.upper()}_{kind}", f"PAY_{c.upper()}_{kind}") for c in PAY_COMPONENTS for kind in ("TOTAL", "AVERAGE")],
)
Measure.__doc__ = "What a statistic measures."


def pay_component(measure: str) -> str | None:
    """The pay_line field a PAY_*_TOTAL / PAY_*_AVERAGE measure sums, else None."""
    if not measure.startswith("PAY_"):
        return None
    return measure[4:].rsplit("_", 1)[0].lower()


# The field (GraphQL `Type.field`) a role reads whole to use a dimension or measure without restriction.
READS: dict[str, tuple[str, str]] = {
    Dimension.REGION: ("Institution", "regionCode"),
    Dimension.INSTITUTION: ("Institution", "code"),
    Dimension.INSTITUTION_TYPE: ("Institution", "type"),
    Dimension.FUNDING: ("Institution", "funding"),
    Dimension.QUOTA_TYPE: ("QuotaSummary", "quotaType"),
    Dimension.SEX: ("Person", "sex"),
    Dimension.ETHNIC_GROUP: ("RegistryEntry", "ethnicGroup"),
    Dimension.EDUCATION: ("RegistryEntry", "education"),
    Dimension.AGE_BAND: ("Person", "birthDate"),
    Dimension.TITLE_LEVEL: ("TitleRecord", "level"),
    Dimension.POST_CATEGORY: ("PostRecord", "category"),
    Dimension.POST_GRADE: ("PostRecord", "grade"),
    Dimension.SUBJECT: ("PersonnelRecord", "subject"),
    Dimension.MONTH: ("PayrollEntry", "month"),
    "HEADCOUNT": ("QuotaSummary", "occupied"),
    "OCCUPIED": ("QuotaSummary", "occupied"),
    "APPROVED": ("QuotaSummary", "approved"),
    "VACANT": ("QuotaSummary", "vacant"),
    "OVER": ("QuotaSummary", "over"),
    "VACANCY_RATE": ("QuotaSummary", "vacant"),
    "LEADERSHIP_APPROVED": ("LeadershipPost", "approved"),
    "LEADERSHIP_FILLED": ("LeadershipPost", "filled"),
    **{m.value: ("PayrollEntry", _camel(c)) for m in Measure if (c := pay_component(m.value))},
}

# Policy objects of the `aggregate` action, one per dimension and measure.
AGGREGATE_OBJECTS: tuple[str, ...] = (*(f"Dimension.{d.value}" for d in Dimension), *(f"Measure.{m.value}" for m in Measure))

# Age bands: (label, lowest age in it); an age falls in the last band whose lowest age it reaches.
AGE_BANDS: tuple[tuple[str, int], ...] = (
    ("<30", 0), ("30-39", 30), ("40-49", 40), ("50-54", 50), ("55-59", 55), ("60+", 60),
)


def age_band(birth: dt.date, on: dt.date) -> str:
    """The age band of someone born on `birth`, on the day `on` (completed years)."""
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    found = AGE_BANDS[0][0]
    for label, low in AGE_BANDS:
        if age >= low:
            found = label
    return found


def round_to(value: int, base: int) -> int:
    """`value` rounded to the nearest multiple of `base` (halves up); what restricted answers publish."""
    return ((value + base // 2) // base) * base if base > 1 else value


Key = tuple[Hashable, ...]


Line = tuple[int | None, Callable[[Key], Hashable]]  # (the dimension a line runs along, or None; the line of a cell)


def suppress(support: dict[Key, int | None], minimum: int, lines: Sequence[Line]) -> set[Key]:
    """The cells to suppress: those counting fewer than `minimum` (but some) people, and complementary ones.

    `lines` map a cell to the line it lies on (its key with one dimension left out, or an institution
    replaced by its region): a line holding exactly one suppressed cell would give it away as the
    line's total (another query's figure) minus the others, so the smallest other cell of that line
    is suppressed too, until no line has exactly one. When a line along a dimension has no other cell,
    an empty cell (a value of that dimension the answer holds elsewhere) is added suppressed, so that
    neither a cell's value nor the absence of its neighbours tells the hidden one. Cells with no
    support (`None`: no people behind them, quotas only) are never suppressed. `support` gains the
    added empty cells (support 0).
    """
    hidden = {k for k, n in support.items() if n is not None and 0 < n < minimum}
    domains = [sorted({k[i] for k in support}, key=repr) for i in range(len(next(iter(support), ())))]
    changed = bool(hidden)
    while changed:
        changed = False
        for along, line in lines:
            groups: dict[Hashable, list[Key]] = {}
            for key in support:
                groups.setdefault(line(key), []).append(key)
            for members in groups.values():
                alone = [k for k in members if k in hidden]
                if len(alone) != 1:
                    continue
                others = sorted((k for k in members if k not in hidden and support[k] is not None),
                                key=lambda k: (support[k], repr(k)))
                if others:
                    hidden.add(others[0])
                    changed = True
                elif along is not None:
                    cell = alone[0]
                    empty = [(*cell[:along], v, *cell[along + 1:]) for v in domains[along] if v != cell[along]]
                    empty = [k for k in empty if k not in support]
                    if empty:
                        support[empty[0]] = 0
                        hidden.add(empty[0])
                        changed = True
    return hidden
