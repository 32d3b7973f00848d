"""The benchmark queries for both servers, and the canonical form their answers are compared in.

The hub answers in canonical values (normalized ID numbers and names, crosswalk institution codes);
PostGraphile answers with the legacy columns. Both answers are brought to one form: ID numbers and
names normalized with hub.core.ids (PostGraphile's masked and derived fields are computed in SQL by
bench/postgraphile/setup.sql, see there), institutions as the establishment office's unit id
(JGID; a hub code is mapped to it with the hub's own `sourceUnits`), months as YYYY-MM.

Also what the requests of a run are: every distinct body of a query (`bodies`: Q1's people, the
pages), and the sequence they are sent in (`plan`: varied or repeated, seeded, the same on both
servers; `picks` is the generator bench/post.lua repeats for wrk).
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Callable, Iterator
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

# Q2 and Q4 read a page of 100 institutions, Q3 a page of 10,000 people, after a keyset cursor
# (`null`: the first page); `walk_cursors` collects each server's cursors of the same pages.
INSTITUTION_PAGE, PERSON_PAGE = 100, 10_000

HUB_Q2 = f"""query Q2($after: String) {{ institutions(first: {INSTITUTION_PAGE}, after: $after) {{ edges {{ node {{
  code name quotas {{ quotaType approved occupied }} people {{ idNumber name }} }} }} }} }}"""
PG_Q2 = f"""query Q2($after: Cursor) {{ allTJgs(first: {INSTITUTION_PAGE}, after: $after, orderBy: JGID_ASC,
  filter: {{cxrq: {{isNull: true}}}}) {{ nodes {{
  jgid jgmc tBzsByJgid(orderBy: BZLX_ASC) {{ nodes {{ bzlx hds }} }}
  tSmzsByJgid(filter: {ACTIVE}, orderBy: RYID_ASC) {{ nodes {{ sfzh xm bzlx }} }} }} }} }}"""

HUB_Q3 = f"""query Q3($after: String) {{ people(first: {PERSON_PAGE}, after: $after) {{ edges {{ node {{
  idNumber name sex birthDate institution {{ code name }} }} }} }} }}"""
PG_Q3 = f"""query Q3($after: Cursor) {{ allTSmzs(first: {PERSON_PAGE}, after: $after, orderBy: RYID_ASC,
  filter: {ACTIVE}) {{ nodes {{ sfzh xm idSex idBirthDate tJgByJgid {{ jgid jgmc }} }} }} }}"""
# The restricted role reads ID numbers and names masked, and no birth date (it would give away the
# digits the ID number's mask hides: policies/derivations.csv).
HUB_Q3_MASKED = f"""query Q3m($after: String) {{ people(first: {PERSON_PAGE}, after: $after) {{ edges {{ node {{
  idNumber name sex institution {{ code name }} }} }} }} }}"""
PG_Q3_MASKED = f"""query Q3m($after: Cursor) {{ allTSmzMaskeds(first: {PERSON_PAGE}, after: $after, orderBy: RYID_ASC,
  filter: {ACTIVE}) {{ nodes {{ sfzhMasked xmMasked idSex tJgByJgid {{ jgid jgmc }} }} }} }}"""

# Three levels: a page of institutions, their people, each person's last 3 months of pay (PostGraphile:
# the computed column TSmz.lastPay of setup.sql, which looks payees up by the ID number's spellings).
HUB_Q4 = f"""query Q4($after: String) {{ institutions(first: {INSTITUTION_PAGE}, after: $after) {{ edges {{ node {{
  code name people {{ idNumber name payroll {{ entries(last: 3) {{ month gross net }} }} }} }} }} }} }}"""
PG_Q4 = f"""query Q4($after: Cursor) {{ allTJgs(first: {INSTITUTION_PAGE}, after: $after, orderBy: JGID_ASC,
  filter: {{cxrq: {{isNull: true}}}}) {{ nodes {{ jgid jgmc
  tSmzsByJgid(filter: {ACTIVE}, orderBy: RYID_ASC) {{ nodes {{ sfzh xm lastPay(n: 3) {{ nodes {{ gzny yfhj sfhj }} }} }} }}
  }} }} }}"""

# Each server's pages walked once, to collect its cursors (the answer is only the page's end).
HUB_INSTITUTION_CURSORS = f"""query P($after: String) {{ institutions(first: {INSTITUTION_PAGE}, after: $after) {{
  pageInfo {{ endCursor hasNextPage }} }} }}"""
PG_INSTITUTION_CURSORS = f"""query P($after: Cursor) {{ allTJgs(first: {INSTITUTION_PAGE}, after: $after, orderBy: JGID_ASC,
  filter: {{cxrq: {{isNull: true}}}}) {{ pageInfo {{ endCursor hasNextPage }} }} }}"""
HUB_PERSON_CURSORS = f"""query P($after: String) {{ people(first: {PERSON_PAGE}, after: $after) {{
  pageInfo {{ endCursor hasNextPage }} }} }}"""
PG_PERSON_CURSORS = f"""query P($after: Cursor) {{ allTSmzs(first: {PERSON_PAGE}, after: $after, orderBy: RYID_ASC,
  filter: {ACTIVE}) {{ pageInfo {{ endCursor hasNextPage }} }} }}"""
PG_MASKED_PERSON_CURSORS = PG_PERSON_CURSORS.replace("allTSmzs", "allTSmzMaskeds")

# Hub institution code -> the establishment office's unit id, from the hub's crosswalk.
# (In pages of 1,000: the whole list at once is over the hub's default cost limit.)
HUB_UNITS = """query Units($after: String) { institutions(first: 1000, after: $after) {
  edges { node { code sourceUnits { department localCode } } } pageInfo { endCursor hasNextPage } } }"""
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
    """Canonical Q3 (and its masked variant, without birth dates) from the hub."""
    return [
        (n["idNumber"], n["name"], n["sex"], n.get("birthDate"), _unit(units, n["institution"]))
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
        (n["sfzhMasked"], n["xmMasked"], n["idSex"], None, _pg_unit(n["tJgByJgid"]))
        for n in data["allTSmzMaskeds"]["nodes"]
        if n["sfzhMasked"]
    ]


def _pay(entries: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    return sorted(entries, reverse=True)


def hub_q4(data: dict[str, Any], units: Units) -> Any:
    """Canonical Q4 from the hub: each institution's people (sorted) with their last 3 months of pay."""
    out = []
    for edge in data["institutions"]["edges"]:
        n = edge["node"]
        people = sorted(
            (p["idNumber"], p["name"],
             _pay([(e["month"], e["gross"], e["net"]) for e in (p["payroll"] or {"entries": []})["entries"]]))
            for p in n["people"]
        )
        out.append({"unit": _unit(units, n), "people": people})
    return out


