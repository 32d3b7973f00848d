"""Departments are data: a fifth department joins with a mapping file, its settings and policy lines.

Nothing in hub/, schema/ or resolvers/ names the education bureau below: its URL and mapping are
settings, its names and trust rank come from its mapping, tokens, policies and the GraphQL
`Department` enum follow the table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from typer.testing import CliRunner

from adapters.registry import build_sources, load_departments
from hub import cli
from hub.core.departments import Department, Departments
from hub.core.errors import BadUserInput, MappingError
from hub.core.settings import Settings, SourceSettings
from policies.grants import POLICY_PATH
from tests.conftest import DEPARTMENTS, TEST_SECRET, Hub, hub_settings, running_hub

MAPPING = """\
# 教育局 学校管理系统 / Education bureau: schools.
department: education
title: 教育局 / Education bureau
trust: 5
entities:
  unit:
    table: XX_XX
    scope: local_id
    order: [local_id]
    columns:
      local_id: XXDM
      name: {column: XXMC, normalize: name}
      credit_code: {column: TYSHXYDM, normalize: credit_code}
      region_code: XZQH
"""
POLICY_LINES = "\ng, education.officer, staff\n"


@pytest.fixture(scope="module")
def education(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The education bureau's own database (two schools, one sharing a USCC with a demo institution),
    its mapping file and a policy file granting `education.officer` what staff read."""
    folder = tmp_path_factory.mktemp("education")
    with sqlite3.connect(demo_dir / "establishment.db") as est:
        local, name, uscc, region = est.execute(
            "SELECT JGID, JGMC, TYSHXYDM, XZQH FROM T_JG WHERE length(TYSHXYDM) = 18 ORDER BY JGID LIMIT 1").fetchone()
    with sqlite3.connect(folder / "education.db") as db:
        db.execute("CREATE TABLE XX_XX (XXDM TEXT PRIMARY KEY, XXMC TEXT, TYSHXYDM TEXT, XZQH TEXT)")
        db.executemany("INSERT INTO XX_XX VALUES (?, ?, ?, ?)",
                       [("S001", name, uscc, region), ("S002", "阿拉善盟无名小学", None, "152900")])
    (folder / "education.yaml").write_text(MAPPING, encoding="utf-8")
    (folder / "policy.csv").write_text(POLICY_PATH.read_text(encoding="utf-8") + POLICY_LINES, encoding="utf-8")
    return {"url": f"sqlite+aiosqlite:///{folder / 'education.db'}", "mapping": folder / "education.yaml",
            "policy": folder / "policy.csv", "uscc": uscc, "establishment_unit": local}


@pytest.fixture
def env(education: dict[str, Any], demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment an integrator sets: the fifth source's URL and mapping, the policy file."""
    values = {"HUB_SOURCE_EDUCATION_URL": education["url"], "HUB_SOURCE_EDUCATION_MAPPING": str(education["mapping"]),
              "HUB_POLICY_FILE": str(education["policy"]), "HUB_DEMO_DIR": str(demo_dir), "HUB_JWT_SECRET": TEST_SECRET}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture(scope="module")
def five(demo_dir: Path, education: dict[str, Any]) -> Iterator[Hub]:
    """A running hub over the four demo departments and the education bureau."""
    settings = hub_settings(demo_dir, policy_file=education["policy"])
    fifth = SourceSettings(url=education["url"], mapping=education["mapping"])
    with running_hub(settings.model_copy(update={"source": {"education": fifth}})) as running:
        yield running


def test_settings_accept_the_fifth_source_and_its_mapping_makes_it_a_department(env: dict[str, str]) -> None:
    settings = Settings()
    assert settings.source["education"].url == env["HUB_SOURCE_EDUCATION_URL"]
    table = load_departments(settings)
    assert table.ids == ("establishment", "hr", "organization", "finance", "education")  # the trust order
    education = table.get("education")
    assert (education.label, education.settings_prefix) == ("教育局 / Education bureau", "HUB_SOURCE_EDUCATION_")
    sources = build_sources(settings)
    assert sources["education"].supports("unit") and set(DEPARTMENTS) < set(sources)


def test_a_source_without_a_mapping_or_declaring_another_department_is_refused(
        education: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_SOURCE_SCHOOLS_URL", education["url"])
    with pytest.raises(MappingError, match="HUB_SOURCE_SCHOOLS_MAPPING"):
        load_departments(Settings())
    monkeypatch.setenv("HUB_SOURCE_SCHOOLS_MAPPING", str(education["mapping"]))
    with pytest.raises(MappingError, match="declares department 'education', not 'schools'"):
        load_departments(Settings())


def test_department_ids_are_checked_and_unknown_ones_named() -> None:
    with pytest.raises(BadUserInput, match="lower-case letters and digits"):
        Department("social_security", "社保", "Social security", 9)  # "_" splits HUB_SOURCE_<ID>_URL
    table = Departments([Department("b", "乙", "B", 2), Department("a", "甲", "A", 2), Department("c", "丙", "C", 1)])
    assert table.ids == ("c", "a", "b")
    with pytest.raises(BadUserInput, match="unknown department; known: c, a, b"):
        table.get("z")


def test_token_create_accepts_the_fifth_department(env: dict[str, str]) -> None:
    out = CliRunner().invoke(cli.app, ["token", "create", "--role", "officer", "--department", "education"])
    assert out.exit_code == 0, out.output
    claims = jwt.decode(out.stdout.strip(), TEST_SECRET, algorithms=["HS256"], audience="staffing-hub")
    assert (claims["dept"], claims["roles"]) == ("education", ["officer"])
    unknown = CliRunner().invoke(cli.app, ["token", "create", "--role", "officer", "--department", "sports"])
    assert unknown.exit_code != 0 and "unknown department" in unknown.output


def test_policies_may_name_the_fifth_departments_officer(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert CliRunner().invoke(cli.app, ["policy", "check"]).exit_code == 0
    monkeypatch.delenv("HUB_SOURCE_EDUCATION_URL")
    monkeypatch.delenv("HUB_SOURCE_EDUCATION_MAPPING")  # without the department, its subject is a stray role
    stray = CliRunner().invoke(cli.app, ["policy", "check"])
    assert stray.exit_code == 1 and "role is never assigned: education.officer" in stray.stdout


def test_the_department_enum_lists_the_fifth_department(five: Hub) -> None:
    found = five.query('{ __type(name: "Department") { enumValues { name description } } }')
    values = {v["name"]: v["description"] for v in found["data"]["__type"]["enumValues"]}
    assert values == {"ESTABLISHMENT": "编办 / Establishment office", "HR": "人社局 / HR and social security bureau",
                      "ORGANIZATION": "组织部 / Organization department", "FINANCE": "财政局 / Finance bureau",
                      "EDUCATION": "教育局 / Education bureau"}


def test_source_units_of_an_institution_include_the_fifth_departments_school(five: Hub, education: dict[str, Any]) -> None:
    query = "query($code: String!) { institution(code: $code) { sourceUnits { department localCode } } }"
    for role, department in (("admin", None), ("officer", "education")):
        found = five.query(query, {"code": education["uscc"]}, role=role, department=department)
        assert "errors" not in found, found
        units = {(u["department"], u["localCode"]) for u in found["data"]["institution"]["sourceUnits"]}
        assert {("EDUCATION", "S001"), ("ESTABLISHMENT", education["establishment_unit"])} <= units
    listed = five.query("{ institutions(first: 50) { edges { node { sourceUnits { department } } } } }")
    assert "errors" not in listed, listed
