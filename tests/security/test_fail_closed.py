"""Fail closed: bad claims, every spelling and method without credentials, contexts without grants,
malformed bodies, cursors, integers and over-long strings are refused before anything executes."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jwt
import orjson
import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    execute,
    get_named_type,
    parse,
)

from resolvers.context import NoContext
from schema import build_schema
from schema.execution.executor import HubExecutor, ReferenceExecutor
from schema.execution.executor.limits import LimitedExecutor
from tests.conftest import TEST_SECRET, Hub, hub_settings, running_hub


@pytest.fixture(scope="module")
def hub(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub with its own store: some tests below send mutations (refused before they execute)."""
    store = tmp_path_factory.mktemp("store") / "hub.db"
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}")) as running:
        yield running


def _token(claims: dict[str, Any]) -> str:
    now = dt.datetime.now(dt.UTC)
    base = {"sub": "t", "iss": "staffing-hub", "aud": "staffing-hub", "iat": now, "exp": now + dt.timedelta(hours=1)}
    return jwt.encode({**base, **claims}, TEST_SECRET, algorithm="HS256")


GOOD = {"dept": None, "roles": ["admin"], "region": "152900"}
BAD_CLAIMS = {
    "no region": {"region": ...},
    "empty region": {"region": ""},
    "null region": {"region": None},
    "numeric region": {"region": 152900},
    "unknown region": {"region": "999999"},
    "no roles": {"roles": ...},
    "null roles": {"roles": None},
    "empty roles": {"roles": []},
    "roles a string": {"roles": "admin"},
    "nested roles": {"roles": [["admin"]]},
    "numeric role": {"roles": [1]},
    "object role": {"roles": [{"admin": True}]},
    "unknown role": {"roles": ["wizard"]},
    "unknown department": {"dept": "treasury", "roles": ["officer"]},
    "department not a string": {"dept": ["finance"], "roles": ["officer"]},
    "officer without department": {"roles": ["officer"]},
}


@pytest.mark.parametrize("change", BAD_CLAIMS.values(), ids=list(BAD_CLAIMS))
def test_a_token_with_bad_claims_is_401(hub: Hub, change: dict[str, Any]) -> None:
    claims = {k: v for k, v in {**GOOD, **change}.items() if v is not ...}
    response = hub.client.post("/graphql", json={"query": "{ regions { code } }"},
                               headers={"Authorization": f"Bearer {_token(claims)}"})
    assert response.status_code == 401, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED" and " / " in error["message"]


def test_the_good_claims_pass(hub: Hub) -> None:
    response = hub.client.post("/graphql", json={"query": "{ regions { code } }"},
                               headers={"Authorization": f"Bearer {_token(GOOD)}"})
    assert response.status_code == 200 and "errors" not in response.json()


# Every way of naming the query the view (or a later version of it) might accept.
SPELLINGS = ["query", "%71uery", "%71%75%65%72%79", "QUERY", "Query", "qu%65ry", "query%00", "%20query"]
ACCEPTS = [None, "text/html", "*/*", "application/json", "text/html, application/json"]


def test_without_credentials_every_spelling_and_method_is_401(hub: Hub) -> None:
    """Only a browser's GET of the bare page is served without credentials; nothing else, of any spelling."""
    tried = 0
    for accept in ACCEPTS:
        headers = {"accept": accept} if accept else {}
        for name in SPELLINGS:
            for url in (f"/graphql?{name}=%7B__typename%7D", f"/graphql?x=1&{name}={{__typename}}", f"/graphql?{name}"):
                for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"):
                    response = hub.client.request(method, url, headers=headers)
                    assert response.status_code == 401, (method, url, accept, response.text)
                    tried += 1
        for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"):
            assert hub.client.request(method, "/graphql", headers=headers, json={"query": "{ __typename }"}).status_code == 401
        for url in ("/graphql?", "/graphql?&"):
            if hub.client.get(url, headers=headers).status_code != 401:
                assert url == "/graphql?" and accept is not None and "text/html" in accept  # "?" alone: no parameters
    assert tried == len(ACCEPTS) * len(SPELLINGS) * 3 * 7
    page = hub.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("executor", [HubExecutor, ReferenceExecutor])
def test_a_context_without_grants_executes_nothing(demo_dir: Path, executor: type) -> None:
    """Whatever let a request in, an executor is not built for anything but a HubContext: it raises."""
    schema = build_schema(hub_settings(demo_dir))
    assert schema.execution_context_class is HubExecutor and issubclass(executor, LimitedExecutor)
    called = []
    query = schema._schema.query_type
    assert query is not None
    field = query.fields["regions"]
    original = field.resolve
    field.resolve = lambda *a, **k: called.append(1)
    try:
        for context in (None, object(), {"grants": None}, SimpleNamespace(grants=object(), settings=hub_settings(demo_dir))):
            with pytest.raises(NoContext):
                execute(schema._schema, parse("{ regions { code } }"), context_value=context,
                        executor_class=executor)  # type: ignore[arg-type]
    finally:
        field.resolve = original
    assert not called


