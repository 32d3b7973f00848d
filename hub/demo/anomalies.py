"""Planted anomalies: a per-rule planting table, the schedule, and the manifest findings.

Each rule (docs/supervision.md §Each rule as the code reads it) is planted by small edits to an
otherwise clean record, following the readings stated there. Every finding a planting causes is
listed (``implies``), so the manifest is the complete list of what a correct cross-check reports:

====  ==========================================================================  ================
rule  how it is planted                                                           findings
====  ==========================================================================  ================
R01   ghost payee: GZ_RY (BZQK 在编, TFBZ Y), pay every month, AC01 insured and     R01 + R16
      deducted, but no T_SMZ slot and no RS_RYXX record
R02   active slot in a unit that is not 自收自支, and (a) no GZ_RY at all, or (b)  R02
      pay stopped 1-4 months before the reference month (TFBZ N, 停发)
R03   paid under another unit's DWDM (GZ_RY and every GZ_YB row)                  R03
R04   T_BZ.HDS set 1-2 below the active headcount of one (unit, quota type)       R04 (unit, type)
R05   RS_RYXX.RYLB contradicts the slot type (XZ/ZF->04, CG->01, SY/JS->01,       R05
      GQ->04); pay stays on the slot's scale
R06   paid on the other scale in every month (XZ/ZF/CG on GWGZ/XJGZ, others on    R06
      ZWGZ/JBGZ)
R07   T_LDZS.HDZS of one (正职/副职, 单位/内设) cell = leaders in post - 1          R07 (unit, cell)
R08   birth moved so the statutory date (hub.core.retirement, own group) is 0-8 months R08
      before the end of the reference month; active, paid, consistent everywhere
R09   (a) second active slot of the same type in another unit (own JHS=1 plan),   R09
      paid by both units: every pay row's unit is one of the registry units (no
      R03) and quota vacancies absorb the extra head (no R04); (b) a second
      payee code in the same unit, paid in the last months
R10   person: wrong check digit, the same ID in every source (no 15-digit, x or   R10
      full-width noise; birth and sex digits intact, so no R11). Unit: USCC check
      character wrong in one of T_JG/RS_DW/GZ_DW (or the B01 organization code's)
      while another source keeps the valid USCC and names match                   R10 (unit, column)
R11   one source disagrees: RS_RYXX.CSRQ days off, T_SMZ.CSRQ months off,         R11
      AC01.AAC006 a year off, GZ_RY.XB or RS_RYXX.XB flipped
R12   one of T_SMZ / RS_RYXX / GZ_RY / AC01 writes another name (one character)   R12
R13   entry re-dated within two years, citing no plan, a revoked plan, a plan     R13 (that entry
      approved after RBRQ, a plan of another type or unit, or a JHS=1 plan         only)
      already used by an earlier entrant of the same unit and type
R14   (a) slot left (出编, 辞职) inside the window, HR 辞职, paid on through the    R14 + R01 + R16
      reference month, AC01 still insured; (b) HR 死亡 or (c) HR 辞职 inside the   R14
      window while the slot stays active and pay continues
R15   AC01.AAC008 2 or 3 with pension deducted, or insured with DK_YL 0           R15
R16   GZ_RY.BZQK 编外 for a paid person holding an active slot                    R16
====  ==========================================================================  ================

Planted people are employed, hold exactly one active (not seconded) slot, are not cadres, not
transferred, on the payroll and born under 45 years before the reference month (except R08), so
no other reading (retirement group, birth precision) can change. Not findings, also planted: unpaid
slots in 自收自支 units, formatting noise, B0183/B0185 unlike T_LDZS, transfers, secondments.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.core.codes import (
    EmploymentStatus,
    Funding,
    InsuranceStatus,
    PersonnelCategory,
    PostLevel,
    PostScope,
    QuotaType,
    SlotStatus,
)
from hub.core.ids import USCC_ALPHABET
from hub.demo.institutions import USCC_SOURCES, Institution
from hub.demo.names import other_name
from hub.demo.population import Person, Slot, birth_retiring_on

if TYPE_CHECKING:
    from hub.demo.planting import Planting

E, C = EmploymentStatus, PersonnelCategory
WRONG_CATEGORY = {
    QuotaType.XZ: C.PI_TECHNICAL,
    QuotaType.ZF: C.PI_TECHNICAL,
    QuotaType.CG: C.CIVIL_SERVANT,
    QuotaType.SY: C.CIVIL_SERVANT,
    QuotaType.JS: C.CIVIL_SERVANT,
    QuotaType.GQ: C.PI_TECHNICAL,
}
PersonApply = Callable[[Person, "Planting", list[Person]], bool]


@dataclass(frozen=True, slots=True)
class Variant:
    """One way of planting a rule on a person, and the other findings it causes."""

    detail: str
    apply: PersonApply
    implies: tuple[str, ...] = ()


def _set(**changes: object) -> PersonApply:
    def apply(p: Person, pl: Planting, people: list[Person]) -> bool:
        for key, value in changes.items():
            setattr(p, key, value)
        return True

    return apply


def _override(facet: str, source: str, change: Callable[[Person, Planting], object]) -> PersonApply:
    def apply(p: Person, pl: Planting, people: list[Person]) -> bool:
        getattr(p, facet)[source] = change(p, pl)
        return True

    return apply


def _not_self_funded(change: PersonApply) -> PersonApply:
    return lambda p, pl, people: p.inst.funding != Funding.SELF and change(p, pl, people)


def _window_day(pl: Planting) -> dt.date | None:
    """A day inside the pay window, at least two months before the reference month (None if too short)."""
    if pl.world.last < 3:
        return None
    month = pl.rng.randint(1, pl.world.last - 2)
    start = pl.world.window_start
    index = start.year * 12 + start.month - 1 + month
    return dt.date(index // 12, index % 12 + 1, pl.rng.randint(1, 28))


def _other_unit(p: Person, pl: Planting, people: list[Person]) -> bool:
    n = len(pl.world.institutions)
    if n < 2:
        return False
    p.pay_unit = pl.world.institutions[(p.inst.idx + pl.rng.randint(1, n - 1)) % n]
    return True


def _past_retirement(p: Person, pl: Planting, people: list[Person]) -> bool:
    p.birth = birth_retiring_on(
        pl.world.ref_end - dt.timedelta(days=pl.rng.randint(0, 240)), p.male, p.worker
    )
    return True


def _two_slots(p: Person, pl: Planting, people: list[Person]) -> bool:
    other = pl.world.other_institution(p.quota, p.inst.idx, pl.rng)
    if other is None or (other.idx, p.quota) in pl.second_slots:
        return False
    entered = max(p.slots[0].entered, pl.world.ref_end - dt.timedelta(days=pl.rng.randint(40, 600)))
    p.slots.append(Slot(other, p.quota, entered))
    p.extra_payee = (other, max(0, pl.world.month_index(entered)))
    pl.second_slots.add((other.idx, p.quota))
    pl.world.extra_active[(other.idx, p.quota)] += 1
    return True


def _paid_twice(p: Person, pl: Planting, people: list[Person]) -> bool:
    p.extra_payee = (p.inst, pl.rng.randint(max(0, pl.world.month_index(p.slots[0].entered)), pl.world.last))
    return True


def _plan_fault(fault: str) -> PersonApply:
    def apply(p: Person, pl: Planting, people: list[Person]) -> bool:
        slot = p.slots[0]
        entered = max(p.start_work, pl.world.ref_end - dt.timedelta(days=pl.rng.randint(20, 700)))
        if fault == "plan_exhausted":
            partner = next(
                (
                    q.slots[-1]
                    for q in people
                    if q is not p
                    and q.plant is None
                    and q.in_registry
                    and q.slots[-1].inst is p.inst
                    and q.slots[-1].quota == p.quota
                    and q.slots[-1].entered < entered
                    and q.slots[-1].plan_fault is None
                ),
                None,
            )
            if partner is None:
                return False
            next(q for q in people if q.slots[-1] is partner).plant = "partner"
            partner.plan_fault, slot.partner = "shared", partner
        slot.entered, slot.plan_fault = entered, fault
        return True

    return apply


def _left_still_paid(p: Person, pl: Planting, people: list[Person]) -> bool:
    slot, left = p.slots[0], _window_day(pl)
    if left is None or slot.entered >= pl.world.window_start - dt.timedelta(days=60):
        return False
    slot.left, slot.status, slot.reason = left, SlotStatus.LEFT, "辞职"
    p.hr_fate, p.pay_to = (E.RESIGNED, left), pl.world.last
    return True


def _hr_still_paid(fate: EmploymentStatus) -> PersonApply:
    def apply(p: Person, pl: Planting, people: list[Person]) -> bool:
        day = _window_day(pl)
        if day is None or p.slots[0].entered >= day:
            return False
        p.hr_fate = (fate, day)
        return True

    return apply


def _pay_stopped(p: Person, pl: Planting, people: list[Person]) -> bool:
    p.pay_to = pl.world.last - pl.rng.randint(1, 4)
    return True


def _wrong_category(p: Person, pl: Planting, people: list[Person]) -> bool:
    p.hr_category = WRONG_CATEGORY[p.quota]
    return True


def _shifted_days(p: Person, pl: Planting) -> dt.date:
    return p.birth + dt.timedelta(days=pl.rng.choice((-1, 1)) * pl.rng.randint(1, 40))


def _shifted_months(p: Person, pl: Planting) -> dt.date:
    month = p.birth.month - 1 + pl.rng.choice((-1, 1)) * pl.rng.randint(1, 6)
    return dt.date(p.birth.year + month // 12, month % 12 + 1, min(p.birth.day, 28))


def _year_earlier(p: Person, pl: Planting) -> dt.date:
    return dt.date(p.birth.year - 1, p.birth.month, min(p.birth.day, 28))


def _flipped(p: Person, pl: Planting) -> bool:
    return not p.male


def _renamed(p: Person, pl: Planting) -> str:
    return other_name(p.name, pl.rng)


PLAN_FAULTS = (
    "no_plan",
    "revoked_plan",
    "plan_after_entry",
    "other_quota_type",
    "other_unit",
    "plan_exhausted",
)
NAME_SOURCES = ("registry", "hr", "finance", "insurance")
RATES = {  # share of persons planted per rule
    "R01": 0.003, "R02": 0.005, "R03": 0.004, "R05": 0.004, "R06": 0.004, "R08": 0.005, "R09": 0.003,
    "R10": 0.003, "R11": 0.006, "R12": 0.005, "R13": 0.005, "R14": 0.004, "R15": 0.005, "R16": 0.003,
}  # fmt: skip
_V = Variant
VARIANTS: tuple[tuple[str, Variant], ...] = (  # the ways of planting each rule, used in turn
    ("R01", _V("ghost payee on quota, no registry slot", _set(in_registry=False, in_hr=False), ("R16",))),
    ("R02", _V("active slot, never on the payroll", _not_self_funded(_set(payee=False)))),
    ("R02", _V("active slot, pay stopped", _not_self_funded(_pay_stopped))),
    ("R03", _V("paid by another unit", _other_unit)),
    ("R05", _V("personnel category contradicts quota type", _wrong_category)),
    ("R06", _V("paid on the other pay scale", _set(scale_swap=True))),
    ("R08", _V("past statutory retirement, still in post and paid", _past_retirement)),
    ("R09", _V("two active slots, paid by both units", _two_slots)),
    ("R09", _V("paid twice in one unit", _paid_twice)),
    ("R10", _V("invalid ID check digit in every source", _set(bad_id=True))),
    ("R11", _V("HR birth date differs", _override("births", "hr", _shifted_days))),
    ("R11", _V("registry birth month differs", _override("births", "registry", _shifted_months))),
    ("R11", _V("insurance birth year differs", _override("births", "insurance", _year_earlier))),
    ("R11", _V("finance sex differs", _override("sexes", "finance", _flipped))),
    ("R11", _V("HR sex differs", _override("sexes", "hr", _flipped))),
    *(("R12", _V(f"{s} name differs", _override("names", s, _renamed))) for s in NAME_SOURCES),
    *(("R13", _V(f"entered citing {f.replace('_', ' ')}", _plan_fault(f))) for f in PLAN_FAULTS),
    ("R14", _V("left the slot, still paid", _left_still_paid, ("R01", "R16"))),
    ("R14", _V("died, slot active and still paid", _hr_still_paid(E.DECEASED))),
    ("R14", _V("resigned, slot active and still paid", _hr_still_paid(E.RESIGNED))),
    ("R15", _V("insurance suspended, pension deducted", _set(insurance=InsuranceStatus.SUSPENDED))),
    ("R15", _V("insurance ended, pension deducted", _set(insurance=InsuranceStatus.ENDED))),
    ("R15", _V("insured, no pension deducted", _set(pension=False))),
    ("R16", _V("off-quota payee holding an active slot", _set(off_quota=True))),
)  # fmt: skip
PERSON_PLANTS: dict[str, tuple[float, tuple[Variant, ...]]] = {
    rule: (rate, tuple(v for r, v in VARIANTS if r == rule)) for rule, rate in RATES.items()
}


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """What a unit-level plant needs: active slots per quota type and leaders in post per cell."""

    active: dict[QuotaType, int]
    leaders: Counter[tuple[PostLevel, PostScope]]


UnitApply = Callable[[Institution, UnitFacts, random.Random], "str | None"]
CODE_COLUMN = {"T_JG": "T_JG.TYSHXYDM", "RS_DW": "RS_DW.TYXYDM", "GZ_DW": "GZ_DW.TYXYDM", "B01": "B01.B0114"}
_ORG_CHECK = "0123456789X"


def _over_quota(inst: Institution, facts: UnitFacts, rng: random.Random) -> str | None:
    cells = sorted((q for q, n in facts.active.items() if n > 0), key=lambda q: q.value)
    if not cells:
        return None
    quota = cells[rng.randrange(len(cells))]
    inst.hds[quota] = facts.active[quota] - rng.randint(1, min(2, facts.active[quota]))
    return quota.value


def _over_posts(inst: Institution, facts: UnitFacts, rng: random.Random) -> str | None:
    cells = sorted(c for c, n in facts.leaders.items() if n > 0)
    if not cells:
        return None
    level, scope = cells[rng.randrange(len(cells))]
    inst.posts[(level, scope)] = facts.leaders[(level, scope)] - 1
    return f"{level.value}/{scope.value}"


def _bad_code(inst: Institution, facts: UnitFacts, rng: random.Random) -> str | None:
    """Spoil one source's code while another source keeps the valid USCC (so the unit is still named)."""
    holders = [s for s in USCC_SOURCES if inst.written.get(s) == inst.uscc]
    org = inst.written.get("B01")
    candidates = holders + (["B01"] if org and org != inst.uscc else [])
    candidates = [s for s in candidates if any(h != s for h in holders)]
    if not candidates:
        return None
    source = candidates[rng.randrange(len(candidates))]
    code = inst.written[source] or ""
    alphabet = USCC_ALPHABET if len(code) == 18 else _ORG_CHECK
    inst.written[source] = code[:-1] + alphabet[(alphabet.index(code[-1]) + 1) % len(alphabet)]
    return CODE_COLUMN[source]


# rule -> (share of institutions, how it is planted)
UNIT_PLANTS: dict[str, tuple[float, UnitApply]] = {
    "R04": (0.03, _over_quota),
    "R07": (0.02, _over_posts),
    "R10": (0.015, _bad_code),
}
