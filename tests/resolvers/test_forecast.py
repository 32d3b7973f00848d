"""The retirement forecast: a hand-checked table of retirement dates through the whole hub, and a Python oracle over the demo's raw rows."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from hub.core import ids
from hub.core.retirement import retirement_date, retirement_group
from tests.conftest import Hub, hub_settings, running_hub

# Hand-checked (docs/retirement.md §The rule): born, sex, quota type (GQ: a woman in a worker post), retires.
HAND = [
    # men: 60, from births of 1965-01 one month more per 4 birth months, at most 36
    ("1964-12-31", "男", "SY", "2024-12-31"),  # before the rule
    ("1965-01-15", "男", "SY", "2025-02-15"),  # first month affected: +1
    ("1965-06-15", "男", "XZ", "2025-08-15"),  # k=5: +2
    ("1965-12-31", "男", "SY", "2026-03-31"),  # k=11: +3
    ("1970-01-10", "男", "JS", "2031-05-10"),  # k=60: +16
    ("1975-07-01", "男", "SY", "2038-03-01"),  # k=126: +32
    # women in cadre, management or technical posts: 55, from 1970-01, per 4, at most 36
    ("1965-03-05", "女", "SY", "2020-03-05"),
    ("1969-12-20", "女", "XZ", "2024-12-20"),  # just before the rule
    ("1970-01-20", "女", "SY", "2025-02-20"),  # +1
    ("1970-05-31", "女", "JS", "2025-07-31"),  # k=4: +2
    ("1975-02-28", "女", "SY", "2031-06-28"),  # k=61: +16
    # women in worker posts: 50, from 1975-01, per 2, at most 60
    ("1965-08-08", "女", "GQ", "2015-08-08"),
    ("1970-03-03", "女", "GQ", "2020-03-03"),
    ("1974-12-01", "女", "GQ", "2024-12-01"),  # just before the rule
    ("1975-01-31", "女", "GQ", "2025-02-28"),  # +1, clamped to February's end
    ("1975-03-15", "女", "GQ", "2025-05-15"),  # k=2: +2
    ("1975-12-10", "女", "GQ", "2026-06-10"),  # k=11: +6
]
CATEGORY = {("男", False): "MEN", ("女", False): "WOMEN_CADRE", ("女", True): "WOMEN_WORKER"}

FORECAST = """query($code: String, $from: Int!, $years: Int!, $by: [ForecastDimension!]) {
  retirementForecast(years: $years, fromYear: $from, by: $by, institutionCode: $code) {
    persons alreadyDue fromRecorded unplaced
    rows { year category quotaType persons vacancies { quotaType slots } people { idNumber retirementDate birthDateSource } } } }"""


def _add_people(db: Path) -> tuple[str, dict[str, tuple[str, str, str]]]:
    """Hand-checked people in the first institution; returns its USCC and id -> (category, quota type, retires)."""
    con = sqlite3.connect(db)
    jgid, uscc = con.execute("SELECT JGID, TYSHXYDM FROM T_JG WHERE TYSHXYDM IS NOT NULL ORDER BY JGID LIMIT 1").fetchone()
    out = {}
    for n, (born, sex, quota, retires) in enumerate(HAND):
        birth = dt.date.fromisoformat(born)
        id_number = ids.make_id_number("152921", birth, 400 + n, sex == "男")
        con.execute("INSERT INTO T_SMZ (RYID, JGID, XM, SFZH, XB, CSRQ, BZLX, RBRQ, RYZT) VALUES (?,?,?,?,?,?,?,?,?)",
                    (f"H{n:09d}", jgid, f"测试{n}", id_number, sex, born[:7], quota, "2000-01-01", "在编"))
        out[id_number] = (CATEGORY[(sex, quota == "GQ")], quota, retires)
    # An invalid ID number (wrong check digit) whose registry entry records 1965-06: the registry's birth, the 1st of the month.
    bad = ids.make_id_number("152921", dt.date(1965, 6, 20), 499, True)
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    con.execute("INSERT INTO T_SMZ (RYID, JGID, XM, SFZH, XB, CSRQ, BZLX, RBRQ, RYZT) VALUES (?,?,?,?,?,?,?,?,?)",
                ("H000000900", jgid, "测试坏号", bad, "男", "1965-06", "SY", "2000-01-01", "在编"))
    out[bad] = ("MEN", "SY", "2025-08-01")
    # An invalid ID number no department records a birth or sex for: not placed.
    lost = ids.make_id_number("152921", dt.date(1980, 1, 1), 498, True)
    lost = lost[:-1] + ("0" if lost[-1] != "0" else "1")
    con.execute("INSERT INTO T_SMZ (RYID, JGID, XM, SFZH, BZLX, RBRQ, RYZT) VALUES (?,?,?,?,?,?,?)",
                ("H000000901", jgid, "测试无档", lost, "SY", "2000-01-01", "在编"))
    con.commit()
    con.close()
    return uscc, out


@pytest.fixture(scope="module")
def planted(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    copy = tmp_path_factory.mktemp("forecast")
    for f in demo_dir.iterdir():
        if f.suffix in (".db", ".json") or f.name in ("jwt-secret", "audit-key"):
            shutil.copy(f, copy / f.name)
    uscc, people = _add_people(copy / "establishment.db")
    with running_hub(hub_settings(copy)) as hub:
        yield hub, uscc, people


def test_hand_checked_table(planted: Any) -> None:
    hub, uscc, people = planted
    body = hub.query(FORECAST, {"code": uscc, "from": 2015, "years": 30, "by": ["CATEGORY", "QUOTA_TYPE"]})
    assert "errors" not in body, body
    found = body["data"]["retirementForecast"]
    seen = {}
    for row in found["rows"]:
        assert row["persons"] == len(row["people"])
        assert sum(v["slots"] for v in row["vacancies"]) >= row["persons"]
        for p in row["people"]:
            assert p["retirementDate"][:4] == str(row["year"])
            seen[p["idNumber"]] = (row["category"], row["quotaType"], p["retirementDate"])
    for id_number, expected in people.items():
        assert seen[id_number] == expected, id_number
    assert found["unplaced"] >= 1 and found["fromRecorded"] >= 1
    # The same people from 2025 on: those retiring before 2025 are counted as already due.
    later = hub.query(FORECAST, {"code": uscc, "from": 2025, "years": 30, "by": []})["data"]["retirementForecast"]
    before = sum(1 for _, _, retires in people.values() if retires < "2025")
    assert later["alreadyDue"] >= before
    assert {p["idNumber"] for r in later["rows"] for p in r["people"]} >= {i for i, v in people.items() if v[2] >= "2025"}


def _oracle(out: Path, start: int, years: int) -> tuple[Counter[tuple[int, str]], Counter[tuple[int, str]], int]:
    """(persons by (year, quota type of the describing slot), slots freed by (year, quota type), not placed) from the raw rows."""
    db = sqlite3.connect(":memory:")
    for dept in ("establishment", "organization", "hr"):
        db.execute(f"ATTACH DATABASE '{out / f'{dept}.db'}' AS {dept}")
    slots: dict[str, list[tuple[str, str, str | None, str | None]]] = defaultdict(list)
    for ryid, sfzh, bzlx, xb, csrq in db.execute(
            "SELECT RYID, SFZH, BZLX, XB, CSRQ FROM T_SMZ WHERE RYZT IN ('在编', '借调') AND CBRQ IS NULL ORDER BY RYID"):
        key = ids.normalize_id_number(sfzh)
        if key:
            slots[key].append((ryid, bzlx, {"男": "M", "女": "F"}.get(xb), csrq))
    hr = {ids.normalize_id_number(r[0]): r[1:] for r in db.execute("SELECT GMSFHM, XB, CSRQ, RYLB, RYBH FROM RS_RYXX")}
    workers = {r[0] for r in db.execute("SELECT RYBH FROM RS_GWPY WHERE GWLB = '3' AND ZZRQ IS NULL")}
    cadres = {ids.normalize_id_number(r[0]): r[1:] for r in db.execute("SELECT A0184, A0104, A0107 FROM A01")}
    persons: Counter[tuple[int, str]] = Counter()
    freed: Counter[tuple[int, str]] = Counter()
    unplaced = 0
    for key, held in slots.items():
        describing = next((s for s in held if s[1] == "GQ"), held[0])
        if ids.id_number_problem(key) is None:
            birth, male = ids.id_birth_date(key), ids.id_sex(key) == "male"
        else:  # recorded values in trust order: registry, HR, cadre file
            h, c = hr.get(key), cadres.get(key)
            births = [describing[3], h and h[1], c and c[1] and f"{c[1][:4]}-{c[1][4:6]}"]
            sexes = [describing[2], h and {"1": "M", "2": "F"}.get(h[0]), c and {"1": "M", "2": "F"}.get(c[0])]
            text, sex = next((b for b in births if b), None), next((s for s in sexes if s), None)
            if text is None or sex is None:
                unplaced += 1
                continue
            birth, male = dt.date.fromisoformat(text if len(text) == 10 else text + "-01"), sex == "M"
        h = hr.get(key)
        worker = describing[1] == "GQ" or bool(h and (h[2] == "05" or h[3] in workers))
        year = retirement_date(birth, retirement_group("male" if male else "female", worker)).year  # type: ignore[arg-type]
        if start <= year < start + years:
            persons[(year, describing[1])] += 1
            for s in held:
                freed[(year, s[1])] += 1
    return persons, freed, unplaced


def test_agrees_with_an_oracle_over_the_raw_rows(hub: Hub, demo_dir: Path) -> None:
    persons, freed, unplaced = _oracle(demo_dir, 2026, 5)
    body = hub.query(FORECAST, {"code": None, "from": 2026, "years": 5, "by": ["QUOTA_TYPE"]})
    assert "errors" not in body, body
    found = body["data"]["retirementForecast"]
    got = Counter({(r["year"], r["quotaType"]): r["persons"] for r in found["rows"]})
    got_freed = Counter({(r["year"], v["quotaType"]): v["slots"] for r in found["rows"] for v in r["vacancies"]})
    assert got == persons and sum(persons.values()) > 0
    # Slots freed by (year, quota type), summed over the rows' describing quota types.
    summed: Counter[tuple[int, str]] = Counter()
    for r in found["rows"]:
        for v in r["vacancies"]:
            summed[(r["year"], v["quotaType"])] += v["slots"]
    assert summed == freed
    assert got_freed.keys() <= freed.keys()
    assert found["unplaced"] == unplaced


def test_row_scope_and_grants(hub: Hub) -> None:
    query = "{ retirementForecast(fromYear: 2026, by: [REGION]) { persons rows { regionCode persons } } }"
    league = hub.query(query)["data"]["retirementForecast"]
    banner = hub.query(query, region="152921")["data"]["retirementForecast"]
    assert 0 < banner["persons"] < league["persons"]
    assert all(r["regionCode"].startswith("152921") for r in banner["rows"])
    assert sum(r["persons"] for r in banner["rows"]) == sum(r["persons"] for r in league["rows"] if r["regionCode"].startswith("152921"))
    # Counts for the departments that read retirement dates; the people's fields follow the Person grants.
    assert "errors" not in hub.query(query, role="officer", department="hr")
    refused = hub.query(query, role="analyst")
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    masked = hub.query("{ retirementForecast(fromYear: 2026) { rows { people { idNumber } } } }", role="auditor")
    ids_seen = [p["idNumber"] for r in masked["data"]["retirementForecast"]["rows"] for p in r["people"]]
    assert ids_seen and all("*" in i for i in ids_seen)
    denied = hub.query("{ retirementForecast(fromYear: 2026) { rows { people { birthDate } } } }", role="auditor")
    assert denied["data"] is None
