"""A department's own data without Python: the education bureau's custom entities in the schema.

The bureau joins with its mapping (hub/demo/mappings/education.yaml: a `custom:` section declaring
school profiles, enrolment, classes and teaching hours), its settings and policy lines. The hub then
answers `institution { enrolment }` from the bureau's own database, under the same row scope,
policy and audit as every other field, in one statement per source per level.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.core.settings import SourceSettings
from hub.demo.education import MAPPING, POLICY
from policies.grants import POLICY_PATH
from schema.masking import mask_name
from tests.conftest import Hub, hub_settings, running_hub

ENROLMENT = """query($code: String!) { institution(code: $code) { code
  enrolment { year grade students boarders } schoolProfile { school level boarding mongolianMedium foundedOn }
  classes { classCode language students } teachingHours { year subject hours } } }"""


@pytest.fixture(scope="module")
def bureau(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bureau's demo database, a school of it with a credit code, and the policy file with its lines."""
    folder = tmp_path_factory.mktemp("bureau")
    (folder / "policy.csv").write_text(POLICY_PATH.read_text(encoding="utf-8") + "\n" + POLICY.read_text(encoding="utf-8"),
                                       encoding="utf-8")
    with sqlite3.connect(demo_dir / "education.db") as db:
        school, uscc, region = db.execute(
            "SELECT XXDM, TYSHXYDM, XZQH FROM XX_JBXX WHERE TYSHXYDM IS NOT NULL AND substr(XZQH, 1, 6) <> '152900' ORDER BY XXDM LIMIT 1").fetchone()
        enrolment = db.execute("SELECT XN, NJ, ZXRS, JSRS FROM XX_ZSQK WHERE XXDM = ? ORDER BY XN, NJ", (school,)).fetchall()
        hours = db.execute("SELECT XN, XKDM, ZKS FROM XX_KSQK WHERE XXDM = ? ORDER BY XN, XKDM", (school,)).fetchall()
    return {"policy": folder / "policy.csv", "url": f"sqlite+aiosqlite:///{demo_dir / 'education.db'}", "school": school,
            "uscc": uscc, "region": region[:6], "enrolment": enrolment, "hours": hours}


@pytest.fixture(scope="module")
def five(demo_dir: Path, bureau: dict[str, Any]) -> Iterator[Hub]:
    settings = hub_settings(demo_dir, policy_file=bureau["policy"])
    fifth = SourceSettings(url=bureau["url"], mapping=MAPPING)
    with running_hub(settings.model_copy(update={"source": {"education": fifth}})) as running:
        yield running


def test_enrolment_of_an_institution_is_the_bureaus_rows(five: Hub, bureau: dict[str, Any]) -> None:
    found = five.query(ENROLMENT, {"code": bureau["uscc"]})
    assert "errors" not in found, found
    inst = found["data"]["institution"]
    assert [(e["year"], e["grade"], e["students"], e["boarders"]) for e in inst["enrolment"]] == bureau["enrolment"]
    assert inst["schoolProfile"][0]["school"] == bureau["school"]
    assert inst["schoolProfile"][0]["level"] in {"PRIMARY", "JUNIOR", "SENIOR", "COMPLETE"}
    assert isinstance(inst["schoolProfile"][0]["boarding"], bool)
    subjects = {"01": "CHINESE", "02": "MATHEMATICS", "03": "ENGLISH", "04": "MONGOLIAN", "05": "SCIENCE",
                "06": "ARTS", "07": "PHYSICAL"}
    # listed in key order (year, then the subject's canonical code); hours exactly as the REAL column holds them
    assert [(h["year"], h["subject"], Decimal(h["hours"])) for h in inst["teachingHours"]] == sorted(
        (y, subjects[s], Decimal(repr(h))) for y, s, h in bureau["hours"])
    assert sum(c["students"] for c in inst["classes"]) == sum(e[2] for e in bureau["enrolment"])


def test_a_banner_officer_reads_the_enrolment_of_its_banner_only(five: Hub, bureau: dict[str, Any]) -> None:
    mine = five.query(ENROLMENT, {"code": bureau["uscc"]}, role="officer", department="education", region=bureau["region"])
    assert "errors" not in mine, mine
    assert len(mine["data"]["institution"]["enrolment"]) == len(bureau["enrolment"])
    other = "152922" if bureau["region"] != "152922" else "152921"
    theirs = five.query(ENROLMENT, {"code": bureau["uscc"]}, role="officer", department="education", region=other)
    assert theirs["data"] is None or theirs["data"]["institution"] is None
    listed = five.query("{ institutions(first: 200) { edges { node { regionCode enrolment { students } } } } }",
                        role="officer", department="education", region=bureau["region"])
    assert "errors" not in listed, listed
    nodes = [e["node"] for e in listed["data"]["institutions"]["edges"]]
    assert nodes and all(n["regionCode"].startswith(bureau["region"]) for n in nodes)
    assert any(n["enrolment"] for n in nodes)


