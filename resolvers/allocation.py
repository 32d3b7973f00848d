"""Teacher allocation: each school's teaching staff against the need its enrolment gives, the gaps by
subject, title, education and age band, and suggested moves from surplus to short schools.

Teachers are persons whose describing slot is a `JS` (primary and secondary school staff) quota slot,
counted by `resolvers.stats` (one streamed pass grouped by institution, subject, title level,
education and age band), so they are counted as `stats` counts `HEADCOUNT` with quota type `JS`.
Enrolment and school type come from `enrolments`, the one place that says where they are read.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from hub.core.codes import region_of
from hub.core.settings import Settings
from hub.core.stats import Dimension
from resolvers import institutions as insts_
from resolvers import stats
from resolvers.context import HubContext
from resolvers.institutions import InstitutionView
from resolvers.loaders import UnitsByCode

D = Dimension
TEACHING_QUOTA = "JS"
BREAKDOWNS = (D.SUBJECT, D.TITLE_LEVEL, D.EDUCATION, D.AGE_BAND)
PAGE = 500


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A school's type (小学, 初中, 高中, 完全中学) and its enrolled students (None when unknown)."""

    school_type: str
    students: int | None


async def enrolments(ctx: HubContext, insts: Sequence[InstitutionView]) -> list[Enrolment | None]:
    """Each institution's school type and enrolment (None: not a school). Read from the establishment
    office's unit record (`XXLB`, `ZXSS`) through the unit loader; an education-bureau source would
    supply them here instead."""
    units = await insts_.of_units(ctx, insts, UnitsByCode, ctx.sources.base)
    out: list[Enrolment | None] = []
    for found in units:
        unit = found[0] if found else None
        out.append(Enrolment(unit.school_type, unit.students) if unit is not None and unit.school_type else None)
    return out


def ratio(settings: Settings, school_type: str) -> float | None:
    """Students per staff member for a school type (None for a type the standard does not name)."""
    return {"小学": settings.teacher_ratio_primary, "初中": settings.teacher_ratio_junior,
            "高中": settings.teacher_ratio_senior, "完全中学": settings.teacher_ratio_complete}.get(school_type)


def _marked(name: str | None, markers: Sequence[str]) -> bool:
    return bool(name) and any(m and m in (name or "") for m in markers)


@dataclass(slots=True)
class School:
    """One school's allocation."""

    institution: InstitutionView
    enrolment: Enrolment
    boarding: bool
    mongolian_medium: bool
    ratio: float | None
    allowance: float
    need: int | None  # ceil(students / ratio × (1 + allowance)); None without enrolment or ratio
    teachers: int
    profile: dict[Dimension, dict[str | None, int]] = field(default_factory=dict)

    @property
    def gap(self) -> int | None:
        """Teachers minus need: positive a surplus, negative a shortage."""
        return None if self.need is None else self.teachers - self.need


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Teachers of one value of a dimension against the need apportioned to it, added over the schools."""

    value: str | None
    teachers: int
    expected: float
    shortage: float
    surplus: float


@dataclass(frozen=True, slots=True)
class Move:
    """Suggested: `teachers` from a surplus school to a short school of the same banner."""

    source: InstitutionView
    target: InstitutionView
    teachers: int
    same_region: bool


@dataclass(slots=True)
class Allocation:
    schools: list[School]
    breakdowns: dict[Dimension, list[Breakdown]]
    moves: list[Move]


def _need(settings: Settings, enrolment: Enrolment, per: float | None, allowance: float) -> int | None:
    if enrolment.students is None or per is None:
        return None
    return math.ceil(round(enrolment.students / per * (1 + allowance), 6))


async def _schools(ctx: HubContext, region_code: str | None) -> list[tuple[InstitutionView, Enrolment]]:
    found: list[tuple[InstitutionView, Enrolment]] = []
    after = None
    while True:
        page = await insts_.page(ctx, PAGE, after, region_code, None, None, None)
        for view, enrolment in zip(page.items, await enrolments(ctx, page.items), strict=True):
            if enrolment is not None:
                found.append((view, enrolment))
        if not page.more or page.end is None:
            return found
        after = page.end


def _breakdown(schools: Sequence[School], dim: Dimension) -> list[Breakdown]:
    """Per value: teachers, and the need apportioned by the value's share of the teachers in scope;
    shortage and surplus add up each school's shortfall and excess (one school's excess never offsets
    another's shortfall)."""
    totals: dict[str | None, int] = defaultdict(int)
    for s in schools:
        for value, n in s.profile.get(dim, {}).items():
            totals[value] += n
    everyone = sum(totals.values())
    rows = []
    for value in sorted(totals, key=lambda v: (v is None, str(v))):
        share = totals[value] / everyone if everyone else 0.0
        expected = shortage = surplus = 0.0
        for s in schools:
            if s.need is None:
                continue
            want = s.need * share
            have = s.profile.get(dim, {}).get(value, 0)
            expected += want
            shortage += max(want - have, 0.0)
            surplus += max(have - want, 0.0)
        rows.append(Breakdown(value, totals[value], round(expected, 1), round(shortage, 1), round(surplus, 1)))
    return rows


