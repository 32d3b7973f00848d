"""The unified schema over the four demo databases: lookups, keyset pages, quotas, facets, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.core.ids import make_id_number
from tests.conftest import Hub

INSTITUTIONS_PAGE = """
query($first: Int, $after: String) {
  institutions(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { code name regionCode type } }
  }
}"""

INSTITUTION = """
query($code: String!) {
  institution(code: $code) {
    code name regionCode regionName type rank funding
    sourceUnits { department localCode }
    quotas { quotaType approved occupied vacant over }
    leadershipPosts { level scope approved filled }
    people { idNumber name }
    parent { code }
    children { code }
  }
}"""

PEOPLE = """
query($first: Int, $institutionCode: String, $regionCode: String) {
  people(first: $first, institutionCode: $institutionCode, regionCode: $regionCode) {
    totalCount
    edges { node { idNumber name nameSource institution { code regionCode } } }
  }
}"""

PERSON = """
query($id: String!) {
  person(idNumber: $id) {
    idNumber name sex birthDate retirementDate
    registry { slotId quotaType status institution { code } }
    personnel { personNo category status posts { category grade } titles { title } insurance { status } }
    cadre { cadreId appointments { title levelCode role } }
    payroll { payeeCodes onPayroll onQuota entries(last: 3) { month gross net } }
  }
}"""


def all_institutions(hub: Hub, page: int) -> tuple[list[dict[str, Any]], int]:
    """Every institution by following cursors, and the total the API reports."""
    nodes, after, total = [], None, -1
    while True:
        body = hub.query(INSTITUTIONS_PAGE, {"first": page, "after": after})
        assert "errors" not in body, body
        conn = body["data"]["institutions"]
        total = conn["totalCount"]
        nodes += [e["node"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return nodes, total
        after = conn["pageInfo"]["endCursor"]


def test_keyset_pages_cover_every_institution_once(hub: Hub) -> None:
    nodes, total = all_institutions(hub, page=37)
    codes = [n["code"] for n in nodes]
    assert len(codes) == len(set(codes)) == total > 37
    assert all(n["name"] and n["regionCode"] for n in nodes)


def test_institution_by_code_joins_departments_and_counts_quotas(hub: Hub) -> None:
    nodes, _ = all_institutions(hub, page=500)
    checked = 0
    for node in nodes[:40]:
        inst = hub.query(INSTITUTION, {"code": node["code"]})["data"]["institution"]
        assert inst["code"] == node["code"] and inst["name"] == node["name"]
        assert {s["department"] for s in inst["sourceUnits"]} >= {"ESTABLISHMENT"}
        for q in inst["quotas"]:
            assert q["vacant"] == max(q["approved"] - q["occupied"], 0)
            assert q["over"] == max(q["occupied"] - q["approved"], 0)
        assert sum(q["occupied"] for q in inst["quotas"]) == len(inst["people"])
        checked += bool(inst["people"])
    assert checked > 10


def test_unknown_and_malformed_institution_codes(hub: Hub) -> None:
    assert hub.query(INSTITUTION, {"code": "12152900MB1957031D"})["data"]["institution"] is None
    body = hub.query(INSTITUTION, {"code": "  "})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_people_filtered_by_institution_belong_to_it(hub: Hub) -> None:
    nodes, _ = all_institutions(hub, page=500)
    code = next(n["code"] for n in nodes if hub.query(PEOPLE, {"first": 5, "institutionCode": n["code"]})["data"]["people"]["totalCount"] > 3)
    people = hub.query(PEOPLE, {"first": 1000, "institutionCode": code})["data"]["people"]
    assert len(people["edges"]) == people["totalCount"]
    assert {e["node"]["institution"]["code"] for e in people["edges"]} == {code}


def test_people_filtered_by_region_stay_in_region(hub: Hub) -> None:
    people = hub.query(PEOPLE, {"first": 200, "regionCode": "152922"})["data"]["people"]
    assert people["totalCount"] > 0
    assert all(e["node"]["institution"]["regionCode"].startswith("152922") for e in people["edges"])


def _a_person(hub: Hub) -> dict[str, Any]:
    edges = hub.query(PEOPLE, {"first": 300})["data"]["people"]["edges"]
    for edge in edges:
        person = hub.query(PERSON, {"id": edge["node"]["idNumber"]})["data"]["person"]
        if person["personnel"] and person["payroll"] and person["idNumber"][6:8] == "19":
            return person
    raise AssertionError("no person with registry, personnel and payroll facets")


def test_person_facets_from_each_department(hub: Hub) -> None:
    person = _a_person(hub)
    assert person["registry"] and person["registry"][0]["institution"]["code"]
    assert person["name"] and person["sex"] in ("MALE", "FEMALE") and person["birthDate"]
    assert person["retirementDate"] > person["birthDate"]
    entries = person["payroll"]["entries"]
    assert 1 <= len(entries) <= 3
    assert [e["month"] for e in entries] == sorted((e["month"] for e in entries), reverse=True)


def test_id_number_spellings_find_the_same_person(hub: Hub) -> None:
    person = _a_person(hub)
    key = person["idNumber"]
    full_width = key.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    spellings = [key.lower(), full_width, f" {key} "]
    if key[6:8] == "19":
        spellings.append(key[:6] + key[8:17])  # the 15-digit original
    for spelling in spellings:
        found = hub.query(PERSON, {"id": spelling})["data"]["person"]
        assert found["idNumber"] == key and found["name"] == person["name"], spelling


def test_malformed_id_number_is_bad_user_input(hub: Hub) -> None:
    for bad in ("123", "152921198503150021", "15292119850230002X"):
        body = hub.query(PERSON, {"id": bad})
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "身份证" in error["message"] and "ID number" in error["message"]
        assert body["data"] is None or body["data"]["person"] is None


def test_valid_but_unknown_person_is_null(hub: Hub) -> None:
    unknown = make_id_number("110101", dt.date(1990, 3, 7), 1, male=True)  # Beijing: no one here
    body = hub.query(PERSON, {"id": unknown})
    assert body == {"data": {"person": None}}


def test_every_error_has_a_code(hub: Hub) -> None:
    body = hub.query("{ institutions(first: -1) { totalCount } nope }")
    assert body["errors"] and all(e["extensions"]["code"] for e in body["errors"])


def test_health_and_readiness_are_open(hub: Hub) -> None:
    assert hub.client.get("/healthz").json() == {"status": "ok"}
    ready = hub.client.get("/readyz").json()
    assert ready["status"] == "ok" and set(ready["sources"]) == {"establishment", "organization", "hr", "finance"}


def test_a_request_lets_go_of_what_it_loaded(hub: Hub, monkeypatch: Any) -> None:
    """The context, its loaders and the executor refer to each other: the view empties the loaders."""
    from resolvers.context import HubContext

    released: list[HubContext] = []
    real = HubContext.release

    def spy(ctx: HubContext) -> None:
        real(ctx)
        released.append(ctx)

    monkeypatch.setattr(HubContext, "release", spy)
    answer = hub.query("{ institutions(first: 3) { edges { node { name quotas { approved } people { name } } } } }")
    assert "errors" not in answer and len(answer["data"]["institutions"]["edges"]) == 3
    assert len(released) == 1
    ctx = released[0]
    assert ctx.loaders._loaders == {} and ctx.batchers._loaders == {}
