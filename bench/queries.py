"""The benchmark queries for both servers, and the canonical form their answers are compared in.

The hub answers in canonical values (normalized ID numbers and names, crosswalk institution codes);
PostGraphile answers with the legacy columns. Both answers are brought to one form: ID numbers and
names normalized with hub.core.ids (PostGraphile's masked and derived fields are computed in SQL by
bench/postgraphile/setup.sql, see there), institutions as the establishment office's unit id
(JGID; a hub code is mapped to it with the hub's own `sourceUnits`), months as YYYY-MM.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.core.ids import normalize_id_number, normalize_name

ACTIVE = '{ryzt: {in: ["在编", "借调"]}, cbrq: {isNull: true}}'  # the hub's ACTIVE_SLOT, as a filter

HUB_Q1 = """query Q1($id: String!) { person(idNumber: $id) {
  idNumber name institution { code name } payroll { entries(last: 12) { month gross net } } } }"""
PG_Q1 = """query Q1($id: String!) {
  allTSmzs(condition: {sfzh: $id}, orderBy: RYID_ASC) { nodes { sfzh xm ryzt cbrq tJgByJgid { jgid jgmc } } }
  allGzRies(condition: {sfzh: $id}, orderBy: RYBM_ASC) { nodes { rybm gzYbsByRybm(orderBy: GZNY_DESC, first: 12) {
    nodes { gzny yfhj sfhj } } } } }"""

HUB_Q2 = """{ institutions(first: 100) { edges { node {
  code name quotas { quotaType approved occupied } people { idNumber name } } } } }"""
PG_Q2 = f"""{{ allTJgs(first: 100, orderBy: JGID_ASC, filter: {{cxrq: {{isNull: true}}}}) {{ nodes {{
  jgid jgmc tBzsByJgid(orderBy: BZLX_ASC) {{ nodes {{ bzlx hds }} }}
  tSmzsByJgid(filter: {ACTIVE}, orderBy: RYID_ASC) {{ nodes {{ sfzh xm bzlx }} }} }} }} }}"""

HUB_Q3 = """{ people(first: 10000) { edges { node {
  idNumber name sex birthDate institution { code name } } } } }"""
PG_Q3 = f"""{{ allTSmzs(first: 10000, orderBy: RYID_ASC, filter: {ACTIVE}) {{ nodes {{
  sfzh xm idSex idBirthDate tJgByJgid {{ jgid jgmc }} }} }} }}"""
PG_Q3_MASKED = f"""{{ allTSmzMaskeds(first: 10000, orderBy: RYID_ASC, filter: {ACTIVE}) {{ nodes {{
  sfzhMasked xmMasked idSex idBirth tJgByJgid {{ jgid jgmc }} }} }} }}"""

# Hub institution code -> the establishment office's unit id, from the hub's crosswalk.
HUB_UNITS = """{ institutions(first: 10000) { edges { node { code sourceUnits { department localCode } } } } }"""
HUB_UNIT = """query Unit($code: String!) { institution(code: $code) { code sourceUnits { department localCode } } }"""

Units = dict[str, str]


def body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    """A GraphQL POST body."""
    return json.dumps({"query": query, "variables": variables or {}}, ensure_ascii=False).encode()


def _id(raw: str | None) -> str | None:
    return normalize_id_number(raw)


def _unit(units: Units, inst: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(JGID, name) of a hub institution."""
    if inst is None:
        return (None, None)
    return (units.get(inst["code"], "?" + inst["code"]), inst["name"])


def _pg_unit(jg: dict[str, Any] | None) -> tuple[str | None, str | None]:
    return (None, None) if jg is None else (jg["jgid"], normalize_name(jg["jgmc"]))


def hub_q1(data: dict[str, Any], units: Units) -> Any:
    """Canonical Q1 from the hub."""
    p = data["person"]
    if p is None:
        return None
    entries = [(e["month"], e["gross"], e["net"]) for e in (p["payroll"] or {"entries": []})["entries"]]
    return {"id": p["idNumber"], "name": p["name"], "unit": _unit(units, p["institution"]), "pay": entries}


def pg_q1(data: dict[str, Any], units: Units) -> Any:
    """Canonical Q1 from PostGraphile (the ID has exactly one slot and one payee, see dataset.py)."""
    slots = data["allTSmzs"]["nodes"]
    if not slots:
        return None
    slot = slots[0]
    payees = data["allGzRies"]["nodes"]
    pay = payees[0]["gzYbsByRybm"]["nodes"] if payees else []
    entries = [(f"{e['gzny'][:4]}-{e['gzny'][4:6]}", int(e["yfhj"]), int(e["sfhj"])) for e in pay]
    return {"id": _id(slot["sfzh"]), "name": normalize_name(slot["xm"]), "unit": _pg_unit(slot["tJgByJgid"]), "pay": entries}