def _distance(a: InstitutionView, b: InstitutionView) -> tuple[int, int, str]:
    """Closer first: the same division code, then the nearer division code (as a number), then the code."""
    ra, rb = a.identity.region_code or "", b.identity.region_code or ""
    apart = abs(int(ra) - int(rb)) if ra.isdigit() and rb.isdigit() else 10**12
    return (0 if ra == rb else 1, apart, b.identity.code)


def moves(schools: Sequence[School]) -> list[Move]:
    """Greedy, within each banner: the school short of most teachers first (then by code) takes from the
    closest surplus schools until its shortage or the banner's surplus is used up."""
    out: list[Move] = []
    spare = {id(s): s.gap for s in schools if s.gap and s.gap > 0}
    short = sorted((s for s in schools if s.gap is not None and s.gap < 0),
                   key=lambda s: (s.gap, s.institution.identity.code))
    for target in short:
        wanted = -(target.gap or 0)
        banner = region_of(target.institution.identity.region_code)
        sources = sorted((s for s in schools if spare.get(id(s)) and region_of(s.institution.identity.region_code) == banner),
                         key=lambda s: _distance(target.institution, s.institution))
        for source in sources:
            if wanted == 0:
                break
            n = min(wanted, spare[id(source)] or 0)
            spare[id(source)] = (spare[id(source)] or 0) - n
            wanted -= n
            out.append(Move(source.institution, target.institution, n,
                            source.institution.identity.region_code == target.institution.identity.region_code))
    return out


async def allocation(ctx: HubContext, region_code: str | None) -> Allocation:
    """The league's (or a region's) schools in the caller's scope, their need and teachers, the gaps and moves."""
    by = [D.INSTITUTION, *BREAKDOWNS]
    counted = await stats.exact_headcounts(ctx, by, stats.StatsFilter(region_code=region_code, quota_type=TEACHING_QUOTA),
                                           "教师配置 / teacher allocation")
    profiles: dict[str, dict[Dimension, dict[str | None, int]]] = defaultdict(lambda: {d: defaultdict(int) for d in BREAKDOWNS})
    for key, n in counted:
        code, *values = key
        for dim, value in zip(BREAKDOWNS, values, strict=True):
            profiles[str(code)][dim][None if value is None else str(value)] += n
    settings = ctx.settings
    schools = []
    for view, enrolment in await _schools(ctx, region_code):
        boarding = _marked(view.identity.name, settings.boarding_markers)
        mongolian = _marked(view.identity.name, settings.mongolian_medium_markers)
        allowance = boarding * settings.boarding_allowance + mongolian * settings.mongolian_medium_allowance
        per = ratio(settings, enrolment.school_type)
        profile = profiles.get(view.identity.code, {d: {} for d in BREAKDOWNS})
        teachers = sum(profile[D.SUBJECT].values())
        schools.append(School(view, enrolment, boarding, mongolian, per, allowance, _need(settings, enrolment, per, allowance),
                              teachers, {d: dict(v) for d, v in profile.items()}))
    return Allocation(schools, {d: _breakdown(schools, d) for d in BREAKDOWNS}, moves(schools))
