"""Masking cannot be undone by another field (PIPL minimisation).

For every role of the policy and every derivation (policies/derivations.csv), a field revealing a
masked one is narrowed; `hub policy check` reports a policy that would let it through; every field
of the schema that holds a personal value is in the derivation table; every argument filtering on
such a field needs the right to read it; alert messages and evidence are rendered with the
reader's masks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLObjectType
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.supervision.model import Rule
from hub.supervision.rules import RULES
from policies.access import Access
from policies.check import check_policy
from policies.derivations import DERIVATIONS, Treatment, ceiling, load_derivations, narrow, reconstructible
from policies.grants import POLICY_PATH, PolicyBook, new_enforcer
from schema import build_schema
from schema.alert_masks import ALL_MASKED, masks_for
from schema.arguments import filtered_field
from schema.masking import MASKABLE, MASKERS
from tests.conftest import Hub, hub_settings, running_hub

# Fields holding a personal value or a part of one, found by name in every type of the schema.
PERSONAL = re.compile(r"(?i)birth|sex|retire|idnumber|^name$|^namesource$|insuredno")


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return build_schema()._schema


@pytest.fixture(scope="module")
def book(schema: Any) -> PolicyBook:
    return PolicyBook(new_enforcer(), schema_fields_of(schema), MASKABLE)


def schema_fields_of(schema: Any) -> list[tuple[str, str]]:
    return [(name, f) for name, t in schema.type_map.items() if isinstance(t, GraphQLObjectType)
            and not name.startswith("__") for f in t.fields]


def role_sets(book: PolicyBook) -> Iterator[frozenset[str]]:
    """Every subject of policy.csv alone, and every pair (a principal may hold several roles)."""
    subjects = sorted(book.enforcer.get_all_subjects())
    for i, a in enumerate(subjects):
        yield frozenset({a})
        for b in subjects[i + 1:]:
            yield frozenset({a, b})


def test_no_role_can_reconstruct_a_masked_field(book: PolicyBook) -> None:
    checked = 0
    for subjects in role_sets(book):
        grants = book.grants(subjects)
        for d in DERIVATIONS:
            for masked, derived in d.edges():
                if grants.access(*masked) is Access.MASK:
                    checked += 1
                    assert grants.access(*derived) <= ceiling(d.treatment, derived, MASKABLE), (subjects, d)
        assert reconstructible(grants.fields, DERIVATIONS, MASKABLE) == [], subjects
    assert checked > 50  # the auditor and the analyst, alone and with every other role


def test_the_auditor_sees_birth_facts_coarsened_and_the_issue_example_is_closed(book: PolicyBook) -> None:
    auditor = book.grants(["auditor"])
    assert auditor.access("Person", "idNumber") is Access.MASK
    assert auditor.access("Person", "birthDate") is Access.DENY  # 1978-12-14 would fill 152923********2304
    assert auditor.access("Person", "retirementDate") is Access.DENY  # computed from the birth date
    for facet in ("RegistryEntry", "PersonnelRecord", "CadreRecord"):
        assert auditor.access(facet, "birth") is Access.MASK and MASKABLE[(facet, "birth")] == "year"
        assert auditor.access(facet, "name") is Access.MASK
    assert auditor.access("Person", "sex") is Access.READ  # the 17th digit is shown by the mask
    assert auditor.access("RetirementDeferral", "idNumber") is Access.MASK
    officer = book.grants(["hr.officer"])
    assert officer.access("Person", "birthDate") is Access.READ and officer.access("PersonnelRecord", "birth") is Access.READ
    # a principal holding both roles reads the ID number whole, so nothing is narrowed
    assert book.grants(["auditor", "hr.officer"]).access("Person", "birthDate") is Access.READ


def test_every_personal_field_of_the_schema_is_in_the_derivation_table(schema: Any) -> None:
    named = {f for d in DERIVATIONS for f in (d.derived, d.source)}
    found = [(t, f) for t, f in schema_fields_of(schema) if PERSONAL.search(f) and not t.startswith("_")
             and t not in ("Institution", "Region", "SourceUnit", "Query", "Mutation")]
    assert len(found) >= 16
    missing = [f for f in found if f not in named]
    assert missing == [], f"add to policies/derivations.csv: {missing}"
    assert {f for f in named if f not in set(schema_fields_of(schema))} == set()


def test_the_same_value_is_masked_wherever_one_place_masks_it() -> None:
    """SAME narrows both ways and on until nothing changes: registry name masked -> resolved name -> cadre name."""
    table = {("RegistryEntry", "name"): Access.MASK, ("Person", "name"): Access.READ, ("CadreRecord", "name"): Access.READ,
             ("Person", "idNumber"): Access.READ, ("Person", "birthDate"): Access.READ}
    narrowed = narrow(table, DERIVATIONS, MASKABLE)
    assert narrowed == {**table, ("Person", "name"): Access.MASK, ("CadreRecord", "name"): Access.MASK}
    assert reconstructible(table, DERIVATIONS, MASKABLE) != [] and reconstructible(narrowed, DERIVATIONS, MASKABLE) == []


@pytest.mark.parametrize(("line", "says"), [
    ("Person.birthDate, Person.idNumber, hide, x", "unknown treatment"),
    ("Person.birthDate, Person.idNumber, deny", "four columns"),
    ("birthDate, Person.idNumber, deny, x", "Type.field"),
])
def test_a_malformed_derivation_table_is_refused(tmp_path: Path, line: str, says: str) -> None:
    bad = tmp_path / "derivations.csv"
    bad.write_text(f"# comment\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=says):
        load_derivations(bad)


def test_each_treatment_is_sound() -> None:
    for d in DERIVATIONS:
        if d.treatment is Treatment.COARSEN:
            assert d.derived in MASKABLE, d  # else coarsening would deny
        if d.treatment is Treatment.SAME and d.derived in MASKABLE and d.source in MASKABLE:
            assert MASKABLE[d.derived] == MASKABLE[d.source], d


BAD_LINE = "p, analyst, Person.birthDate, read\n"


def test_policy_check_passes_the_default_policy_and_catches_a_reconstructing_one(tmp_path: Path, schema: Any) -> None:
    fields = schema_fields_of(schema)
    assert check_policy(new_enforcer(), fields, MASKABLE) == []
    bad = tmp_path / "policy.csv"
    bad.write_text(POLICY_PATH.read_text(encoding="utf-8") + BAD_LINE, encoding="utf-8")
    problems = check_policy(new_enforcer(bad), fields, MASKABLE)
    assert any("analyst, Person.birthDate, read -> deny" in p for p in problems), problems
    # the policy lines alone (before the derivation table) would reveal the masked ID number
    raw = PolicyBook(new_enforcer(bad), fields, MASKABLE).policy_access("analyst")
    assert any("Person.birthDate" in p and "Person.idNumber" in p for p in reconstructible(raw, DERIVATIONS, MASKABLE))
    # a compiler that forgot the table is caught by the check on the compiled grants
    forgetful = PolicyBook(new_enforcer(bad), fields, MASKABLE, derivations=())
    assert reconstructible(forgetful.grants(["analyst"]).fields, DERIVATIONS, MASKABLE) != []
    out = CliRunner().invoke(cli, ["policy", "check"], env={"HUB_POLICY_FILE": str(bad)})
    assert out.exit_code == 1 and "Person.birthDate" in out.output


# --- filters ---------------------------------------------------------------------------------

def test_every_filter_argument_declares_the_field_it_filters_on(schema: Any) -> None:
    protected = {f for _, f in MASKABLE} | {f for d in DERIVATIONS for _, f in (d.derived, d.source)} | {"representations"}
    arguments = [(t, f, a) for t, gt in schema.type_map.items() if isinstance(gt, GraphQLObjectType)
                 and not t.startswith("__") for f, fd in gt.fields.items() for a in fd.args]
    assert len(arguments) > 40
    undeclared = [x for x in arguments if x[2] in protected and filtered_field(*x) is None]
    assert undeclared == [], f"declare what they filter on (reads) in schema/arguments.py: {undeclared}"
    known = set(schema_fields_of(schema))
    for x in arguments:
        target = filtered_field(*x)
        assert target is None or target in known, (x, target)


@pytest.mark.parametrize(("role", "department", "query", "field"), [
    ("auditor", None, '{ people(name: "张") { totalCount } }', "Person.name"),
    ("analyst", None, '{ people(name: "张") { totalCount } }', "Person.name"),
    ("auditor", None, '{ person(idNumber: "152921198605204818") { sex } }', "Person.idNumber"),
    ("auditor", None, '{ alerts(idNumber: "152921198605204818") { totalCount } }', "Alert.idNumber"),
    ("auditor", None, '{ precheck(action: HIRE, institutionCode: "x", idNumber: "152921198605204818") { allowed } }',
     "Person.idNumber"),
    ("auditor", None, 'query($n: String) { people(name: $n) { totalCount } }', "Person.name"),
])
def test_a_role_cannot_filter_on_a_field_it_sees_masked(hub: Hub, role: str, department: str | None, query: str,
                                                       field: str) -> None:
    body = hub.query(query, {"n": "张"}, role=role, department=department)
    assert body.get("data") is None
    assert "152921198605204818" not in repr(body) and "张" not in repr(body)  # the refusal does not echo the value
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [("FORBIDDEN", field)]


def test_a_role_reading_the_field_may_filter_on_it(hub: Hub) -> None:
    body = hub.query('{ people(name: "张", first: 1) { totalCount } }', role="officer", department="establishment")
    assert "errors" not in body and body["data"]["people"]["totalCount"] >= 0
    body = hub.query('{ people(name: null, first: 1) { totalCount } }', role="auditor")  # a null filter filters nothing
    assert "errors" not in body


# --- alerts ----------------------------------------------------------------------------------

EVIDENCE = {
    "R08": {"birth": "1960-03-14", "retirement": "2020-03-14", "month": "2026-10", "whereZh": "在编", "whereEn": "in post"},
    "R10": {"kindZh": "身份证号码", "kindEn": "ID number", "code": "152923197812142304", "problemZh": "校验码错误",
            "problemEn": "bad check digit", "sources": "establishment"},
    "R11": {"births": [{"value": "1978-12-14", "sources": ["ID"]}, {"value": "1978-11", "sources": ["establishment"]}],
            "sexes": "—"},
    "R12": {"names": [{"value": "张三丰", "sources": ["establishment"]}, {"value": "张三", "sources": ["hr", "finance"]}]},
}
# As alerts stored before evidence was structured kept them.
OLD = {"R11": {"births": "1978-12-14 (ID), 1978-11 (establishment)", "sexes": "—"},
       "R12": {"names": "张三丰 (establishment), 张三 (hr/finance)"}}
SECRETS = ("152923197812142304", "1978-12-14", "1978-11", "1960-03-14", "2020-03-14", "张三丰", "张三 ")


@pytest.mark.parametrize("evidence", [EVIDENCE, OLD], ids=["structured", "stored-as-text"])
def test_alert_messages_and_evidence_are_rendered_with_the_readers_masks(book: PolicyBook, evidence: dict[str, Any]) -> None:
    auditor = masks_for(book.grants(["auditor"]))
    officer = masks_for(book.grants(["establishment.officer"]))
    assert officer == {}
    for rule_id, facts in evidence.items():
        rule: Rule = RULES[rule_id]
        assert rule.personal, rule_id
        shown = rule.message(facts, auditor) + repr(rule.evidence(facts, auditor))
        assert not any(s in shown for s in SECRETS), (rule_id, shown)
        whole = rule.message(facts, officer)
        assert any(s in whole for s in SECRETS), (rule_id, whole)
    assert "1978 (ID), 1978 (establishment)" in RULES["R11"].message(evidence["R11"], auditor)
    assert "张** (establishment), 张* (hr/finance)" in RULES["R12"].message(evidence["R12"], auditor)


def test_every_rule_names_its_personal_evidence() -> None:
    """A template placeholder holding a personal value must be declared (else it is shown whole)."""
    for rule in RULES.values():
        placeholders = set(re.findall(r"{(\w+)}", rule.template_zh + rule.template_en))
        suspicious = {p for p in placeholders if re.search(r"(?i)birth|name|retire|^code$|idnumber", p)}
        assert suspicious <= set(rule.personal), (rule.id, suspicious - set(rule.personal))


def test_the_auditor_reads_no_personal_value_in_any_alert(demo_dir: Path, tmp_path: Path) -> None:
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/store.db")
    query = "{ alerts(first: 1000) { edges { node { id rule idNumber message evidence } } } }"
    with running_hub(settings) as hub:
        run = hub.query("mutation { runCheck(wait: true) { status } }")
        assert run["data"]["runCheck"]["status"] == "DONE", run
        whole = {e["node"]["id"]: e["node"] for e in hub.query(query)["data"]["alerts"]["edges"]}
        masked = {e["node"]["id"]: e["node"] for e in hub.query(query, role="auditor")["data"]["alerts"]["edges"]}
    assert masked.keys() == whole.keys()
    assert {"R08", "R10", "R11", "R12"} <= {a["rule"] for a in whole.values()}
    ids = {a["idNumber"] for a in whole.values() if a["idNumber"]}
    masks, checked = ALL_MASKED, set()
    for alert in whole.values():
        shown = masked[alert["id"]]
        text = shown["message"] + repr(shown["evidence"])
        assert not any(i in text for i in ids), text  # no alert's ID number in any alert's text
        if not alert["idNumber"]:
            continue
        assert shown["idNumber"] != alert["idNumber"]
        for key, kind in RULES[alert["rule"]].personal.items():
            for value in _values(alert["evidence"].get(key)):
                if masks[kind](value) != value:
                    assert value not in text, (alert["rule"], value, text)
                    checked.add(alert["rule"])
    assert checked == {"R08", "R10", "R11", "R12"} & {a["rule"] for a in whole.values() if a["idNumber"]}


def _values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v["value"]) for v in value]
    return [] if value in (None, "—") else [str(value)]


def test_masks_hold_outside_the_plan_on_a_mutation_payload_and_a_resolver_field(demo_dir: Path, tmp_path: Path) -> None:
    """Masks are applied where the executor completes values: a mutation's payload and fields the
    compiled plan does not cover (async resolvers) are masked as the plan's fields are."""
    acknowledge = "mutation($id: ID!) { acknowledgeAlert(id: $id) { idNumber status } }"
    one = "query($id: ID!) { alert(id: $id) { idNumber } }"
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db")) as hub:
        assert hub.query("mutation { runCheck(wait: true) { status } }")["data"]["runCheck"]["status"] == "DONE"
        listed = hub.query("{ alerts(first: 100) { edges { node { id idNumber } } } }")["data"]["alerts"]["edges"]
        alert = next(e["node"] for e in listed if e["node"]["idNumber"])
        book = hub.client.app_state["hub"].policies
        book.enforcer.add_policy("admin", "Alert.idNumber", "mask")
        book.clear()
        try:
            made = hub.query(acknowledge, {"id": alert["id"]})
            found = hub.query(one, {"id": alert["id"]})
        finally:
            book.enforcer.remove_policy("admin", "Alert.idNumber", "mask")
            book.clear()
        whole = hub.query(one, {"id": alert["id"]})
    assert "errors" not in made and "errors" not in found, (made, found)
    masked = MASKERS[MASKABLE[("Alert", "idNumber")]](alert["idNumber"])
    assert masked != alert["idNumber"] and made["data"]["acknowledgeAlert"] == {"idNumber": masked, "status": "ACKNOWLEDGED"}
    assert found["data"]["alert"]["idNumber"] == masked
    assert whole["data"]["alert"]["idNumber"] == alert["idNumber"]  # the same role, its mask lifted
