"""Federation entities (`_entities`): every entity type resolves, under row scope, masks and the audit log.

The cases are keyed by the members of the `_Entity` union, so an entity type added later must be
given one here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLUnionType

from schema import build_schema
from schema.masking import MASKABLE, MASKERS
from tests.conftest import Hub, hub_settings, running_hub
from tests.security.test_scope_arguments import BANNER, OTHER, World


@dataclass(frozen=True)
class Case:
    """An entity type: its key, the `Query` field that looks one up by it, and the fields to compare."""

    key: str
    lookup: str
    argument: str
    fields: str
    personal: bool

    def found(self) -> str:
        return f"query($k: String!) {{ found: {self.lookup}({self.argument}: $k) {{ __typename {self.fields} }} }}"


CASES = {
    "Person": Case("idNumber", "person", "idNumber", "idNumber name institution { code }", True),
    "Institution": Case("code", "institution", "code", "code name regionCode", False),
}


def entities(operation: str, *types: str) -> str:
    """A `_entities` query selecting the compared fields of each type."""
    spreads = " ".join(f"... on {t} {{ {CASES[t].fields} }}" for t in types)
    return f"query {operation}($r: [_Any!]!) {{ _entities(representations: $r) {{ __typename {spreads} }} }}"


ENTITIES = entities("Entities", *CASES)


@dataclass
class Places:
    """A key of each entity type inside the banner, and one outside it."""

    hub: Hub
    inside: dict[str, str]
    outside: dict[str, str]


@pytest.fixture(scope="module")
def places(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Places]:
    store = tmp_path_factory.mktemp("entities-store") / "hub.db"
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}")) as hub:
        world = World(hub)
        keys: dict[str, dict[str, str]] = {}
        for region in (BANNER, OTHER):
            code = world.league("query($r: String!) { institutions(first: 1, regionCode: $r) { edges { node { code } } } }",
                                r=region)["institutions"]["edges"][0]["node"]["code"]
            keys[region] = {"Institution": code, "Person": world.person_in(region, only=region == OTHER)}
        yield Places(hub, keys[BANNER], keys[OTHER])


def representation(type_name: str, key: str) -> dict[str, str]:
    return {"__typename": type_name, CASES[type_name].key: key}


def test_every_entity_type_has_a_case() -> None:
    union = build_schema()._schema.type_map["_Entity"]
    assert isinstance(union, GraphQLUnionType)
    assert {t.name for t in union.types} == set(CASES)


@pytest.mark.parametrize("type_name", CASES)
@pytest.mark.parametrize(("role", "department"), [("admin", None), ("officer", "hr"), ("officer", "finance")])
def test_an_entity_is_what_the_lookup_by_its_key_answers(places: Places, type_name: str, role: str, department: str | None) -> None:
    key = places.inside[type_name]
    entity = places.hub.query(ENTITIES, {"r": [representation(type_name, key)]}, role=role, department=department)
    assert "errors" not in entity, entity
    found = places.hub.query(CASES[type_name].found(), {"k": key}, role=role, department=department)
    assert entity["data"]["_entities"] == [found["data"]["found"]] and found["data"]["found"] is not None


@pytest.mark.parametrize("type_name", CASES)
def test_a_banner_principal_is_refused_an_entity_outside_its_banner(places: Places, type_name: str) -> None:
    hub = places.hub
    inside = hub.query(ENTITIES, {"r": [representation(type_name, places.inside[type_name])]}, role="officer", department="hr",
                       region=BANNER)
    assert "errors" not in inside and inside["data"]["_entities"][0] is not None, inside
    both = [representation(type_name, places.inside[type_name]), representation(type_name, places.outside[type_name])]
    refused = hub.query(ENTITIES, {"r": both}, role="officer", department="hr", region=BANNER)
    assert refused["data"] is None
    assert [(e["extensions"]["code"], e["extensions"]["argument"]) for e in refused["errors"]] == [("FORBIDDEN", "representations")]


def test_unknown_and_malformed_keys(places: Places) -> None:
    unknown = places.hub.query(ENTITIES, {"r": [representation("Person", "110101199003074514"),
                                                representation("Institution", "12152900MB0000000X")]})
    assert unknown == {"data": {"_entities": [None, None]}}
    bad = places.hub.query(ENTITIES, {"r": [representation("Person", "12345"), {"__typename": "Institution"}]})
    assert bad["data"] == {"_entities": [None, None]}
    assert [e["extensions"]["code"] for e in bad["errors"]] == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
    assert all(" / " in e["message"] for e in bad["errors"])


def test_a_role_that_sees_a_field_masked_gets_the_entity_masked(places: Places) -> None:
    hub = places.hub
    book = hub.client.app_state["hub"].policies
    whole = hub.query(ENTITIES, {"r": [representation("Person", places.inside["Person"])]}, role="officer", department="finance")
    book.enforcer.add_policy("finance.officer", "Person.name", "mask")
    book.clear()
    try:
        masked = hub.query(ENTITIES, {"r": [representation("Person", places.inside["Person"])]}, role="officer",
                           department="finance")
    finally:
        book.enforcer.remove_policy("finance.officer", "Person.name", "mask")
        book.clear()
    name = whole["data"]["_entities"][0]["name"]
    assert name and masked["data"]["_entities"][0]["name"] == MASKERS[MASKABLE[("Person", "name")]](name) != name


def audit_rows(hub: Hub) -> list[tuple[Any, ...]]:
    with sqlite3.connect(hub.settings.store_url.split("///", 1)[1]) as conn:
        return conn.execute("SELECT operation, fields, rows, outcome FROM audit_log ORDER BY id").fetchall()


@pytest.mark.parametrize("type_name", CASES)
def test_an_entity_read_is_audited_when_it_may_name_a_person(places: Places, type_name: str) -> None:
    """Reading a person's fields is an entry like any read; so is any `_entities` call, which may confirm a person."""
    hub = places.hub
    operation = f"Entity{type_name}"
    hub.query(entities(operation, type_name), {"r": [representation(type_name, places.inside[type_name])]}, role="officer", department="hr")
    hub.query(f"query {operation}Typename($r: [_Any!]!) {{ _entities(representations: $r) {{ __typename }} }}",
              {"r": [representation(type_name, places.inside[type_name])]}, role="officer", department="hr")
    rows = {r[0]: r for r in audit_rows(hub)}
    _, fields, count, outcome = rows[operation]
    if CASES[type_name].personal:
        assert (json.loads(fields), count, outcome) == (["Person.idNumber", "Person.institution", "Person.name"], 1, "ok")
    else:
        assert (json.loads(fields), count, outcome) == (["Query._entities"], 1, "ok")
    assert json.loads(rows[f"{operation}Typename"][1]) == ["Query._entities"]


def test_a_response_key_of_two_entity_types_is_audited_as_the_personal_one(places: Places) -> None:
    """`... on Person { name } ... on Institution { name }` share the response key `name`: Person.name is still logged."""
    places.hub.query(entities("EntitiesBoth", *CASES), {"r": [representation("Person", places.inside["Person"])]},
                     role="officer", department="hr")
    fields = {r[0]: json.loads(r[1]) for r in audit_rows(places.hub)}["EntitiesBoth"]
    assert fields == ["Person.idNumber", "Person.institution", "Person.name"]


@pytest.mark.parametrize("bad", [["x"], [{}], [{"__typename": "Nope"}], [{"__typename": "Alert", "id": "1"}]], ids=repr)
def test_a_representation_of_no_entity_type_is_bad_input(places: Places, bad: list[Any]) -> None:
    body = places.hub.query("query($r: [_Any!]!) { _entities(representations: $r) { __typename } }", {"r": bad})
    assert body["data"] is None and [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    assert " / " in body["errors"][0]["message"]
