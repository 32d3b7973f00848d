"""Identity rules: the ID number itself (R10), birth date and sex (R11) and names (R12) across sources."""

from __future__ import annotations

from hub.core import ids
from hub.supervision.facts import Facts, World
from hub.supervision.model import Hit, listing


def _sources(p: Facts) -> str:
    kinds = (("establishment", p.view.slots), ("hr", p.view.personnel or p.view.insurance),
             ("organization", p.view.cadres), ("finance", p.view.payees or p.view.pay))
    return ", ".join(name for name, records in kinds if records)


def invalid_id(p: Facts, w: World) -> Hit | None:
    """R10: the normalized ID number fails GB 11643 (format, birth date or check digit)."""
    problem = ids.id_number_problem(p.id_number)
    if problem is None:
        return None
    zh, _, en = problem.partition(" / ")
    evidence = {"kindZh": "身份证号码", "kindEn": "ID number", "code": p.id_number, "problemZh": zh,
                "problemEn": en or zh, "sources": _sources(p)}
    return Hit({"problem": en or zh}, evidence, p.home(w))


def _disagree(values: list[tuple[str, str]]) -> bool:
    """Whether any two (source, value) pairs differ at their common precision."""
    for i, (_, a) in enumerate(values):
        for _, b in values[i + 1:]:
            n = min(len(a), len(b))
            if a[:n] != b[:n]:
                return True
    return False


def birth_sex_mismatch(p: Facts, w: World) -> Hit | None:
    """R11: birth date (at each source's precision) or sex disagrees with the ID number or across sources."""
    v = p.view
    births = [(src, r.birth) for src, records in (("establishment", v.slots), ("hr", v.personnel),
              ("organization", v.cadres), ("insurance", v.insurance)) for r in records if r.birth]
    sexes = [(src, r.sex) for src, records in (("establishment", v.slots), ("hr", v.personnel),
             ("organization", v.cadres), ("insurance", v.insurance), ("finance", v.payees))
             for r in records if r.sex in ("MALE", "FEMALE")]
    born = ids.id_birth_date(p.id_number) if len(p.id_number) == 18 and p.id_number[:17].isdigit() else None
    if born is not None:
        births.insert(0, ("ID", born.isoformat()))
        sexes.insert(0, ("ID", "MALE" if ids.id_sex(p.id_number) == "male" else "FEMALE"))
    bad_birth = _disagree(births)
    bad_sex = len({s for _, s in sexes}) > 1
    if not (bad_birth or bad_sex):
        return None
    facts = {"birth": sorted({b for _, b in births}) if bad_birth else [],
             "sex": sorted({s for _, s in sexes}) if bad_sex else []}
    evidence = {"births": listing(births) if bad_birth else "—", "sexes": listing(sexes) if bad_sex else "—"}
    return Hit(facts, evidence, p.home(w))


def name_mismatch(p: Facts, w: World) -> Hit | None:
    """R12: the same ID number carries different normalized names in different records."""
    v = p.view
    names = [(src, r.name) for src, records in (("establishment", v.slots), ("hr", v.personnel),
             ("insurance", v.insurance), ("organization", v.cadres), ("finance", v.payees)) for r in records if r.name]
    if len({n for _, n in names}) < 2:
        return None
    return Hit({"names": sorted({n for _, n in names})}, {"names": listing(names)}, p.home(w))