def pg_q4(data: dict[str, Any], units: Units) -> Any:
    """Canonical Q4 from PostGraphile (slots without an ID number are no person, as in the hub)."""
    out = []
    for n in data["allTJgs"]["nodes"]:
        people = sorted(
            (_id(s["sfzh"]), normalize_name(s["xm"]),
             _pay([(f"{e['gzny'][:4]}-{e['gzny'][4:6]}", int(e["yfhj"]), int(e["sfhj"])) for e in s["lastPay"]["nodes"]]))
            for s in n["tSmzsByJgid"]["nodes"]
            if s["sfzh"]
        )
        out.append({"unit": _pg_unit(n), "people": people})
    return out


Canon = Callable[[dict[str, Any], Units], Any]


@dataclass(frozen=True, slots=True)
class Case:
    """One benchmark query: its text on each server, the role it runs as, what varies between its
    requests ('person': Q1's ID number; else the kind of page, a key of CURSOR_WALKS), and its
    canonical form."""

    key: str
    title: str
    hub_query: str
    pg_query: str
    masked: bool
    varies: str
    hub_canon: Canon
    pg_canon: Canon
    warmup: int
    iterations: int  # timed sequential requests per server over all rounds


CASES = (
    Case("Q1", "one person by ID number + institution + last 12 pay rows", HUB_Q1, PG_Q1, False, "person",
         hub_q1, pg_q1, warmup=10, iterations=600),
    Case("Q2", f"a page of {INSTITUTION_PAGE} institutions + quotas + their people", HUB_Q2, PG_Q2, False,
         "institutions", hub_q2, pg_q2, warmup=2, iterations=90),
    Case("Q3", f"a page of {PERSON_PAGE:,} people × 6 fields", HUB_Q3, PG_Q3, False, "people",
         hub_q3, pg_q3, warmup=1, iterations=24),
    Case("Q3m", "Q3 as a restricted role (ID number and name masked, no birth date)", HUB_Q3_MASKED,
         PG_Q3_MASKED, True, "masked people", hub_q3, pg_q3_masked, warmup=1, iterations=24),
    Case("Q4", f"a page of {INSTITUTION_PAGE} institutions → their people → each one's last 3 months of pay",
         HUB_Q4, PG_Q4, False, "institutions", hub_q4, pg_q4, warmup=1, iterations=30),
)

# Keyset walks per kind of page: (hub query, PostGraphile query, the connection's field on each).
# PostGraphile's cursors hold the ordering they came from, so the masked view has its own walk.
CURSOR_WALKS = {
    "institutions": (HUB_INSTITUTION_CURSORS, PG_INSTITUTION_CURSORS, "institutions", "allTJgs"),
    "people": (HUB_PERSON_CURSORS, PG_PERSON_CURSORS, "people", "allTSmzs"),
    "masked people": (HUB_PERSON_CURSORS, PG_MASKED_PERSON_CURSORS, "people", "allTSmzMaskeds"),
}


