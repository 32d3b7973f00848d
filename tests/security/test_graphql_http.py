"""GraphQL over HTTP: media types, the status of each kind of request error, and what counts as a denial.

Every kind of failure a request can meet before execution (transport, parse, validation, policy,
variable coercion, limits) is sent with both Accept types: with application/json the legacy rules
hold (200 for any GraphQL answer), with application/graphql-response+json a 4xx and no `data`
entry. An unknown field, under every root field, is graphql-core's validation error and never a
policy denial counted in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import GraphQLError, GraphQLObjectType, get_named_type, parse, validate
from strawberry.types import ExecutionResult

from hub.store.audit import AuditEvent, AuditLog
from hub.transport import GRAPHQL_RESPONSE, JSON, answer_type, request_error_status
from policies.grants import Grants
from schema import build_schema
from schema.execution.extensions.policy import policy_rule
from tests.conftest import Hub, hub_settings, running_hub

COERCION = "query T($name: String!) { __type(name: $name) { name } }"
CADRE = "{ people(first: 1) { edges { node { cadre { cadreId } } } } }"  # denied to a finance officer


def _body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps({"query": query, "variables": variables})


# (what fails, request body, role, department, HTTP status with graphql-response+json, its code)
REQUEST_ERRORS: list[tuple[str, bytes, str, str | None, int, str]] = [
    ("transport: not JSON", b'{ "not a JSON', "admin", None, 400, "BAD_REQUEST"),
    ("transport: no query", b'{"qeury": "{ __typename }"}', "admin", None, 400, "BAD_REQUEST"),
    ("transport: variables not a map", b'{"query": "{ __typename }", "variables": "x"}', "admin", None, 400, "BAD_REQUEST"),
    ("parse", _body("{"), "admin", None, 400, "GRAPHQL_PARSE_FAILED"),
    ("validation", _body("{ noSuchField }"), "admin", None, 400, "GRAPHQL_VALIDATION_FAILED"),
    ("variable coercion", _body(COERCION, {"name": 5}), "admin", None, 400, "BAD_USER_INPUT"),
    ("literal value", _body("{ people(first: 99999999999) { totalCount } }"), "admin", None, 400, "BAD_USER_INPUT"),
    ("policy", _body(CADRE), "officer", "finance", 403, "FORBIDDEN"),
    ("query too long", _body("{ __typename " + " " * 20_000 + "}"), "admin", None, 400, "QUERY_TOO_LARGE"),
]


def post(hub: Hub, body: bytes, accept: str | None, role: str = "admin", department: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {hub.token(role, department)}", "Content-Type": "application/json"}
    if accept is not None:
        headers["Accept"] = accept
    return hub.client.post("/graphql", content=body, headers=headers)


@pytest.mark.parametrize(("kind", "body", "role", "department", "status", "code"), REQUEST_ERRORS,
                         ids=[e[0] for e in REQUEST_ERRORS])
def test_each_request_error_is_4xx_without_data_in_a_graphql_response(
    hub: Hub, kind: str, body: bytes, role: str, department: str | None, status: int, code: str
) -> None:
    answer = post(hub, body, GRAPHQL_RESPONSE, role, department)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == GRAPHQL_RESPONSE
    parsed = answer.json()
    assert "data" not in parsed and {e["extensions"]["code"] for e in parsed["errors"]} == {code}
    legacy = post(hub, body, JSON, role, department)  # the same failure, answered by application/json's rules
    assert legacy.status_code == (400 if kind.startswith("transport") else 200), legacy.text
    assert legacy.headers["content-type"] == JSON
    assert legacy.json()["data"] is None and {e["extensions"]["code"] for e in legacy.json()["errors"]} == {code}


@pytest.mark.parametrize(("accept", "media_type"), [
    (None, JSON), ("*/*", JSON), ("application/*", JSON), (JSON, JSON), ("text/html, */*;q=0.1", JSON),
    ("nonsense;;q=x", JSON), (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE), (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
])
def test_an_executed_answer_is_200_in_the_media_type_the_client_prefers(hub: Hub, accept: str | None, media_type: str) -> None:
    assert answer_type(accept or "") == media_type
    answer = post(hub, _body("{ regions { code } }"), accept)
    assert answer.status_code == 200 and answer.headers["content-type"] == media_type
    assert answer.json()["data"]["regions"] and "errors" not in answer.json()


def test_other_methods_get_a_graphql_shaped_405(hub: Hub) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        answer = hub.client.request(method, "/graphql", headers={"Authorization": f"Bearer {hub.token()}"})
        assert answer.status_code == 405 and answer.headers["allow"] == "GET, POST"
        assert answer.headers["content-type"] == JSON and answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def _object_roots(hub: Hub) -> Iterator[tuple[str, str]]:
    """(operation keyword, field) of every root field of Query and Mutation that returns an object."""
    schema = build_schema()._schema
    for keyword, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            if isinstance(get_named_type(field.type), GraphQLObjectType) and not name.startswith("_"):
                yield keyword, name


def test_an_unknown_field_under_every_root_field_is_no_denial(hub: Hub) -> None:
    """With grants that deny everything, each root field is FORBIDDEN, an unknown field below it never is."""
    schema = build_schema()._schema
    nothing = Grants(frozenset(), {}, frozenset())
    roots = list(_object_roots(hub))
    assert len(roots) > 20
    for keyword, name in [*roots, ("query", "zzNoSuchRoot")]:
        document = parse(f"{keyword} {{ {name} {{ zzNoSuchField }} }}" if name != "zzNoSuchRoot" else "{ zzNoSuchRoot }")
        denied = {e.extensions["field"] for e in validate(schema, document, [policy_rule(nothing)]) if e.extensions}
        root_type = "Query" if keyword == "query" else "Mutation"
        assert denied == ({f"{root_type}.{name}"} if name != "zzNoSuchRoot" else set()), (keyword, name, denied)


def test_an_unknown_field_is_not_counted_as_a_denial(tmp_path: Path, demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counted: list[AuditEvent] = []
    monkeypatch.setattr(AuditLog, "count", lambda self, event: counted.append(event))
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db")) as running:
        unknown = post(running, _body("{ regions { code zzNoSuchField } }"), GRAPHQL_RESPONSE, "officer", "finance")
        assert unknown.status_code == 400
        assert [e["extensions"]["code"] for e in unknown.json()["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
        assert counted == []
        denied = post(running, _body(CADRE), GRAPHQL_RESPONSE, "officer", "finance")  # a real denial still counts
        assert denied.status_code == 403
    assert [e.outcome for e in counted] == ["denied"]


@pytest.mark.parametrize(("data", "errors", "status"), [
    (None, [GraphQLError("x", path=["person"], extensions={"code": "SOURCE_UNAVAILABLE"})], None),  # a field error: executed
    ({"regions": []}, [GraphQLError("x", extensions={"code": "BAD_USER_INPUT"})], None),
    (None, [GraphQLError("x", extensions={"code": "AUDIT_UNAVAILABLE"})], 503),  # the answer withheld
    (None, [GraphQLError("x", extensions={"code": "INTERNAL"}), GraphQLError("y", extensions={"code": "BAD_USER_INPUT"})], 500),
    (None, [GraphQLError("x", extensions={"code": "FORBIDDEN"}), GraphQLError("y")], 400),
])
def test_the_status_of_results_that_did_not_execute(data: Any, errors: list[GraphQLError], status: int | None) -> None:
    assert request_error_status(ExecutionResult(data=data, errors=errors)) == status