def test_an_officer_of_another_department_is_denied_the_bureaus_types(five: Hub, bureau: dict[str, Any]) -> None:
    found = five.query(ENROLMENT, {"code": bureau["uscc"]}, role="officer", department="hr")
    assert found["errors"] and found["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    names = five.query('{ __type(name: "Enrolment") { name } }', role="officer", department="hr")
    assert names["data"]["__type"] is None  # not in the role's schema either
    sdl = five.query("{ _service { sdl } }")["data"]["_service"]["sdl"]
    assert "type Enrolment" in sdl and "enrolment: [Enrolment!]!" in sdl


def test_one_statement_per_custom_entity_per_level_whatever_the_rows(five: Hub) -> None:
    source = five.client.app_state["hub"].sources["education"]
    query = "query($n: Int!) { institutions(first: $n) { edges { node { enrolment { students } classes { students } } } } }"
    counts = []
    for n in (100, 250):
        before = source.statements
        found = five.query(query, {"n": n})
        assert "errors" not in found, found
        counts.append(source.statements - before)
    assert counts == [2, 2]  # enrolment and classes, whatever the number of schools


def test_reads_of_a_custom_type_joined_to_people_are_audited_and_masked(tmp_path: Path) -> None:
    from adapters.mapping import Mapping
    from schema.custom import custom_schema

    mapping = Mapping.model_validate({
        "department": "sports", "title": "体育局 / Sports bureau",
        "custom": {"coach_licence": {
            "type": "CoachLicence", "table": "TY_JL", "key": ["licence"],
            "person": {"field": "coach_licences", "by": "id_number"},
            "fields": {"licence": "ZSBH", "id_number": {"column": "SFZH", "normalize": "id_number"},
                       "holder": {"column": "XM", "mask": "name"}, "fee": {"column": "FY", "type": "int", "convert": "yuan_to_fen"}}}}})
    made = custom_schema([mapping])
    assert made.personal == {"CoachLicence"} and made.maskable == {("CoachLicence", "holder"): "name"}
    assert [f.name for f in made.fields["Person"]] == ["coach_licences"]


SPORTS = """\
department: sports
title: 体育局 / Sports bureau
trust: 6
entities:
  unit:
    table: TY_DW
    scope: local_id
    order: [local_id]
    columns: {local_id: DWDM, name: {column: DWMC, normalize: name}, credit_code: {column: TYXYDM, normalize: credit_code}}
custom:
  coach_licence:
    type: CoachLicence
    description: 教练员证（体育局） / coach licence (sports bureau)
    table: TY_JLZ
    key: [licence]
    person: {field: coach_licences, by: id_number, description: 教练员证 / coach licences}
    institution: {field: coaches, by: unit}
    fields:
      licence: {column: ZSBH, description: 证书编号 / licence number}
      id_number: {column: SFZH, normalize: id_number, description: 身份证号 / ID number}
      unit: {column: DWDM, description: 单位代码 / unit code}
      holder: {column: XM, mask: name, description: 持证人 / holder}
      fee: {column: FY, type: int, convert: yuan_to_fen, description: 年费（分） / yearly fee (fen)}
"""
SPORTS_POLICY = """
g, sports.officer, staff
g, sports.officer, person_reader
p, sports.officer, Person.coachLicences, read
p, sports.officer, CoachLicence.*, read
p, sports.officer, CoachLicence.holder, mask
"""


@pytest.fixture(scope="module")
def sports(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A bureau keeping records by ID number: two licences of a demo person (one in a unit it shares with the
    establishment office), a hub with it, and the person's ID number and region."""
    folder = tmp_path_factory.mktemp("sports")
    with sqlite3.connect(demo_dir / "establishment.db") as est:
        unit, name, uscc, region, id_number, person = est.execute(
            "SELECT j.JGID, j.JGMC, j.TYSHXYDM, j.XZQH, s.SFZH, s.XM FROM T_SMZ s JOIN T_JG j ON j.JGID = s.JGID "
            "WHERE length(j.TYSHXYDM) = 18 AND length(s.SFZH) = 18 AND substr(j.XZQH, 1, 6) <> '152900' ORDER BY s.RYID LIMIT 1"
        ).fetchone()
    with sqlite3.connect(folder / "sports.db") as db:
        db.execute("CREATE TABLE TY_DW (DWDM TEXT PRIMARY KEY, DWMC TEXT, TYXYDM TEXT)")
        db.execute("CREATE TABLE TY_JLZ (ZSBH TEXT PRIMARY KEY, SFZH TEXT, DWDM TEXT, XM TEXT, FY REAL)")
        db.execute("INSERT INTO TY_DW VALUES ('T01', ?, ?)", (name, uscc))
        db.executemany("INSERT INTO TY_JLZ VALUES (?, ?, ?, ?, ?)",
                       [("L1", id_number.lower(), "T01", person, 1234.56), ("L2", id_number, None, person, 0.1)])
    (folder / "sports.yaml").write_text(SPORTS, encoding="utf-8")
    (folder / "policy.csv").write_text(POLICY_PATH.read_text(encoding="utf-8") + SPORTS_POLICY, encoding="utf-8")
    settings = hub_settings(demo_dir, policy_file=folder / "policy.csv", store_url=f"sqlite+aiosqlite:///{folder}/store.db")
    source = SourceSettings(url=f"sqlite+aiosqlite:///{folder / 'sports.db'}", mapping=folder / "sports.yaml")
    with running_hub(settings.model_copy(update={"source": {"sports": source}})) as running:
        yield {"hub": running, "id": id_number.upper(), "name": person, "region": region[:6], "store": folder / "store.db"}


def test_a_custom_type_joined_to_people_is_masked_audited_and_scoped(sports: dict[str, Any]) -> None:
    hub: Hub = sports["hub"]
    query = "query Licences($id: String!) { person(idNumber: $id) { coachLicences { licence holder fee } } }"
    admin = hub.query(query, {"id": sports["id"]})
    assert "errors" not in admin, admin
    assert admin["data"]["person"]["coachLicences"] == [
        {"licence": "L1", "holder": sports["name"], "fee": 123456}, {"licence": "L2", "holder": sports["name"], "fee": 10}]
    officer = hub.query(query, {"id": sports["id"]}, role="officer", department="sports")
    assert "errors" not in officer, officer
    assert {lic["holder"] for lic in officer["data"]["person"]["coachLicences"]} == {mask_name(sports["name"])}
    banner = hub.query(query, {"id": sports["id"]}, role="officer", department="sports", region=sports["region"])
    assert "errors" not in banner, banner  # scoped by the unit join: the licence outside any unit is not the banner's
    assert [lic["licence"] for lic in banner["data"]["person"]["coachLicences"]] == ["L1"]
    with sqlite3.connect(sports["store"]) as db:
        fields = [json.loads(f) for (f,) in db.execute("SELECT fields FROM audit_log WHERE operation = 'Licences'")]
    assert len(fields) == 3 and all("CoachLicence.holder" in f and "Person.coachLicences" in f for f in fields)


def test_a_role_without_the_lines_neither_reads_nor_sees_the_custom_type(sports: dict[str, Any]) -> None:
    hub: Hub = sports["hub"]
    found = hub.query("query($id: String!) { person(idNumber: $id) { coachLicences { licence } } }", {"id": sports["id"]},
                      role="officer", department="hr")
    assert found["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert hub.query('{ __type(name: "CoachLicence") { name } }', role="officer", department="hr")["data"]["__type"] is None


def _with(custom: dict[str, Any], department: str = "sports") -> Any:
    from adapters.mapping import Mapping

    return Mapping.model_validate({"department": department, "title": "体育局 / Sports bureau", "custom": custom})


LICENCE = {"type": "CoachLicence", "table": "T", "key": ["licence"], "institution": {"field": "coaches", "by": "unit"},
           "fields": {"licence": "ZSBH", "unit": "DWDM"}}


@pytest.mark.parametrize(("custom", "says"), [
    ({"unit": LICENCE}, "are canonical entities"),
    ({"coach": {**LICENCE, "key": ["nope"]}}, "must name mapped fields"),
    ({"coach": {**LICENCE, "fields": {**LICENCE["fields"], "fee": {"column": "FY", "type": "money"}}}}, "unknown field type"),
    ({"coach": {**LICENCE, "fields": {**LICENCE["fields"], "fee": {"column": "FY", "type": "int", "convert": "date8"}}}},
     "cannot use converter"),
    ({"coach": {**LICENCE, "fields": {**LICENCE["fields"], "level": {"column": "JB", "type": "code"}}}}, "needs `values`"),
    ({"coach": {k: v for k, v in LICENCE.items() if k != "institution"}}, "joins `institution` or `person`"),
    ({"coach": {**LICENCE, "person": {"field": "coaches", "by": "licence"}}}, "normalize: id_number"),
])
def test_a_bad_custom_entity_is_refused_naming_the_fault(custom: dict[str, Any], says: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=re.escape(says)):
        _with(custom)


def test_custom_types_that_clash_are_refused_when_the_schema_is_built(tmp_path: Path) -> None:
    import yaml

    from hub.core.errors import MappingError
    from hub.core.settings import Settings
    from schema import build_schema
    from schema.custom import custom_schema

    with pytest.raises(MappingError, match="another mapping declares the same entity or type"):
        custom_schema([_with({"coach": LICENCE}), _with({"trainer": LICENCE}, "fitness")])
    folder = tmp_path / "clash"
    folder.mkdir()
    clash = {**LICENCE, "institution": {"field": "name", "by": "unit"}}  # a field Institution has already
    (folder / "sports.yaml").write_text(yaml.safe_dump(
        {"department": "sports", "title": "体育局 / Sports bureau", "custom": {"coach": clash}}), encoding="utf-8")
    settings = Settings(source={"sports": SourceSettings(url="sqlite:///x.db", mapping=folder / "sports.yaml")})
    with pytest.raises(MappingError, match="fields Institution has already"):
        build_schema(settings)
