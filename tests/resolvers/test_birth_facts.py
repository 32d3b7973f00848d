"""Birth date, sex and retirement date fall back to the departments' recorded values when the ID number is invalid."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.core import ids
from hub.core.retirement import retirement_date, retirement_group
from tests.conftest import Hub

QUERY = """query($after: String) { people(first: 1000, after: $after) { pageInfo { hasNextPage endCursor } edges { node {
  idNumber sex sexSource birthDate birthDateSource retirementDate
  registry { birth sex quotaType } personnel { birth sex category } cadre { birth sex } } } } }"""


def _all(hub: Hub, role: str = "admin", department: str | None = None) -> list[dict[str, Any]]:
    out, after = [], None
    while True:
        body = hub.query(QUERY, {"after": after}, role=role, department=department)
        assert "errors" not in body, body["errors"]
        out += [e["node"] for e in body["data"]["people"]["edges"]]
        if not body["data"]["people"]["pageInfo"]["hasNextPage"]:
            return out
        after = body["data"]["people"]["pageInfo"]["endCursor"]


def _recorded(node: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """The first recorded birth and sex in trust order (registry, HR, cadre file), with the department."""
    facets = [("ESTABLISHMENT", (node["registry"] or [None])[0]), ("HR", node["personnel"]), ("ORGANIZATION", node["cadre"])]
    birth = next(((d, f["birth"]) for d, f in facets if f and f["birth"] and len(f["birth"]) >= 7), (None, None))
    sex = next(((d, f["sex"]) for d, f in facets if f and f["sex"] in ("MALE", "FEMALE")), (None, None))
    return birth[1], birth[0], sex[1], sex[0]


def test_invalid_id_numbers_fall_back_to_recorded_values(hub: Hub, manifest: dict[str, Any]) -> None:
    invalid = {a["idNumber"] for a in manifest["anomalies"] if a["rule"] == "R10" and "idNumber" in a}
    assert invalid
    people = _all(hub)
    seen = 0
    for node in people:
        if node["idNumber"] in invalid:
            seen += 1
            birth, birth_source, sex, sex_source = _recorded(node)
            assert birth is not None and sex is not None  # the demo records both for everyone
            expected = dt.date.fromisoformat(birth if len(birth) == 10 else birth[:7] + "-01")
            assert (node["birthDate"], node["birthDateSource"]) == (expected.isoformat(), birth_source)
            assert (node["sex"], node["sexSource"]) == (sex, sex_source)
            assert node["retirementDate"] is not None
            if sex == "MALE":
                assert node["retirementDate"] == retirement_date(expected, retirement_group("male", False)).isoformat()
        else:
            assert ids.id_number_problem(node["idNumber"]) is None
            assert node["birthDateSource"] is None and node["sexSource"] is None
            assert node["birthDate"] == ids.id_birth_date(node["idNumber"]).isoformat()  # type: ignore[union-attr]
    assert seen == len({n["idNumber"] for n in people} & invalid) > 0


def test_sources_follow_the_grants(hub: Hub) -> None:
    body = hub.query("{ people(first: 1) { edges { node { sexSource } } } }", role="analyst")
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = hub.query("{ people(first: 1) { edges { node { birthDateSource } } } }", role="auditor")
    assert "errors" not in body  # keep: names a department only