def hub_q2(data: dict[str, Any], units: Units) -> Any:
    """Canonical Q2 from the hub (people as a sorted list: the hub returns them in database order)."""
    out = []
    for edge in data["institutions"]["edges"]:
        n = edge["node"]
        quotas = sorted((q["quotaType"], q["approved"], q["occupied"]) for q in n["quotas"])
        people = sorted((p["idNumber"], p["name"]) for p in n["people"])
        out.append({"unit": _unit(units, n), "quotas": quotas, "people": people})
    return out


def pg_q2(data: dict[str, Any], units: Units) -> Any:
    """Canonical Q2 from PostGraphile: occupied = the unit's active slots of each quota type."""
    out = []
    for n in data["allTJgs"]["nodes"]:
        slots = n["tSmzsByJgid"]["nodes"]
        occupied: dict[str, int] = {}
        for s in slots:
            occupied[s["bzlx"]] = occupied.get(s["bzlx"], 0) + 1
        quotas = [(q["bzlx"], q["hds"], occupied.pop(q["bzlx"], 0)) for q in n["tBzsByJgid"]["nodes"]]
        quotas += [(t, 0, k) for t, k in occupied.items() if t]
        people = sorted((_id(s["sfzh"]), normalize_name(s["xm"])) for s in slots if s["sfzh"])
        out.append({"unit": _pg_unit(n), "quotas": sorted(quotas), "people": people})
    return out


def hub_q3(data: dict[str, Any], units: Units) -> Any:
    """Canonical Q3 (and its masked variant) from the hub."""
    return [
        (n["idNumber"], n["name"], n["sex"], n["birthDate"], _unit(units, n["institution"]))
        for n in (e["node"] for e in data["people"]["edges"])
    ]


def pg_q3(data: dict[str, Any], units: Units) -> Any:
    """Canonical Q3 from PostGraphile (slots without an ID number are no person, as in the hub)."""
    return [
        (_id(n["sfzh"]), normalize_name(n["xm"]), n["idSex"], n["idBirthDate"], _pg_unit(n["tJgByJgid"]))
        for n in data["allTSmzs"]["nodes"]
        if n["sfzh"]
    ]


def pg_q3_masked(data: dict[str, Any], units: Units) -> Any:
    """Canonical masked Q3 from PostGraphile (masked in SQL for the restricted role)."""
    return [
        (n["sfzhMasked"], n["xmMasked"], n["idSex"], n["idBirth"], _pg_unit(n["tJgByJgid"]))
        for n in data["allTSmzMaskeds"]["nodes"]
        if n["sfzhMasked"]
    ]


Canon = Callable[[dict[str, Any], Units], Any]


@dataclass(frozen=True, slots=True)
class Case:
    """One benchmark query: its text on each server, the role it runs as, and its canonical form."""

    key: str
    title: str
    hub_query: str
    pg_query: str
    masked: bool
    hub_canon: Canon
    pg_canon: Canon
    warmup: int
    iterations: int


CASES = (
    Case("Q1", "one person by ID number + institution + last 12 pay rows", HUB_Q1, PG_Q1, False,
         hub_q1, pg_q1, warmup=20, iterations=500),
    Case("Q2", "100 institutions + quotas + their people", HUB_Q2, PG_Q2, False,
         hub_q2, pg_q2, warmup=2, iterations=100),
    Case("Q3", "10,000 people × 6 fields", HUB_Q3, PG_Q3, False, hub_q3, pg_q3, warmup=2, iterations=50),
    Case("Q3m", "Q3 as a restricted role (ID number and name masked)", HUB_Q3, PG_Q3_MASKED, True,
         hub_q3, pg_q3_masked, warmup=2, iterations=50),
)


def bodies(case: Case, side: str, q1_ids: list[str]) -> list[bytes]:
    """The request bodies of a case for one server ('hub' or 'pg'); Q1 cycles through people."""
    query = case.hub_query if side == "hub" else case.pg_query
    if case.key == "Q1":
        return [body(query, {"id": i}) for i in q1_ids]
    return [body(query)]


def establishment_unit(node: dict[str, Any] | None) -> str | None:
    """The establishment office's unit id of a hub institution with `sourceUnits`."""
    found = [su["localCode"] for su in (node or {}).get("sourceUnits", []) if su["department"] == "ESTABLISHMENT"]
    return found[0] if found else None


def units_from_hub(data: dict[str, Any]) -> Units:
    """Hub institution code -> establishment office unit id, over the `HUB_UNITS` answer."""
    units = ((e["node"]["code"], establishment_unit(e["node"])) for e in data["institutions"]["edges"])
    return {code: unit for code, unit in units if unit}


def codes_in(answer: Any) -> set[str]:
    """Every institution code in a hub answer."""
    if isinstance(answer, list):
        return {c for item in answer for c in codes_in(item)}
    if isinstance(answer, dict):
        found = {answer["code"]} if isinstance(answer.get("code"), str) else set()
        return found | {c for value in answer.values() for c in codes_in(value)}
    return set()
