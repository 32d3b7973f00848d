"""Identity rules: the ID number itself (R10), birth date and sex (R11) and names (R12) across sources.

Each value is listed with its source: the department keeping the record's entity (World.holders),
and `insurance` for the insurance records (kept apart from the same department's personnel file).
"""

from __future__ import annotations

from typing import Any

from hub.core import ids
from hub.supervision.facts import Facts, World
from hub.supervision.model import Hit, listing


def _sources(p: Facts, w: World) -> str:
    v = p.view
    kinds = ((w.source("registry_slot"), v.slots), (w.source("personnel"), v.personnel or v.insurance),
             (w.source("cadre"), v.cadres), (w.source("payee"), v.payees or v.pay))
    return ", ".join(name for name, records in kinds if records)


def _labelled(p: Facts, w: World, entities: tuple[str, ...]) -> list[tuple[str, list[Any]]]:
    """(source label, records) of the person for each entity, in the order given."""
    records: dict[str, list[Any]] = {"registry_slot": p.view.slots, "personnel": p.view.personnel, "cadre": p.view.cadres,
               "insurance": p.view.insurance, "payee": p.view.payees}
    return [(e if e == "insurance" else w.source(e), records[e]) for e in entities]


def invalid_id(p: Facts, w: World) -> Hit | None:
    """R10: the normalized ID number fails GB 11643 (format, birth date or check digit)."""
    problem = ids.id_number_problem(p.id_number)
    if problem is None:
        return None
    zh, _, en = problem.partition(" / ")
    evidence = {"kindZh": "身份证号码", "kindEn": "ID number", "code": p.id_number, "problemZh": zh,
                "problemEn": en or zh, "sources": _sources(p, w)}
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
    births = [(src, r.birth) for src, records in _labelled(p, w, ("registry_slot", "personnel", "cadre", "insurance"))
              for r in records if r.birth]
    sexes = [(src, r.sex) for src, records in _labelled(p, w, ("registry_slot", "personnel", "cadre", "insurance", "payee"))
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
    names = [(src, r.name) for src, records in _labelled(p, w, ("registry_slot", "personnel", "insurance", "cadre", "payee"))
             for r in records if r.name]
    if len({n for _, n in names}) < 2:
        return None
    return Hit({"names": sorted({n for _, n in names})}, {"names": listing(names)}, p.home(w))
