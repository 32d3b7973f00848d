"""The clean population of one institution: people, their slots, posts, titles and appointments."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TypeVar

from hub.core import ids
from hub.core.codes import (
    EmploymentStatus,
    Funding,
    InsuranceStatus,
    PersonnelCategory,
    PostCategory,
    QuotaType,
    SlotStatus,
)
from hub.core.retirement import RULES, add_months, delay_months, retirement_date, retirement_group
from hub.demo import names as N
from hub.demo.cadres import Appointment, appoint
from hub.demo.draws import Weighted, choice, randint, weighted
from hub.demo.institutions import Institution
from hub.demo.spellings import LEFT_REASON, TRANSFER_REASON
from hub.demo.world import World, years_after

C = PersonnelCategory
E = EmploymentStatus
T = TypeVar("T")
FATES = ((E.EMPLOYED, 91.0), (E.RETIRED, 5.0), (E.RESIGNED, 1.5), (E.DECEASED, 0.5), (E.TRANSFERRED_OUT, 2.0))
EDUCATION: dict[PersonnelCategory, tuple[tuple[str, float], ...]] = {  # GB/T 4658 code, weight
    C.CIVIL_SERVANT: (("14", 12), ("21", 70), ("31", 18)),
    C.CIVIL_SERVICE_PI: (("14", 8), ("21", 66), ("31", 26)),
    C.PI_MANAGEMENT: (("14", 8), ("21", 60), ("31", 32)),
    C.PI_TECHNICAL: (("14", 9), ("21", 64), ("31", 27)),
    C.PI_WORKER: (("31", 20), ("41", 30), ("61", 40), ("71", 10)),
}
TITLES = {  # by 职称 level 1 正高 … 5 员级
    "school": ("正高级教师", "高级教师", "一级教师", "二级教师", "三级教师"),
    "medical": ("主任医师", "副主任医师", "主治医师", "医师", "医士"),
    "other": ("正高级工程师", "高级工程师", "工程师", "助理工程师", "技术员"),
}

_ETHNIC = Weighted(N.ETHNIC_WEIGHTS.items())
_HOME_BANNER = Weighted(N.HOME_BANNERS.items())


@dataclass(slots=True, eq=False)
class Slot:
    """One registry (实名制) slot: a person holding a quota place of a type in an institution."""

    inst: Institution
    quota: QuotaType
    entered: dt.date
    left: dt.date | None = None
    reason: str | None = None
    status: SlotStatus = SlotStatus.ACTIVE
    plan: str | None = None
    plan_fault: str | None = None  # planted R13 reading, or "shared" for the partner of an exhausted plan
    partner: Slot | None = None

    @property
    def active(self) -> bool:
        """Active at the reference month (left slots carry a date, active ones never do)."""
        return self.status != SlotStatus.LEFT


@dataclass(slots=True, eq=False)
class Person:
    """One person as the truth; per-source overrides below are where planted anomalies live."""

    seq: int
    inst: Institution
    quota: QuotaType
    category: PersonnelCategory
    male: bool
    birth: dt.date
    name: str
    surname: int
    ethnic: str
    education: str
    origin: str  # banner that issued the ID number
    start_work: dt.date
    fate: EmploymentStatus
    fate_date: dt.date | None
    slots: list[Slot]
    # PI post: category, grade, since, and since when the previous (lower) grade was held
    post: tuple[PostCategory, int, dt.date, dt.date | None] | None = None
    title: tuple[str, int, dt.date] | None = None
    subject: str | None = None
    appointment: Appointment | None = None
    cadre: bool = False
    transferred: bool = False
    id_number: str = ""
    bad_id: bool = False
    names: dict[str, str] = field(default_factory=dict)
    births: dict[str, dt.date] = field(default_factory=dict)
    sexes: dict[str, bool] = field(default_factory=dict)
    hr_category: PersonnelCategory | None = None
    hr_fate: tuple[EmploymentStatus, dt.date] | None = None
    in_registry: bool = True
    in_hr: bool = True
    payee: bool = True
    pay_to: int | None = None  # override of the last paid month index
    pay_unit: Institution | None = None
    scale_swap: bool = False
    off_quota: bool = False
    insurance: InsuranceStatus = InsuranceStatus.INSURED
    pension: bool = True
    extra_payee: tuple[Institution, int] | None = None
    plant: str | None = None

    @property
    def employed(self) -> bool:
        """Still working (the registry view may differ when an anomaly is planted)."""
        return self.fate == E.EMPLOYED

    @property
    def worker(self) -> bool:
        """In a worker post for the retirement rule (GQ slot or PI worker)."""
        return self.quota == QuotaType.GQ or self.category == C.PI_WORKER


def _pick(rng: random.Random, pairs: tuple[tuple[T, float], ...]) -> T:
    return weighted(pairs).pick(rng)


def _category(quota: QuotaType, mix: tuple[float, float, float], rng: random.Random) -> PersonnelCategory:
    fixed = {QuotaType.XZ: C.CIVIL_SERVANT, QuotaType.ZF: C.CIVIL_SERVANT, QuotaType.CG: C.CIVIL_SERVICE_PI}
    if quota in fixed:
        return fixed[quota]
    if quota == QuotaType.GQ:
        return C.PI_WORKER
    return weighted(tuple(zip((C.PI_MANAGEMENT, C.PI_TECHNICAL, C.PI_WORKER), mix, strict=True))).pick(rng)


def active_birth(rng: random.Random, male: bool, worker: bool, world: World) -> dt.date:
    """A birth date of someone working at the reference month, before statutory retirement."""
    group = retirement_group("male" if male else "female", worker)
    for _ in range(30):
        age = rng.triangular(22.2, 62.0, 41.0)
        birth = years_after(world.ref_end, -age) - dt.timedelta(days=randint(rng, 0, 27))
        if retirement_date(birth, group) > world.ref_end:
            return birth
    return years_after(world.ref_end, -35)


def birth_retiring_on(target: dt.date, male: bool, worker: bool) -> dt.date:
    """A birth date whose statutory retirement falls on or just before `target`."""
    group = retirement_group("male" if male else "female", worker)
    rule = RULES[group]
    birth = add_months(target, -rule.original_age * 12)
    for _ in range(4):  # the delay depends on the birth month: settle it
        birth = add_months(target, -(rule.original_age * 12 + delay_months(birth, group)))
    while retirement_date(birth, group) > target:
        birth = add_months(birth, -1)
    return birth


def _dates(p_birth: dt.date, founded: dt.date, until: dt.date, rng: random.Random) -> tuple[dt.date, dt.date]:
    """(started work, entered the slot) no later than `until`."""
    start = years_after(p_birth, rng.uniform(19.0, 26.0))
    cap = until - dt.timedelta(days=30)
    if start > cap:
        start = max(years_after(p_birth, 18), cap - dt.timedelta(days=randint(rng, 0, 200)))
    entered = min(max(start + dt.timedelta(days=randint(rng, 0, 300)), founded), cap)
    return start, max(entered, start)


def _person(inst: Institution, rng: random.Random, world: World) -> Person:
    kind = inst.kind
    quota = _pick(rng, kind.quotas)
    category = _category(quota, kind.pi_mix, rng)
    male = rng.random() < kind.male
    ethnic = _ETHNIC.pick(rng)
    name, surname = N.person_name(rng, ethnic, male)
    education = _pick(rng, EDUCATION[category])
    origin = inst.home if inst.home in N.BANNERS else _HOME_BANNER.pick(rng)
    fate = _pick(rng, FATES)
    worker = quota == QuotaType.GQ or category == C.PI_WORKER
    left: dt.date | None = None
    if fate == E.RETIRED:
        target = world.ref_end - dt.timedelta(days=randint(rng, 0, 5 * 365))
        birth = birth_retiring_on(target, male, worker)
        left = retirement_date(birth, retirement_group("male" if male else "female", worker))
    else:
        birth = active_birth(rng, male, worker, world)
        if fate != E.EMPLOYED:  # left within the last four years, never before turning 21
            left = world.ref_end - dt.timedelta(days=randint(rng, 0, 4 * 365))
            left = min(
                world.ref_end, max(left, years_after(birth, 21) + dt.timedelta(days=randint(rng, 0, 200)))
            )
    start, entered = _dates(birth, inst.founded, left or world.ref_end, rng)
    slot = Slot(inst, quota, entered)
    if left:
        slot.left, slot.reason, slot.status = left, LEFT_REASON[fate], SlotStatus.LEFT
    seq = world.next_code("person")
    p = Person(seq, inst, quota, category, male, birth, name, surname, ethnic, education, origin, start, fate,
               left, [slot])  # fmt: skip
    if fate == E.EMPLOYED and entered < years_after(world.ref_end, -3) and rng.random() < 0.03:
        _transfer(p, rng, world)
    elif fate == E.EMPLOYED and rng.random() < 0.01:
        slot.status = SlotStatus.SECONDED
    if fate != E.EMPLOYED:
        p.insurance = InsuranceStatus.ENDED
    if fate == E.EMPLOYED and inst.funding == Funding.SELF and rng.random() < 0.1:
        p.payee = False  # self-funded units pay some staff themselves: not on the unified payroll
    _career(p, rng, world)
    return p


def _transfer(p: Person, rng: random.Random, world: World) -> None:
    """Moved here from another institution (same quota type): old slot left, new one entered."""
    old = world.other_institution(p.quota, p.inst.idx, rng)
    if old is None:
        return
    first = p.slots[0]
    moved = first.entered + dt.timedelta(days=randint(rng, 365, (world.ref_end - first.entered).days - 30))
    p.slots = [
        Slot(old, p.quota, first.entered, moved, TRANSFER_REASON, SlotStatus.LEFT),
        Slot(p.inst, p.quota, moved),
    ]
    p.transferred = True


def _career(p: Person, rng: random.Random, world: World) -> None:
    """Post grade, title and teaching subject of public-institution staff."""
    until = p.fate_date or world.ref_end
    if p.category in (C.CIVIL_SERVANT, C.CIVIL_SERVICE_PI):
        return
    service = max(0, (until - p.slots[0].entered).days // 365)
    if p.category == C.PI_MANAGEMENT:
        post, grade = PostCategory.MANAGEMENT, max(7, 10 - service // 6)
    elif p.category == C.PI_WORKER:
        post, grade = PostCategory.WORKER, max(1, 5 - service // 7)
    else:
        post, grade = PostCategory.TECHNICAL, max(2, 13 - service // 3 - randint(rng, 0, 2))
    since = min(until, p.slots[0].entered + dt.timedelta(days=365 * min(service, randint(rng, 0, 12))))
    earlier = p.slots[0].entered if since > p.slots[0].entered + dt.timedelta(days=400) else None
    p.post = (post, grade, since, earlier)
    if post == PostCategory.TECHNICAL:
        band = 1 if grade <= 4 else 2 if grade <= 7 else 3 if grade <= 10 else 4 if grade <= 12 else 5
        family = {"hospital": "medical", "clinic": "medical"}.get(p.inst.kind.key, "other")
        family = "school" if p.quota == QuotaType.JS else family
        p.title = (TITLES[family][band - 1], band, since)
        if p.quota == QuotaType.JS:
            p.subject = choice(rng, N.TEACHING_SUBJECTS)


def build_people(inst: Institution, world: World) -> list[Person]:
    """The clean people of an institution (active and departed), leaders chosen, IDs not yet minted."""
    rng = world.rng("people", inst.idx)
    people = [_person(inst, rng, world) for _ in range(inst.size)]
    appoint(inst, people, rng, world)  # leaders come from the unit's own people
    return people


def mint_id(p: Person, world: World) -> None:
    """Give a person a unique valid ID number for their banner, birth date and sex."""
    while True:
        cell = (p.origin, p.birth, p.male)
        k = world.id_cells.get(cell, 0)
        world.id_cells[cell] = k + 1
        if k < 500:
            start = (p.birth.toordinal() * 7 + int(p.origin) * 13) % 500  # spread the sequence digits
            p.id_number = ids.make_id_number(p.origin, p.birth, (start + k * 37) % 500, p.male)
            return
        p.origin = (
            N.BANNERS[(N.BANNERS.index(p.origin) + 1) % len(N.BANNERS)] if p.origin in N.BANNERS else "152921"
        )
