"""Row scope on every argument: every root argument is declared, and each one that names something
refuses a value outside the caller's region (FORBIDDEN, no data, nothing written in the store).

The first test walks the schema's root Query and Mutation fields, so a field added later without
a declaration fails here; the second calls every scoped argument as a banner's principal with a
value of another banner from the demo data, the third with one of its own (which must pass).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
)

from hub.core.db import sync_url
from schema import build_schema
from schema.arguments import BY_FIELD, Names, declared
from tests.conftest import Hub, hub_settings, running_hub

BANNER = "152921"  # 阿拉善左旗: the caller's region
OTHER = "152922"  # 阿拉善右旗
SCHEMA = build_schema()._schema
AUDIT_TABLES = frozenset({"audit_log", "audit_head"})  # reads are audited: those may grow


def root_arguments() -> Iterator[tuple[str, str, str, Any]]:
    """(Query|Mutation, field, argument, its GraphQL argument) of every root field."""
    for root in (SCHEMA.query_type, SCHEMA.mutation_type):
        assert root is not None
        for field_name, field in root.fields.items():
            for arg_name, arg in field.args.items():
                yield root.name, field_name, arg_name, arg


def test_every_root_argument_is_declared() -> None:
    undeclared = [f"{r}.{f}({a})" for r, f, a, _ in root_arguments() if declared(r, f, a) is None]
    assert undeclared == []
    present = {(r, f, a) for r, f, a, _ in root_arguments()}
    assert [k for k in BY_FIELD if k not in present] == []  # no declaration outlives its argument


SCOPED = [(r, f, a) for r, f, a, _ in root_arguments() if declared(r, f, a).names is not Names.NOTHING]  # type: ignore[union-attr]


def test_the_scoped_arguments_are_the_ones_expected() -> None:
    names = {f"{f}({a})" for _, f, a in SCOPED}
    assert {"precheck(institutionCode)", "precheck(idNumber)", "retirementDeferrals(idNumber)",
            "recordRetirementDeferral(idNumber)", "person(idNumber)", "institution(code)", "alerts(regionCode)",
            "freezeInstitution(alertIds)", "confirmFreeze(id)", "_entities(representations)", "runCheck(regionCode)",
            "addPolicyRule(subject)"} <= names


# --- the demo world, seen by a league admin ----------------------------------------------------------


class World:
    """A hub over the demo data with its own store, and values inside and outside BANNER of each kind."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.inside: dict[Names, Any] = {Names.REGION: BANNER}
        # a department's feed, like a league-wide rule, is named only at league scope: any is outside a banner
        self.outside: dict[Names, Any] = {Names.REGION: OTHER, Names.LEAGUE: "analyst", Names.DEPARTMENT: "FINANCE"}

    def league(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.hub.query(query, variables)
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    def banner(self, query: str, variables: dict[str, Any], role: str = "admin", department: str | None = None
               ) -> dict[str, Any]:
        return self.hub.query(query, variables, role=role, department=department, region=BANNER)

    def settle(self) -> None:
        """Wait until no check run is still going (runCheck runs in the background unless told to wait)."""
        deadline = time.monotonic() + 60
        while "RUNNING" in {r["status"] for r in self.league("{ checkRuns(last: 5) { status } }")["checkRuns"]}:
            assert time.monotonic() < deadline
            time.sleep(0.1)

    def application(self, code: str, region: str) -> str:
        """A vacancy-plan application of an institution, written to the store as submitted (its id)."""
        from hub.store.tables import applications

        app_id, now = f"WSCOPE{region}", dt.datetime.now(dt.UTC)
        engine = sa.create_engine(sync_url(self.hub.settings.store_url))
        try:
            with engine.begin() as conn:
                conn.execute(sa.insert(applications).values(
                    id=app_id, kind="VACANCY_PLAN", state="SUBMITTED", institution_code=code, region_code=region,
                    id_number=None, input={"institutionCode": code, "quotaType": "SY", "places": 1}, stage=0,
                    current_steps=["review"], precheck={"blockers": [], "warnings": []}, version=1,
                    submitted_by="scope-test", submitted_department="establishment", submitted_at=now,
                    stage_since=now, updated_at=now, completed_at=None))
        finally:
            engine.dispose()
        return app_id

    def store_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the hub store but the audit log's."""
        engine = sa.create_engine(sync_url(self.hub.settings.store_url))
        try:
            meta = sa.MetaData()
            meta.reflect(engine)
            with engine.connect() as conn:
                return {name: sorted(map(tuple, conn.execute(sa.select(table))), key=repr)
                        for name, table in meta.tables.items() if name not in AUDIT_TABLES}
        finally:
            engine.dispose()

    def regions_of(self, id_number: str) -> set[str | None]:
        """The regions of the institutions of every record a department keeps of a person."""
        person = self.league("""query($id: String!) { person(idNumber: $id) {
            registry { institution { regionCode } } personnel { institution { regionCode } }
            cadre { appointments { institution { regionCode } } } payroll { institution { regionCode } } } }""",
                             id=id_number)["person"]
        found = [*(s["institution"] for s in person["registry"] or []),
                 (person["personnel"] or {}).get("institution"),
                 *(a["institution"] for a in (person["cadre"] or {}).get("appointments", [])),
                 (person["payroll"] or {}).get("institution")]
        return {(i or {}).get("regionCode") for i in found}

    def person_in(self, region: str, only: bool) -> str:
        """A person with a registry slot in the region (with `only`: no department's record of them lies in BANNER)."""
        listed = self.league("""query($r: String!) { people(first: 200, regionCode: $r, includeLeft: true) {
            edges { node { idNumber } } } }""", r=region)["people"]["edges"]
        for edge in listed:
            regions = self.regions_of(edge["node"]["idNumber"])
            if not only or not any((r or "").startswith(BANNER) for r in regions):
                return edge["node"]["idNumber"]  # type: ignore[no-any-return]
        raise AssertionError(f"no person in {region}")


@pytest.fixture(scope="module")
def world(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    store = tmp_path_factory.mktemp("scope-store") / "hub.db"
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}")) as hub:
        w = World(hub)
        w.league("mutation { runCheck(wait: true) { status } }")
        for names, region in ((w.inside, BANNER), (w.outside, OTHER)):
            code = w.league("query($r: String!) { institutions(first: 1, regionCode: $r) { edges { node { code } } } }",
                            r=region)["institutions"]["edges"][0]["node"]["code"]
            names[Names.INSTITUTION] = code
            names[Names.PERSON] = w.person_in(region, only=region == OTHER)
            alert = w.league("query($r: String!) { alerts(first: 1, regionCode: $r) { edges { node { id } } } }",
                             r=region)["alerts"]["edges"][0]["node"]["id"]
            names[Names.ALERT] = alert
            names[Names.FREEZE] = w.league("""mutation($c: String!) { freezeInstitution(institutionCode: $c,
                reason: "test", hiring: true) { id } }""", c=code)["freezeInstitution"]["id"]
            names[Names.APPLICATION] = w.application(code, region)
            names[Names.APPLICATION_INPUT] = {"institutionCode": code}
        w.inside[Names.ENTITIES] = [{"__typename": "Institution", "code": w.inside[Names.INSTITUTION]},
                                    {"__typename": "Person", "idNumber": w.inside[Names.PERSON]}]
        w.outside[Names.ENTITIES] = [w.inside[Names.ENTITIES][0], {"__typename": "Person", "idNumber": w.outside[Names.PERSON]}]
        yield w


# --- one call per scoped argument ---------------------------------------------------------------------


def _literal(gql_type: Any) -> str:
    """A plain literal of a type, for required arguments that name nothing."""
    inner = gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type
    if isinstance(inner, GraphQLList):
        return f"[{_literal(inner.of_type)}]"
    if isinstance(inner, GraphQLEnumType):
        return next(iter(inner.values))
    return {"Boolean": "true", "Int": "1", "Date": '"2030-01-01"'}.get(inner.name, '"x"')


def call(world: World, root: str, field_name: str, argument: str, values: dict[Names, Any]) -> dict[str, Any]:
    """The field called with `argument` (a variable) set from `values`, other required scoped arguments inside BANNER."""
    root_type = SCHEMA.query_type if root == "Query" else SCHEMA.mutation_type
    assert root_type is not None
    field = root_type.fields[field_name]
    given, variables = [f"{argument}: $v"], {"v": values[declared(root, field_name, argument).names]}  # type: ignore[union-attr]
    for name, arg in field.args.items():
        if name != argument and isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined:
            what = declared(root, field_name, name).names  # type: ignore[union-attr]
            given.append(f"{name}: {_literal(arg.type)}" if what is Names.NOTHING else f"{name}: ${name}")
            if what is not Names.NOTHING:
                variables[name] = world.inside[what]
    extra = "".join(f", ${n}: {field.args[n].type}" for n in variables if n != "v")
    shape = get_named_type(field.type)
    selection = " { __typename }" if isinstance(shape, GraphQLObjectType | GraphQLUnionType) else ""
    assert isinstance(shape, GraphQLObjectType | GraphQLUnionType | GraphQLScalarType | GraphQLEnumType)
    document = f"{root.lower()}($v: {field.args[argument].type}{extra}) {{ {field_name}({', '.join(given)}){selection} }}"
    if field_name.endswith("Application") or field_name == "application":  # the workflow acts by department roles
        return world.banner(document, variables, role="officer", department="establishment")
    return world.banner(document, variables)


@pytest.mark.parametrize(("root", "field", "argument"), SCOPED, ids=[f"{f}.{a}" for _, f, a in SCOPED])
def test_an_argument_outside_the_callers_region_is_refused_before_anything_runs(
    world: World, root: str, field: str, argument: str
) -> None:
    before = world.store_rows()
    body = call(world, root, field, argument, world.outside)
    assert body.get("data") is None, body
    assert [(e["extensions"]["code"], e["extensions"]["argument"]) for e in body["errors"]] == [("FORBIDDEN", argument)]
    assert " / " in body["errors"][0]["message"]
    assert world.store_rows() == before


LEAGUE_ONLY = (Names.LEAGUE, Names.DEPARTMENT)  # nothing of these kinds is inside a banner


@pytest.mark.parametrize(("root", "field", "argument"), [s for s in SCOPED if declared(*s).names not in LEAGUE_ONLY],  # type: ignore[union-attr]
                         ids=[f"{f}.{a}" for r, f, a in SCOPED if declared(r, f, a).names not in LEAGUE_ONLY])  # type: ignore[union-attr]
def test_an_argument_inside_the_callers_region_is_not_refused(world: World, root: str, field: str, argument: str) -> None:
    body = call(world, root, field, argument, world.inside)
    assert "FORBIDDEN" not in {e["extensions"]["code"] for e in body.get("errors", [])}, body
    world.settle()


def test_a_league_principal_passes_the_check_on_a_policy_rule_subject(world: World) -> None:
    body = world.hub.query('mutation { addPolicyRule(subject: "analyst", object: "Person.name", action: "read") }')
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]  # policies come from the file here


