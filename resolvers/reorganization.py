"""Reorganization planning: for a set of institutions to be merged, their staff structure, quotas and
leadership posts, the retirements of the next five years, and the merged institution's quotas and posts
(their sum, or targets given) against the people moved into it.

Everything is read through the code that answers the same question elsewhere: staff structure is
`stats` `HEADCOUNT` over the set (persons, each once, at their describing slot among the set's
institutions), quotas and posts are the institutions' `quota_lines` and `post_lines`, retirements are
the retirement forecast of each institution.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hub.core.errors import BadUserInput, Forbidden
from hub.core.stats import Dimension
from policies.access import Access
from resolvers import forecast, stats
from resolvers import institutions as insts_
from resolvers.context import HubContext
from resolvers.institutions import InstitutionView, PostLine, QuotaLine

D = Dimension
STRUCTURE = (D.QUOTA_TYPE, D.POST_CATEGORY, D.EDUCATION, D.AGE_BAND, D.SEX)
YEARS = 5
MAX_INSTITUTIONS = 50


@dataclass(frozen=True, slots=True)
class Count:
    """Persons with one value of a structure dimension, in one institution (None: the whole set)."""

    institution: str | None
    dimension: Dimension
    value: str | None
    persons: int


@dataclass(frozen=True, slots=True)
class Retiring:
    """Persons of an institution reaching retirement in the next five years, by quota type of the slots they free."""

    institution: str
    quota_type: str | None
    persons: int  # persons whose describing slot has this quota type
    slots: int  # slots of this quota type they free


@dataclass(frozen=True, slots=True)
class Balance:
    """One quota type (or post) of the merged institution: approved (sum or target) against what moves in."""

    key: tuple[str, ...]
    approved: int
    summed: int  # the institutions' approved, added up
    moved: int  # persons (quota types) or appointments in post (posts) moving in
    freed: int  # slots freed by retirements within five years (quotas; 0 for posts)

    @property
    def over(self) -> int:
        return max(self.moved - self.approved, 0)

    @property
    def under(self) -> int:
        return max(self.approved - self.moved, 0)


@dataclass(slots=True)
class Plan:
    institutions: list[InstitutionView]
    structure: list[Count]
    quotas: list[tuple[InstitutionView, list[QuotaLine]]]
    posts: list[tuple[InstitutionView, list[PostLine]]]
    retirements: list[Retiring]
    merged_quotas: list[Balance]
    merged_posts: list[Balance]
    persons: int


async def _institutions(ctx: HubContext, codes: Sequence[str]) -> list[InstitutionView]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not 1 <= len(wanted) <= MAX_INSTITUTIONS:
        raise BadUserInput(f"须给出 1 到 {MAX_INSTITUTIONS} 个机构代码 / give 1 to {MAX_INSTITUTIONS} institution codes",
                           field="institutionCodes")
    found: list[InstitutionView] = []
    for code in wanted:
        view = await insts_.by_code(ctx, code)
        if view is None:
            raise BadUserInput(f"没有机构 {code} / no institution {code}", field="institutionCodes")
        if all(v.identity.code != view.identity.code for v in found):
            found.append(view)
    return found


async def _retirements(ctx: HubContext, view: InstitutionView) -> list[Retiring]:
    if ctx.grants.access("Query", "retirementForecast") is not Access.READ:
        raise Forbidden("机构改革方案包含退休预测，需有退休预测权限 / a reorganization plan includes the retirement forecast, "
                        "which this role may not read", field="Query.retirementForecast")
    found = await forecast.forecast(ctx, YEARS, [forecast.ForecastDimension.QUOTA_TYPE], None,
                                    institution_code=view.identity.code)
    persons: Counter[str | None] = Counter()
    slots: Counter[str | None] = Counter()
    for row in found.rows:
        persons[row.keys[forecast.ForecastDimension.QUOTA_TYPE]] += len(row.people)
        for quota_type, n in row.vacancies.items():
            slots[quota_type or None] += n
    return [Retiring(view.identity.code, q, persons[q], slots[q])
            for q in sorted(persons.keys() | slots.keys(), key=lambda v: (v is None, v or ""))]


def _balances(summed: Mapping[tuple[str, ...], int], moved: Mapping[tuple[str, ...], int], freed: Mapping[tuple[str, ...], int],
              targets: Mapping[tuple[str, ...], int]) -> list[Balance]:
    keys = sorted(set(summed) | set(moved) | set(targets))
    return [Balance(k, targets.get(k, summed.get(k, 0)), summed.get(k, 0), moved.get(k, 0), freed.get(k, 0)) for k in keys]


async def plan(ctx: HubContext, codes: Sequence[str], quota_targets: Mapping[str, int] | None = None,
               post_targets: Mapping[tuple[str, str], int] | None = None) -> Plan:
    """The plan for merging the institutions with these codes (targets replace the summed approvals per type)."""
    for n in [*(quota_targets or {}).values(), *(post_targets or {}).values()]:
        if n < 0:
            raise BadUserInput(f"目标不能为负 / a target cannot be negative: {n}", field="targets")
    views = await _institutions(ctx, codes)
    flt = stats.StatsFilter(institution_codes=tuple(v.identity.code for v in views))
    counted = await stats.exact_headcounts(ctx, [D.INSTITUTION, *STRUCTURE], flt, "机构改革方案 / a reorganization plan")
    quota_lines, post_lines = await asyncio.gather(insts_.quota_lines(ctx, views), insts_.post_lines(ctx, views))
    retirements = [r for v in views for r in await _retirements(ctx, v)]

    per: dict[tuple[str | None, Dimension, str | None], int] = defaultdict(int)
    moved_quota: dict[tuple[str, ...], int] = defaultdict(int)
    for (code, *values), n in counted:
        for dim, value in zip(STRUCTURE, values, strict=True):
            shown = None if value is None else str(value)
            per[(str(code), dim, shown)] += n
            per[(None, dim, shown)] += n
        moved_quota[(str(values[0] or ""),)] += n
    order = {d: i for i, d in enumerate(STRUCTURE)}
    structure = [Count(i, d, v, n) for (i, d, v), n in
                 sorted(per.items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or "", order[kv[0][1]], kv[0][2] is None,
                                                     kv[0][2] or ""))]

    summed_quota: dict[tuple[str, ...], int] = defaultdict(int)
    for lines in quota_lines:
        for q in lines:
            summed_quota[(q.quota_type,)] += q.approved
    freed: dict[tuple[str, ...], int] = defaultdict(int)
    for r in retirements:
        freed[(r.quota_type or "",)] += r.slots
    summed_post: dict[tuple[str, ...], int] = defaultdict(int)
    filled: dict[tuple[str, ...], int] = defaultdict(int)
    for posts in post_lines:
        for p in posts:
            summed_post[(p.level, p.scope)] += p.approved
            filled[(p.level, p.scope)] += p.filled or 0
    return Plan(
        views, structure, list(zip(views, quota_lines, strict=True)), list(zip(views, post_lines, strict=True)), retirements,
        _balances(summed_quota, moved_quota, freed, {(k,): v for k, v in (quota_targets or {}).items()}),
        _balances(summed_post, filled, {}, {k: v for k, v in (post_targets or {}).items()}),
        sum(n for _, n in counted),
    )
