"""Vacancy plans, payroll changes, cadre education and leadership post use: the answers agree with the
legacy rows of the demo databases, and a role without the grant cannot read them."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.core.ids import id_number_problem, normalize_id_number
from tests.conftest import Hub

INSTITUTIONS = """query($after: String) { institutions(first: 100, after: $after) {
  edges { node { code sourceUnits { department localCode } %s } } pageInfo { hasNextPage endCursor } } }"""
PLANS = "vacancyPlans { planId quotaType planned used left recordedUsed status approvedOn }"
POSTS = "leadershipPosts { level scope approved filled vacant over }"
CHANGES = "payrollChanges { changeId payeeCode kind fromMonth toMonth document unitLocalId }"
PERSON = "query($id: String!) { person(idNumber: $id) { idNumber %s } }"
EDUCATION = "education { education fullTime graduatedOn }"
PERSON_CHANGES = "payrollChanges { changeId kind fromMonth unitLocalId }"
STATUS = {"已批准": "APPROVED", "已用完": "USED_UP", "已撤销": "REVOKED"}
KIND = {"新增": "START", "停发": "STOP", "调资": "RAISE", "调动": "TRANSFER"}


def rows(demo_dir: Path, department: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(demo_dir / f"{department}.db") as conn:
        return list(conn.execute(sql, args))


def month(raw: str | None) -> str | None:
    return f"{raw[:4]}-{raw[4:6]}" if raw else None


def every_institution(hub: Hub, fields: str, department: str | None, role: str = "officer") -> Iterator[dict[str, Any]]:
    after = None
    while True:
        body = hub.query(INSTITUTIONS % fields, {"after": after}, role=role, department=department)
        assert not body.get("errors"), body
        page = body["data"]["institutions"]
        yield from (e["node"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


def local(node: dict[str, Any], department: str) -> str | None:
    return next((u["localCode"] for u in node["sourceUnits"] if u["department"] == department.upper()), None)


def forbidden(body: dict[str, Any], field: str) -> bool:
    """Refused as a whole, every error FORBIDDEN, one of them naming the field."""
    errors = body.get("errors") or []
    return (body.get("data") is None and bool(errors) and {e["extensions"]["code"] for e in errors} == {"FORBIDDEN"}
            and any(e["extensions"].get("field") == field for e in errors))


def test_vacancy_plans_are_the_registry_plans_with_places_used_by_entries(hub: Hub, demo_dir: Path) -> None:
    entries = dict(rows(demo_dir, "establishment", "SELECT JHID, COUNT(*) FROM T_SMZ WHERE JHID IS NOT NULL GROUP BY JHID"))
    seen = 0
    for node in every_institution(hub, PLANS, "establishment"):
        unit = local(node, "establishment")
        raw = rows(demo_dir, "establishment", "SELECT JHID, BZLX, JHS, YYS, PZRQ, ZT FROM T_YBJH WHERE JGID = ?", unit)
        got = {p["planId"]: p for p in node["vacancyPlans"]}
        assert sorted(got) == sorted(r[0] for r in raw), node["code"]
        for plan_id, quota_type, planned, recorded, approved_on, status in raw:
            plan = got[plan_id]
            used = entries.get(plan_id, 0)
            assert (plan["quotaType"], plan["planned"], plan["recordedUsed"], plan["status"]) == (
                quota_type, planned, recorded, STATUS[status])
            assert (plan["used"], plan["left"]) == (used, max(planned - used, 0))
            assert plan["approvedOn"] == approved_on
            seen += 1
    assert seen == rows(demo_dir, "establishment", "SELECT COUNT(*) FROM T_YBJH")[0][0] and seen > 0


def test_leadership_post_use_is_the_approved_posts_against_appointments(hub: Hub, demo_dir: Path) -> None:
    checked = 0
    for node in every_institution(hub, POSTS, "organization"):
        unit = local(node, "establishment")
        raw = rows(demo_dir, "establishment", "SELECT ZWCC, ZSLX, HDZS FROM T_LDZS WHERE JGID = ?", unit)
        level, scope = {"正职": "HEAD", "副职": "DEPUTY"}, {"单位": "UNIT", "内设": "INTERNAL"}
        assert sorted((p["level"], p["scope"], p["approved"]) for p in node["leadershipPosts"]) == sorted(
            (level[a], scope[b], n) for a, b, n in raw)
        for post in node["leadershipPosts"]:
            if post["filled"] is not None:
                assert post["vacant"] == max(post["approved"] - post["filled"], 0)
                assert post["over"] == max(post["filled"] - post["approved"], 0)
                checked += 1
    assert checked > 0
    org = {n["code"]: local(n, "organization") for n in every_institution(hub, "", None, role="admin")}
    filled = Counter(r[0] for r in rows(demo_dir, "organization", "SELECT A0201B FROM A02 WHERE A0265 IS NULL OR A0265 = ''"))
    total = sum(p["filled"] or 0 for n in every_institution(hub, POSTS, "organization") for p in n["leadershipPosts"])
    assert 0 < total <= sum(filled[c] for c in org.values() if c)  # every filled post is an appointment in post


def test_payroll_changes_by_institution_and_person(hub: Hub, demo_dir: Path) -> None:
    raw = rows(demo_dir, "finance", "SELECT d.YDID, d.RYBM, d.YDLX, d.QXNY, d.TXNY, d.PZWH, r.DWDM, r.SFZH "
                                    "FROM GZ_YD d JOIN GZ_RY r ON r.RYBM = d.RYBM")
    by_unit: dict[str, dict[str, tuple[Any, ...]]] = {}
    for row in raw:
        by_unit.setdefault(row[6], {})[row[0]] = row
    seen = 0
    for node in every_institution(hub, CHANGES, "finance"):
        mine = by_unit.get(local(node, "finance") or "", {})
        assert sorted(c["changeId"] for c in node["payrollChanges"]) == sorted(mine), node["code"]
        for change in node["payrollChanges"]:
            _, payee, kind, start, end, document, _, _ = mine[change["changeId"]]
            assert (change["payeeCode"], change["kind"], change["fromMonth"], change["toMonth"], change["document"]) == (
                payee, KIND[kind], month(start), month(end), document or None)
            assert change["unitLocalId"] == local(node, "finance")
            seen += 1
    assert seen > 0

    person = next(p for r in raw if (p := normalize_id_number(r[7])) and not id_number_problem(p))
    expected = sorted(r[0] for r in raw if normalize_id_number(r[7]) == person)
    body = hub.query(PERSON % PERSON_CHANGES, {"id": person}, role="officer", department="finance")
    assert not body.get("errors"), body
    assert sorted(c["changeId"] for c in body["data"]["person"]["payrollChanges"]) == expected


def test_cadre_education_records(hub: Hub, demo_dir: Path) -> None:
    raw = rows(demo_dir, "organization", "SELECT a.A0184, e.A0801B, e.A0837, e.A0807 FROM A08 e JOIN A01 a ON a.A0100 = e.A0100")
    person = next(p for r in raw if (p := normalize_id_number(r[0])) and not id_number_problem(p))
    mine = [r for r in raw if normalize_id_number(r[0]) == person]
    body = hub.query(PERSON % EDUCATION, {"id": person}, role="officer", department="organization")
    assert not body.get("errors"), body
    got = sorted((e["education"], e["fullTime"], e["graduatedOn"]) for e in body["data"]["person"]["education"])
    assert got == sorted((code, full == "1", f"{day[:4]}-{day[4:6]}-{day[6:]}") for _, code, full, day in mine)


@pytest.mark.parametrize(("fields", "field", "role", "department"), [
    (PLANS, "Institution.vacancyPlans", "officer", "finance"),  # finance does not read vacancy plans
    (PLANS, "Institution.vacancyPlans", "officer", "organization"),
    (PLANS, "Institution.vacancyPlans", "analyst", None),
    (CHANGES, "Institution.payrollChanges", "officer", "hr"),  # pay-related: finance and the auditor only
    (CHANGES, "Institution.payrollChanges", "officer", "establishment"),
    (CHANGES, "Institution.payrollChanges", "analyst", None),
])
def test_a_role_without_the_grant_cannot_read_them(hub: Hub, fields: str, field: str, role: str,
                                                   department: str | None) -> None:
    assert forbidden(hub.query(INSTITUTIONS % fields, {"after": None}, role=role, department=department), field)


@pytest.mark.parametrize(("department", "role"), [("hr", "officer"), ("finance", "officer"), (None, "analyst")])
def test_education_is_the_organization_departments(hub: Hub, demo_dir: Path, department: str | None, role: str) -> None:
    person = next(p for r in rows(demo_dir, "organization", "SELECT A0184 FROM A01")
                  if (p := normalize_id_number(r[0])) and not id_number_problem(p))
    assert forbidden(hub.query(PERSON % EDUCATION, {"id": person}, role=role, department=department), "Person.education")
    changes = hub.query(PERSON % PERSON_CHANGES, {"id": person}, role=role, department=department)
    assert department == "finance" or forbidden(changes, "Person.payrollChanges")


def test_the_auditor_reads_a_persons_payroll_changes_with_the_person_masked(hub: Hub, demo_dir: Path) -> None:
    known = {r[0] for r in rows(demo_dir, "finance", "SELECT YDID FROM GZ_YD")}
    body = hub.query("{ people(first: 500) { edges { node { idNumber payrollChanges { changeId } } } } }", role="auditor")
    assert not body.get("errors"), body
    nodes = [e["node"] for e in body["data"]["people"]["edges"]]
    assert nodes and all("*" in n["idNumber"] for n in nodes)
    seen = {c["changeId"] for n in nodes for c in n["payrollChanges"]}
    assert seen and seen <= known