# --- the cases of the issue ---------------------------------------------------------------------------


def test_a_banner_hr_officer_cannot_defer_another_banners_retirement(world: World) -> None:
    alerts = world.league('{ alerts(first: 1000, rule: ["R08"]) { edges { node { id idNumber regionCode status } } } }')
    target = next(e["node"] for e in alerts["alerts"]["edges"] if not e["node"]["regionCode"].startswith(BANNER)
                  and not any((r or "").startswith(BANNER) for r in world.regions_of(e["node"]["idNumber"])))
    before = world.store_rows()
    record = 'mutation($id: String!) { recordRetirementDeferral(idNumber: $id, until: "2030-01-01") { id } }'
    body = world.banner(record, {"id": target["idNumber"]}, role="officer", department="hr")
    assert body["data"] is None and [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert world.store_rows() == before
    listed = world.banner("query($id: String!) { retirementDeferrals(idNumber: $id) { id } }", {"id": target["idNumber"]},
                          role="officer", department="hr")
    assert listed["data"] is None and [e["extensions"]["code"] for e in listed["errors"]] == ["FORBIDDEN"]
    world.league("mutation { runCheck(wait: true) { status } }")
    after = world.league("query($id: ID!) { alert(id: $id) { status } }", id=target["id"])["alert"]["status"]
    assert after == target["status"]  # the severe R08 alert was not resolved by a forged exemption


def test_precheck_does_not_tell_a_banner_where_another_banners_person_sits(world: World) -> None:
    query = """query($code: String!, $id: String) { precheck(action: HIRE, institutionCode: $code, idNumber: $id) {
        allowed blockers { code } } }"""
    own = world.banner(query, {"code": world.inside[Names.INSTITUTION], "id": world.inside[Names.PERSON]},
                       role="officer", department="establishment")
    assert "errors" not in own and "ALREADY_IN_SLOT" in {b["code"] for b in own["data"]["precheck"]["blockers"]}
    other = world.banner(query, {"code": world.inside[Names.INSTITUTION], "id": world.outside[Names.PERSON]},
                         role="officer", department="establishment")
    assert other["data"] is None and [e["extensions"]["code"] for e in other["errors"]] == ["FORBIDDEN"]


def test_a_banners_auditor_sees_the_audit_entries_of_its_banner_only(world: World) -> None:
    person = "query($id: String!) { person(idNumber: $id) { name } }"
    world.league(person, id=world.outside[Names.PERSON])
    world.banner(person, {"id": world.inside[Names.PERSON]})
    entries = "{ auditEntries(first: 500) { totalCount edges { node { region } } } }"
    deadline = time.monotonic() + 10
    while True:  # the audit writer appends in the background
        every = [e["node"]["region"] for e in world.league(entries)["auditEntries"]["edges"]]
        if (BANNER in every and "152900" in every) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    seen = world.banner(entries, {}, role="auditor")["data"]["auditEntries"]
    own = [r for r in every if r.startswith(BANNER)]
    assert own and len(own) < len(every)
    assert [e["node"]["region"] for e in seen["edges"]] == own and seen["totalCount"] == len(own)
