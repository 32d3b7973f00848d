"""A real GraphQL client (`gql`) against a served hub: it loads each role's schema and checks queries by it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from graphql import GraphQLError

from hub.auth import create_token
from hub.core.settings import Settings
from tests.conftest import TEST_SECRET

PEOPLE = "{ people(first: 2) { edges { node { idNumber name } } } }"
PAY = "{ people(first: 1) { edges { node { payroll { entries(last: 1) { month postPay } } } } } }"


def client(url: str, department: str | None, role: str) -> Client:
    token = create_token(Settings(jwt_secret=TEST_SECRET), department, [role], "152900", "1h")
    transport = RequestsHTTPTransport(url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30, retries=0)
    return Client(transport=transport, fetch_schema_from_transport=True)


@pytest.fixture(scope="module")
def admin(served: str) -> Iterator[Any]:
    with client(served, None, "admin") as session:
        yield session


def test_the_client_loads_the_schema_and_runs_a_query(admin: Any) -> None:
    assert admin.client.schema is not None and "Institution" in admin.client.schema.type_map
    edges = admin.execute(gql(PEOPLE))["people"]["edges"]
    assert len(edges) == 2 and all(len(e["node"]["idNumber"]) == 18 for e in edges)


def test_a_role_gets_its_own_schema_and_the_client_refuses_what_it_may_not_read(served: str) -> None:
    with client(served, "establishment", "officer") as session:
        schema = session.client.schema  # type: ignore[attr-defined]
        assert schema is not None
        assert "PayrollRecord" not in schema.type_map  # the establishment office reads no pay
        with pytest.raises(GraphQLError, match="payroll"):  # checked by the client, never sent
            session.execute(gql(PAY))
        assert session.execute(gql(PEOPLE))["people"]["edges"]


def test_a_query_the_server_refuses_reaches_the_client_as_a_graphql_error(served: str) -> None:
    with client(served, "hr", "officer") as session, pytest.raises(TransportQueryError) as refused:
        session.execute(gql('{ person(idNumber: "not-a-number") { name } }'))
    assert refused.value.errors and refused.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