def _admin(hub: Hub) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.token()}"}


@pytest.mark.parametrize("body", [b"null", b'"x"', b"123", b"true", b"[]", b"{", b"\xff"])
def test_a_body_that_is_not_a_json_object_is_400(hub: Hub, body: bytes) -> None:
    response = hub.client.post("/graphql", content=body, headers={**_admin(hub), "content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST" and " / " in error["message"]


def _root_fields(hub: Hub) -> Iterator[tuple[str, str, GraphQLObjectType]]:
    built = build_schema()._schema
    for kind, root in (("query", built.query_type), ("mutation", built.mutation_type)):
        assert root is not None
        for name in root.fields:
            if not name.startswith("_"):
                yield kind, name, root


def _value(gql_type: Any) -> str:
    """A literal of a type that passes validation."""
    if isinstance(gql_type, GraphQLNonNull):
        return _value(gql_type.of_type)
    if isinstance(gql_type, GraphQLList):
        return f"[{_value(gql_type.of_type)}]"
    if isinstance(gql_type, GraphQLEnumType):
        return next(iter(gql_type.values))
    if isinstance(gql_type, GraphQLInputObjectType):
        required = [f"{n}: {_value(f.type)}" for n, f in gql_type.fields.items() if isinstance(f.type, GraphQLNonNull)]
        return "{" + ", ".join(required) + "}"
    return {"Int": "1", "Float": "1.0", "Boolean": "true"}.get(gql_type.name, '"x"')


def _operation(kind: str, root: GraphQLObjectType, name: str, args: dict[str, str]) -> str:
    field = root.fields[name]
    required = {a: _value(arg.type) for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)}
    given = ", ".join(f"{a}: {v}" for a, v in {**required, **args}.items())
    selection = " { __typename }" if isinstance(get_named_type(field.type), GraphQLObjectType) else ""
    return f"{kind} {{ {name}{f'({given})' if given else ''}{selection} }}"


def _string_arguments(argument: GraphQLArgument) -> bool:
    return get_named_type(argument.type) in (GraphQLString, GraphQLID)


def test_every_string_argument_of_every_root_field_has_the_length_limit(hub: Hub) -> None:
    """Over-long strings are refused before anything executes: as a literal and as a variable."""
    limit = hub.settings.max_string_chars
    long = "名" * (limit + 1)
    checked = 0
    for kind, name, root in _root_fields(hub):
        for arg, definition in root.fields[name].args.items():
            if not _string_arguments(definition):
                continue
            listed = isinstance(definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type,
                                GraphQLList)
            literal = f"[{orjson.dumps(long).decode()}]" if listed else orjson.dumps(long).decode()
            for body in (
                {"query": _operation(kind, root, name, {arg: literal})},
                {"query": _operation(kind, root, name, {arg: "$v"}).replace(f"{kind} {{", f"{kind}($v: {definition.type}) {{", 1),
                 "variables": {"v": [long] if listed else long}},
            ):
                answer = hub.client.post("/graphql", json=body, headers=_admin(hub)).json()
                assert answer.get("data") is None, (body["query"][:200], answer)
                assert [e["extensions"]["code"] for e in answer["errors"]] == ["BAD_USER_INPUT"], (body["query"][:200], answer)
            checked += 1
    assert checked >= 10


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value) if not isinstance(value, bytes) else value).decode()


BAD_CURSORS = ["!!!!", "zzz", _cursor({}), _cursor([1, 2]), _cursor(True), _cursor(None), _cursor(1.5),
               _cursor(b"1" * 30), _cursor(b"\xff\xfe"), _cursor(str(2**70).encode())]


def test_bad_cursors_and_page_sizes_are_bad_user_input_on_every_paged_field(hub: Hub) -> None:
    paged = 0
    for kind, name, root in _root_fields(hub):
        args = root.fields[name].args
        if kind != "query" or "after" not in args and "first" not in args:
            continue
        paged += 1
        cases: list[dict[str, Any]] = []
        if "after" in args:
            cases += [{"query": _operation(kind, root, name, {"after": orjson.dumps(c).decode()})} for c in BAD_CURSORS]
        if "first" in args:
            cases += [{"query": _operation(kind, root, name, {"first": v})} for v in ("-1", "2147483648", "1000000000000")]
            cases.append({"query": _operation(kind, root, name, {"first": "$n"}).replace("query {", "query($n: Int) {", 1),
                          "variables": {"n": 10**12}})
        for body in cases:
            answer = hub.client.post("/graphql", json=body, headers=_admin(hub)).json()
            codes = {e["extensions"]["code"] for e in answer["errors"]}
            assert codes == {"BAD_USER_INPUT"}, (body, answer)
    assert paged >= 4