def walk_cursors(fetch: Callable[[bytes], dict[str, Any]], side: str, kind: str, pages: int) -> list[str | None]:
    """The `after` of each of the first `pages` pages of a kind on one server (None: the first page),
    following its own endCursor; `fetch` sends a body and returns the answer's data."""
    hub_query, pg_query, hub_field, pg_field = CURSOR_WALKS[kind]
    query, field = (hub_query, hub_field) if side == "hub" else (pg_query, pg_field)
    cursors: list[str | None] = [None]
    while len(cursors) < pages:
        info = fetch(body(query, {"after": cursors[-1]}))[field]["pageInfo"]
        if not info["hasNextPage"]:
            break
        cursors.append(info["endCursor"])
    return cursors


# Request sequences: a Park–Miller ("minimal standard") generator picks the index of the next body.
# post.lua computes the same numbers, so the sequential loop and wrk send the same sequence for a
# seed, and both servers get the same one (index i is the same person or page on both).
MODULUS = 2**31 - 1
MULTIPLIER = 48271


def picks(count: int, seed: int) -> Iterator[int]:
    """Endless indexes in [0, count): in turn from 0 when seed is 0, else pseudo-random from the seed."""
    if seed == 0:
        yield from itertools.cycle(range(count))
        return
    if not 0 < seed < MODULUS:
        raise ValueError(f"seed must be in 1..{MODULUS - 1}, not {seed}")
    x = seed
    while True:
        x = x * MULTIPLIER % MODULUS
        yield x % count


def case_seed(base: int, key: str, stream: int) -> int:
    """A seed for one case and one stream of requests (a sequential or load round), from the run's seed."""
    return (base * 1_000_003 + zlib.crc32(key.encode()) + stream * 7_919) % (MODULUS - 1) + 1


@dataclass(frozen=True, slots=True)
class Variants:
    """What requests can vary in: Q1's people and each server's page cursors per kind of page."""

    people: list[str]
    cursors: dict[tuple[str, str], list[str | None]]  # (side, kind of page) -> the after of each page


def bodies(case: Case, side: str, variants: Variants) -> list[bytes]:
    """Every distinct request body of a case on one server ('hub' or 'pg'); index i means the same
    person or page on both servers."""
    query = case.hub_query if side == "hub" else case.pg_query
    if case.varies == "person":
        return [body(query, {"id": i}) for i in variants.people]
    return [body(query, {"after": c}) for c in variants.cursors[(side, case.varies)]]


@dataclass(frozen=True, slots=True)
class Plan:
    """The bodies a run draws from and how: seed 0 takes them in turn, another seed picks at random."""

    bodies: list[bytes]
    seed: int

    def take(self, count: int) -> list[bytes]:
        """The first `count` requests of the sequence."""
        return [self.bodies[i] for i in itertools.islice(picks(len(self.bodies), self.seed), count)]


MODES = ("varied", "repeated")
REPEATED_PEOPLE = 100  # Q1's people taken in turn with repeated requests, as the earlier benchmark did


def plan(case: Case, side: str, variants: Variants, mode: str, seed: int, stream: int) -> Plan:
    """A run's requests. varied: a random person or page per request (the same sequence on both
    servers for a seed and stream); repeated: the first page every time, Q1's first 100 people in turn."""
    every = bodies(case, side, variants)
    if mode == "repeated":
        return Plan(every[:REPEATED_PEOPLE] if case.varies == "person" else every[:1], 0)
    return Plan(every, case_seed(seed, case.key, stream))


def establishment_unit(node: dict[str, Any] | None) -> str | None:
    """The establishment office's unit id of a hub institution with `sourceUnits`."""
    found = [su["localCode"] for su in (node or {}).get("sourceUnits", []) if su["department"] == "ESTABLISHMENT"]
    return found[0] if found else None


def units_from_hub(fetch: Callable[[bytes], dict[str, Any]]) -> Units:
    """Hub institution code -> establishment office unit id, over the pages of `HUB_UNITS`."""
    units: Units = {}
    after = None
    while True:
        page = fetch(body(HUB_UNITS, {"after": after}))["institutions"]
        for edge in page["edges"]:
            if (unit := establishment_unit(edge["node"])) is not None:
                units[edge["node"]["code"]] = unit
        if not page["pageInfo"]["hasNextPage"]:
            return units
        after = page["pageInfo"]["endCursor"]


def codes_in(answer: Any) -> set[str]:
    """Every institution code in a hub answer."""
    if isinstance(answer, list):
        return {c for item in answer for c in codes_in(item)}
    if isinstance(answer, dict):
        found = {answer["code"]} if isinstance(answer.get("code"), str) else set()
        return found | {c for value in answer.values() for c in codes_in(value)}
    return set()
