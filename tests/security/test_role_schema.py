"""Every role's schema is a valid schema of exactly what it may read: introspection and `_service { sdl }`.

The roles are every role a token can carry (hub/auth.py), one at a time and combined; the fields
are the schema's and the grants compiled for the role, so a field or role added later is covered.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    assert_valid_schema,
    build_ast_schema,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    introspection_types,
    is_introspection_type,
    parse,
)

from hub.auth import create_token
from hub.core.principal import DEPARTMENT_ROLES, GLOBAL_ROLES
from policies.grants import Access, Grants
from schema import build_schema
from schema.federation import FEDERATION_VERSION
from tests.conftest import DEPARTMENTS, Hub

Role = tuple[tuple[str, ...], str | None]  # (roles, department) of a token
ROLES: list[Role] = [((r,), None) for r in sorted(GLOBAL_ROLES)] + [((r,), d) for r in sorted(DEPARTMENT_ROLES) for d in DEPARTMENTS]
ROLES += [(("officer", "analyst"), "finance"), (("auditor", "analyst"), None)]  # role sets: the widest access of each
IDS = ["+".join(f"{department}.{r}" if r in DEPARTMENT_ROLES else r for r in roles) for roles, department in ROLES]

INTROSPECTION = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                        schema_description=True, input_value_deprecation=True)
# What a subgraph's SDL uses of federation, defined so that graphql-core can build and validate it.
FEDERATION_DEFINITIONS = """
directive @link(url: String!, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
directive @key(fields: _FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
scalar _FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
"""


def ask(hub: Hub, query: str, role: Role) -> dict[str, Any]:
    roles, department = role
    token = create_token(hub.settings, department, list(roles), "152900", "1h")
    response = hub.client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def grants_of(hub: Hub, role: Role) -> Grants:
    roles, department = role
    book = hub.client.app_state["hub"].policies
    return book.grants(r if r in GLOBAL_ROLES else f"{department}.{r}" for r in roles)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def whole(hub: Hub) -> GraphQLSchema:
    return build_schema()._schema


def object_fields(schema: GraphQLSchema) -> set[tuple[str, str]]:
    return {
        (t.name, f) for t in schema.type_map.values()
        if isinstance(t, GraphQLObjectType) and not is_introspection_type(t) for f in t.fields
    }


def readable(whole: GraphQLSchema, grants: Grants) -> set[tuple[str, str]]:
    return {(t, f) for t, f in object_fields(whole) if grants.access(t, f) is not Access.DENY}


@pytest.fixture(scope="module")
def client_schemas(hub: Hub) -> dict[str, tuple[GraphQLSchema, dict[str, Any]]]:
    """Each role's client schema, built from its introspection over HTTP as GraphiQL and code generators do."""
    found = {}
    for name, role in zip(IDS, ROLES, strict=True):
        answer = ask(hub, INTROSPECTION, role)
        assert ask(hub, INTROSPECTION, role) == answer  # a repeat is answered from its prepared document
        found[name] = (build_client_schema(answer), answer)  # type: ignore[arg-type]
    return found


@pytest.mark.parametrize("role", ROLES, ids=IDS)
def test_every_roles_introspection_is_a_valid_schema_of_exactly_what_it_may_read(
    hub: Hub, whole: GraphQLSchema, client_schemas: dict[str, tuple[GraphQLSchema, dict[str, Any]]], role: Role
) -> None:
    client, answer = client_schemas[IDS[ROLES.index(role)]]
    assert_valid_schema(client)
    may_read = readable(whole, grants_of(hub, role))
    shown = object_fields(client)
    assert shown <= may_read, f"shown but not readable: {sorted(shown - may_read)}"
    for type_name, field in sorted(may_read - shown):  # hidden only because the type or what it returns is gone
        returns = get_named_type(whole.type_map[type_name].fields[field].type).name  # type: ignore[union-attr]
        assert type_name not in client.type_map or returns not in client.type_map, f"{type_name}.{field} hidden"
    for name, gql_type in whole.type_map.items():  # a type is gone only when nothing it may read could stay
        if isinstance(gql_type, GraphQLObjectType) and name not in client.type_map and not is_introspection_type(gql_type):
            reached = any(get_named_type(whole.type_map[t].fields[f].type).name == name  # type: ignore[union-attr]
                          for t, f in shown)
            left = {get_named_type(gql_type.fields[f].type).name for t, f in may_read if t == name}
            assert not reached or not left & set(client.type_map), f"{name} dropped with fields that return {left}"
    meta = {t["name"]: t for t in answer["__schema"]["types"] if t["name"].startswith("__")}
    assert set(meta) == set(introspection_types)
    for name, gql_type in introspection_types.items():  # the meta-types keep every field for everyone
        if isinstance(gql_type, GraphQLObjectType):
            assert {f["name"] for f in meta[name]["fields"]} == set(gql_type.fields), name


def test_the_role_schemas_differ_as_the_policy_says(
    hub: Hub, whole: GraphQLSchema, client_schemas: dict[str, tuple[GraphQLSchema, dict[str, Any]]]
) -> None:
    admin, finance = client_schemas["admin"][0], client_schemas["finance.officer"][0]
    assert object_fields(admin) == object_fields(whole) and set(admin.type_map) == set(whole.type_map)
    for gone in ("PersonnelRecord", "PostRecord", "CadreRecord", "AppointmentRecord", "RetirementDeferral"):
        assert gone in whole.type_map and gone not in finance.type_map
    assert "personnel" not in finance.type_map["Person"].fields  # type: ignore[attr-defined]
    assert "gross" in finance.type_map["PayrollEntry"].fields  # type: ignore[attr-defined]
    assert "gross" not in client_schemas["hr.officer"][0].type_map["PayrollEntry"].fields  # type: ignore[attr-defined]
    analyst_mutations = client_schemas["analyst"][0].mutation_type
    assert analyst_mutations is not None and set(analyst_mutations.fields) == {"saveReport", "deleteReport"}  # its own reports only
    both = object_fields(client_schemas["finance.officer+analyst"][0])
    assert both == object_fields(finance) | object_fields(client_schemas["analyst"][0])


def test_a_type_the_role_cannot_read_is_not_there_and_the_meta_types_are(hub: Hub) -> None:
    query = '{ gone: __type(name: "PersonnelRecord") { name } meta: __type(name: "__Field") { fields { name } } }'
    answer = ask(hub, query, (("officer",), "finance"))
    assert answer["gone"] is None and {f["name"] for f in answer["meta"]["fields"]} >= {"name", "type", "args"}


def sdl_fields(sdl: str) -> set[tuple[str, str]]:
    return {
        (node.name.value, f.name.value) for node in parse(sdl).definitions
        if isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode) for f in node.fields or ()
    }


@pytest.mark.parametrize("role", ROLES, ids=IDS)
def test_every_role_gets_the_subgraph_sdl_of_what_it_may_read(
    hub: Hub, client_schemas: dict[str, tuple[GraphQLSchema, dict[str, Any]]], role: Role
) -> None:
    sdl = ask(hub, "{ _service { sdl } }", role)["_service"]["sdl"]
    assert sdl_fields(sdl) == object_fields(client_schemas[IDS[ROLES.index(role)]][0])  # the same view as introspection
    assert_valid_schema(build_ast_schema(parse(FEDERATION_DEFINITIONS + sdl)))
    links = re.findall(r'@link\(url: "https://specs\.apollo\.dev/federation/v([\d.]+)", import: \[([^]]*)\]\)', sdl)
    assert links == [(FEDERATION_VERSION, '"@key"')]


def test_the_federation_link_is_the_lowest_version_with_what_the_schema_uses() -> None:
    """strawberry refuses a directive newer than the linked version, so the link cannot silently fall behind."""

    @strawberry.type
    class Query:
        newer: int = strawberry.federation.field(authenticated=True, default=1)  # @authenticated: federation 2.5

    with pytest.raises(ValueError, match=r"2\.5"):
        strawberry.federation.Schema(query=Query, federation_version=FEDERATION_VERSION)  # type: ignore[arg-type]
    assert FEDERATION_VERSION == "2.0"


def test_a_policy_change_changes_the_role_schema(hub: Hub) -> None:
    """The role schema is kept per compiled grants: new grants (a policy change) make a new one."""
    book = hub.client.app_state["hub"].policies
    role: Role = (("analyst",), None)
    before = set(chain.from_iterable(
        [(t["name"], f["name"]) for f in t["fields"] or ()] for t in ask(hub, INTROSPECTION, role)["__schema"]["types"]))
    assert ("Person", "sex") not in before
    book.enforcer.add_policy("analyst", "Person.sex", "read")
    book.clear()
    try:
        answer = ask(hub, '{ __type(name: "Person") { fields { name } } }', role)
        assert "sex" in {f["name"] for f in answer["__type"]["fields"]}
    finally:
        book.enforcer.remove_policy("analyst", "Person.sex", "read")
        book.clear()
    answer = ask(hub, '{ __type(name: "Person") { fields { name } } }', role)
    assert "sex" not in {f["name"] for f in answer["__type"]["fields"]}
