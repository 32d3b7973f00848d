"""Institution-level legacy rows: T_JG, T_BZ, T_LDZS (编办), B01 (组织部), RS_DW (人社), GZ_DW (财政)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from hub.core.codes import REGIONS, PostLevel, PostScope, QuotaType
from hub.demo import spellings as S
from hub.demo.anomalies import UnitFacts
from hub.demo.institutions import Institution
from hub.demo.names import REGION_SHORT
from hub.demo.population import Person
from hub.demo.world import World

# Students per staff member by school type (docs/domain.md §School staffing ratios).
STUDENT_RATIO = {"小学": 19.0, "初中": 13.5, "高中": 12.5, "完全中学": 13.0}
Rows = dict[str, list[tuple]]


def unit_facts(inst: Institution, people: list[Person], world: World) -> UnitFacts:
    """Active slots per quota type (with second slots placed here by earlier units) and leaders per cell."""
    active: Counter[QuotaType] = Counter()
    for p in people:
        if p.in_registry:
            active.update(s.quota for s in p.slots if s.inst is inst and s.active)
    for quota, _ in inst.kind.quotas:
        active[quota] += world.extra_active.get((inst.idx, quota), 0)
    leaders: Counter[tuple[PostLevel, PostScope]] = Counter(
        (p.appointment.level, p.appointment.scope) for p in people if p.appointment
    )
    return UnitFacts(dict(active), leaders)


def approve_quotas(inst: Institution, facts: UnitFacts, rng: random.Random) -> None:
    """Approved quota per type: headcount plus at least two vacancies (room for one late second slot)."""
    for quota, _ in inst.kind.quotas:
        n = facts.active.get(quota, 0)
        inst.hds[quota] = n + max(2, round(n * rng.uniform(0.03, 0.15)))


def document(inst: Institution, office: str, year: int, rng: random.Random) -> str:
    """A document number such as 阿左编发〔2021〕17号."""
    return f"{REGION_SHORT.get(inst.home, '阿盟')}{office}〔{year}〕{rng.randint(1, 120)}号"


def ascii_brackets(name: str) -> str:
    """The unit name as systems with half-width brackets write it."""
    return name.replace("（", "(").replace("）", ")")


def unit_rows(inst: Institution, people: list[Person], world: World, rng: random.Random) -> Rows:
    """The rows every department keeps about one institution (after unit-level plants)."""
    parent = world.institutions[inst.parent].jgid if inst.parent is not None else None
    students = None
    if inst.school:
        teachers = sum(1 for p in people if p.employed and p.quota == QuotaType.JS)
        students = round(max(1, teachers) * STUDENT_RATIO[inst.school] * rng.uniform(0.75, 1.05))
    rows: Rows = {
        "T_JG": [
            (
                inst.jgid,
                inst.name,
                inst.written["T_JG"],
                S.JGLB[inst.type],
                S.JGGG[inst.rank],
                S.JFXS[inst.funding],
                inst.region,
                parent,
                inst.school,
                students,
                inst.founded,
                None,
            )
        ],
        "T_BZ": [],
        "T_LDZS": [],
    }
    for quota in sorted(inst.hds, key=lambda q: q.value):
        year = rng.randint(2019, 2024)
        approved = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        rows["T_BZ"].append(
            (inst.jgid, quota.value, inst.hds[quota], document(inst, "编发", year, rng), approved)
        )
    for (level, scope), n in inst.posts.items():
        rows["T_LDZS"].append((inst.jgid, S.ZWCC[level], S.ZSLX[scope], n))
    return rows


def other_unit_rows(inst: Institution, heads: int, deputies: int, rng: random.Random) -> Rows:
    """B01, RS_DW and GZ_DW rows; the organization department's post counts sometimes differ."""
    if rng.random() < 0.1:
        deputies = max(0, deputies + rng.choice((-1, 1)))  # B0185 may disagree with T_LDZS: not a finding
    finance_name = inst.name
    if rng.random() < 0.03:
        cut = len(REGIONS[inst.region])
        finance_name = f"{inst.name[:cut]} {inst.name[cut:]}"  # a stray space typed into the budget system
    return {
        "B01": [
            (inst.b0111, ascii_brackets(inst.name), inst.written["B01"], S.JGGG[inst.rank], heads, deputies)
        ],
        "RS_DW": [(inst.dwbm, ascii_brackets(inst.name), inst.written["RS_DW"], inst.home)],
        "GZ_DW": [(inst.dwdm, finance_name, inst.written["GZ_DW"])],
    }
