"""Institution rules over per-institution aggregates: R04 quotas, R07 leadership posts, R10 USCCs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from hub.core import ids
from hub.core.codes import UNIT_LEVELS, PostLevel, PostScope, Rank
from hub.core.records import Unit
from hub.supervision.facts import World
from hub.supervision.model import Hit
from hub.supervision.world import Aggregates

LEVELS = {PostLevel.HEAD: ("正职", "head"), PostLevel.DEPUTY: ("副职", "deputy")}
RANKS = frozenset(r.value for r in Rank)
ROLES = frozenset(r.value for r in PostLevel)
SCOPES = {PostScope.UNIT: ("单位领导", "unit-level"), PostScope.INTERNAL: ("内设机构", "internal-unit")}


def over_quota(w: World, headcount: dict[tuple[str, str], int], quotas: dict[tuple[str, str], int]) -> Iterator[Hit]:
    """R04: active slots per (JGID, quota type) over the approved quota of that type (0 when none)."""
    for (unit, quota_type), n in sorted(headcount.items()):
        approved = quotas.get((unit, quota_type), 0)
        if n > approved:
            evidence = {"quotaType": quota_type, "approved": approved, "headcount": n, "over": n - approved,
                        "month": w.month}
            yield Hit({"quotaType": quota_type}, evidence, w.institution("registry_slot", unit))


def post_scope(rank: str | None, role: str | None, level_code: str | None) -> str:
    """UNIT when an appointment's level code is the unit's own head/deputy level for its rank, else INTERNAL."""
    if rank in RANKS and role in ROLES:
        head, deputy = UNIT_LEVELS[Rank(rank)]
        own = head if role == PostLevel.HEAD else deputy
        if own and level_code == own:
            return PostScope.UNIT
    return PostScope.INTERNAL


def rank_of(w: World, code: str) -> str | None:
    """An institution's rank: the registry base's, else that of the department keeping appointments."""
    ident = w.crosswalk.identity(code)
    if ident is None:
        return None
    for department, units in ((w.crosswalk.base, w.units), (w.holders["appointment"], w.appointing_units)):
        local = ident.local_id(department)
        unit = units.get(local) if local else None
        if unit is not None and unit.rank:
            return unit.rank
    return None


def over_posts(w: World, appointments: list[tuple[str, str, str, int]], posts: dict[tuple[str, str, str], int]) -> Iterator[Hit]:
    """R07: appointments in post (appointing unit, role, level code, n) over approved posts by level and scope."""
    filled: dict[tuple[str, str, str], int] = {}
    for org_unit, role, level_code, n in appointments:
        code = w.crosswalk.code_of(w.holders["appointment"], org_unit)
        if code is None or not w.placed(code) or role not in ROLES:
            continue
        key = (code, role, post_scope(rank_of(w, code), role, level_code))
        filled[key] = filled.get(key, 0) + n
    for (code, role, scope), n in sorted(filled.items()):
        local = w.crosswalk.identity(code).local_id(w.holders["leadership_post"])  # type: ignore[union-attr]
        approved = posts.get((local or "", role, scope), 0)
        if n > approved:
            (level_zh, level_en), (scope_zh, scope_en) = LEVELS[PostLevel(role)], SCOPES[PostScope(scope)]
            evidence = {"levelZh": level_zh, "levelEn": level_en, "scopeZh": scope_zh, "scopeEn": scope_en,
                        "approved": approved, "filled": n}
            yield Hit({"level": role, "scope": scope}, evidence, code)


def code_problem(code: str) -> str | None:
    """Why a normalized credit code is invalid: 9 characters are an organization code, else a USCC."""
    return ids.org_code_problem(code) if len(code) == 9 else ids.uscc_problem(code)


def bad_credit_codes(w: World, units: dict[str, list[Unit]]) -> Iterator[Hit]:
    """R10: invalid USCCs / organization codes in any department's unit table (blank is not a finding)."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for department, records in units.items():
        for unit in records:
            if not unit.credit_code:
                continue
            problem = code_problem(unit.credit_code)
            if problem is not None:
                code = w.code(department, unit.local_id) or ""
                found.setdefault(code, []).append((department, unit.credit_code, problem))
    for code, bad in sorted(found.items()):
        zh, _, en = bad[0][2].partition(" / ")
        evidence = {"kindZh": "统一社会信用代码", "kindEn": "USCC", "code": ", ".join(c for _, c, _ in bad),
                    "problemZh": zh, "problemEn": en or zh, "sources": ", ".join(d for d, _, _ in bad)}
        yield Hit({"codes": sorted(f"{d}:{c}" for d, c, _ in bad)}, evidence, code)


@dataclass(frozen=True, slots=True)
class InstitutionRule:
    """How the engine applies an institution rule: its check over the run's aggregates.

    `before_persons`: the check reads every department's unit list, which is released before the
    person pass, so it is computed first (its findings still come out after the person rules').
    A rule is added by declaring it here.
    """

    check: Callable[[World, Aggregates], Iterable[Hit]]
    before_persons: bool = False


INSTITUTION_RULES: dict[str, InstitutionRule] = {
    "R04": InstitutionRule(lambda w, agg: over_quota(w, agg.headcount, agg.quotas)),
    "R07": InstitutionRule(lambda w, agg: over_posts(w, agg.appointments, agg.posts)),
    "R10": InstitutionRule(lambda w, agg: bad_credit_codes(w, agg.units), before_persons=True),
}
