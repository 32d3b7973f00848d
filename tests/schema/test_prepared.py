"""Prepared documents (schema/execution/prepared.py): repeats answer as a first request does, the cache is
bounded in bytes, keyed by grants, operation and Boolean variable values; errors are ordered by path."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import orjson
import pytest

import schema.execution as execution_module
from hub.core.errors import SourceUnavailable
from hub.core.ids import make_id_number
from hub.store.audit import AuditEvent, AuditLog
from policies.grants import PolicyBook, new_enforcer
from resolvers.context import NoContext
from resolvers.loaders import RecordsByKeyLoader
from schema import build_schema, schema_fields
from schema.execution import Execution, PreparedDocuments
from schema.execution.extensions.errors import by_path
from schema.execution.prepared import prepared_key
from schema.masking import MASKABLE
from tests.conftest import Hub, hub_settings, running_hub

PERSON = """query Person($id: String!) { person(idNumber: $id) {
  idNumber name sex institution { code name } payroll { entries(last: 3) { month gross net } } } }"""
ROSTER = "query Roster { people(first: 25) { totalCount edges { node { idNumber name sex institution { code } } } } }"
INSTITUTIONS = "{ institutions(first: 5) { edges { node { code name quotas { quotaType approved occupied } people { name } } } } }"


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[tuple[Hub, Hub]]:
    """The hub as configured (documents prepared once) and one that keeps none (every request prepared afresh)."""
    store = tmp_path_factory.mktemp("prepared")
    warm = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}/warm.db")
    cold = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}/cold.db", prepared_cache_bytes=0)
    with running_hub(warm) as warm_hub, running_hub(cold) as cold_hub:
        yield warm_hub, cold_hub


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The query texts parsed (a prepared document is parsed once)."""
    seen: list[str] = []
    original = execution_module.parse

    def counted(text: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(text)
        return original(text, *args, **kwargs)

    monkeypatch.setattr(execution_module, "parse", counted)
    return seen


def post(hub: Hub, query: str, variables: dict[str, Any] | None = None, role: str = "admin", token: str | None = None,
         accept: str = "application/json", **claims: Any) -> Any:
    headers = {"Authorization": f"Bearer {token or hub.token(role, **claims)}", "Accept": accept}
    return hub.client.post("/graphql", content=orjson.dumps({"query": query, "variables": variables}), headers={
        **headers, "Content-Type": "application/json"})


def some_person(hub: Hub) -> str:
    body = post(hub, ROSTER).json()
    return str(body["data"]["people"]["edges"][3]["node"]["idNumber"])


def test_a_repeat_answers_with_the_same_bytes_without_parsing_again(hubs: tuple[Hub, Hub], parses: list[str]) -> None:
    warm, cold = hubs
    person = some_person(warm)
    cases = [(PERSON, {"id": person}, "admin"), (ROSTER, None, "auditor"), (INSTITUTIONS, None, "admin")]
    for (query, variables, role), accept in product(cases, ("application/json", "application/graphql-response+json")):
        parses.clear()
        answers = [post(warm, query, variables, role, accept=accept) for _ in range(3)]
        assert parses.count(query) <= 1  # the repeats use the prepared document
        expected = post(cold, query, variables, role, accept=accept)
        assert "errors" not in expected.json()
        for answer in answers:
            assert answer.status_code == 200 and answer.content == expected.content
            assert answer.headers["content-type"] == expected.headers["content-type"] == accept
            assert answer.headers["x-request-id"]
    masked = post(warm, ROSTER, role="auditor").json()["data"]["people"]["edges"][0]["node"]
    assert "*" in masked["idNumber"] and "*" in masked["name"]  # a role's grants and masks hold on repeats


def test_a_repeat_is_audited_as_the_first_request(hubs: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch) -> None:
    warm, _ = hubs
    events: list[AuditEvent] = []

    async def write(self: AuditLog, event: AuditEvent) -> None:
        events.append(event)

    monkeypatch.setattr(AuditLog, "write", write)
    query = ROSTER.replace("Roster", "RosterAudited")
    token = warm.token("officer", department="hr")
    for _ in range(3):
        post(warm, query, token=token)
    assert len(events) == 3 and events[0] == events[1] == events[2]
    assert events[0].operation == "RosterAudited" and events[0].rows == 25 and events[0].outcome == "ok"
    assert "Person.idNumber" in events[0].fields
    post(warm, "{ regions { code } }")
    post(warm, "{ regions { code } }")
    assert len(events) == 3  # nothing personal read: nothing audited


def test_errors_of_a_prepared_document_are_the_fresh_ones(hubs: tuple[Hub, Hub]) -> None:
    warm, cold = hubs
    query = PERSON.replace("Person(", "PersonErrors(")
    person = some_person(warm)
    post(warm, query, {"id": person})
    for variables in [{"id": "12345"}, {"id": make_id_number("152921", dt.date(1980, 1, 1), 7, True)}, {}, {"id": person}]:
        answer, expected = post(warm, query, variables), post(cold, query, variables)
        assert answer.status_code == expected.status_code and answer.content == expected.content, variables
    for text in ("{ regions { code zzNoSuchField } }", "{ regions { ", "{ people(first: 1) { edges { node { birthDate } } } }"):
        for _ in range(2):
            answer, expected = post(warm, text, role="auditor"), post(cold, text, role="auditor")
            assert answer.status_code == expected.status_code and answer.content == expected.content, text
            assert answer.json()["errors"]


def test_a_department_down_after_preparing_degrades_as_a_fresh_request(
    hubs: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    warm, cold = hubs
    query = PERSON.replace("Person(", "PersonDown(")
    variables = {"id": some_person(warm)}
    post(warm, query, variables)
    original = RecordsByKeyLoader.read_keys

    async def finance_down(self: RecordsByKeyLoader, keys: Any) -> Any:
        if self.adapter.department == "finance":
            raise SourceUnavailable("finance", "test")
        return await original(self, keys)

    monkeypatch.setattr(RecordsByKeyLoader, "read_keys", finance_down)
    answer, expected = post(warm, query, variables), post(cold, query, variables)
    assert answer.content == expected.content
    body = answer.json()
    assert body["data"]["person"]["name"] and body["data"]["person"]["payroll"] is None
    assert body["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"


def test_each_principal_gets_its_own_rows_and_masks(hubs: tuple[Hub, Hub]) -> None:
    warm, cold = hubs
    query = "query Region { people(first: 10) { totalCount edges { node { idNumber institution { regionCode } } } } }"
    for claims in [{"region": "152900"}, {"region": "152921"}, {"region": "152922"}, {"region": "152921"}]:
        for role in ["admin", "auditor"]:
            answer, expected = post(warm, query, role=role, **claims), post(cold, query, role=role, **claims)
            assert answer.content == expected.content, (role, claims)
            regions = {e["node"]["institution"]["regionCode"] for e in answer.json()["data"]["people"]["edges"]}
            assert all(r.startswith(claims["region"].rstrip("0")) for r in regions), regions


def test_every_form_of_request_goes_through_the_one_execution(hubs: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch) -> None:
    warm, _ = hubs
    answered: list[str | None] = []
    original = Execution.answer

    async def spy(self: Execution, context: Any, query: str | None, *args: Any, **kwargs: Any) -> Any:
        answered.append(query)
        return await original(self, context, query, *args, **kwargs)

    monkeypatch.setattr(Execution, "answer", spy)
    auth = {"Authorization": f"Bearer {warm.token()}"}
    via_get = warm.client.get("/graphql", params={"query": "{ regions { code } }"}, headers=auth)
    via_post = post(warm, "{ regions { name } }")
    mutation = warm.client.post("/graphql", json={"query": "mutation { runCrossCheck { id } }"}, headers=auth)
    mutation_by_get = warm.client.get("/graphql", params={"query": "mutation { runCrossCheck { id } }"}, headers=auth)
    assert via_get.status_code == 200 and "regions" in via_get.json()["data"]
    assert via_post.status_code == 200 and mutation.status_code == 200
    assert mutation_by_get.status_code == 400  # mutations only by POST (strawberry's rule, kept)
    assert answered == ["{ regions { code } }", "{ regions { name } }", "mutation { runCrossCheck { id } }",
                        "mutation { runCrossCheck { id } }"]
    assert warm.client.post("/graphql", json={"query": "{ regions { code } }"}).status_code == 401


def test_the_schema_executes_nothing_outside_the_execution() -> None:
    schema = build_schema()
    with pytest.raises(TypeError):
        schema.execute_sync("{ regions { code } }")
    with pytest.raises(TypeError):
        asyncio.run(schema.execute("{ regions { code } }"))


# --- the cache -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook(new_enforcer(), schema_fields(build_schema()), MASKABLE)


def _execution(max_bytes: int) -> Execution:
    return Execution(build_schema(), PreparedDocuments(max_bytes), max_depth=8)


def test_two_role_sets_never_share_a_prepared_document(book: PolicyBook) -> None:
    execution = _execution(1 << 20)
    query = "{ people(first: 2) { edges { node { idNumber name } } } }"
    admin, auditor, both = book.grants(["admin"]), book.grants(["auditor"]), book.grants(["admin", "auditor"])
    prepared = [execution.prepare(g, query, None, None) for g in (admin, auditor, both)]
    assert len({id(p) for p in prepared}) == 3 and len(execution.prepared) == 3
    assert len({prepared_key(g, query, None, None) for g in (admin, auditor, both)}) == 3
    assert execution.prepare(book.grants(["auditor"]), query, None, None) is prepared[1]  # the same role set again
    births = "{ people(first: 1) { edges { node { birthDate } } } }"
    assert not execution.prepare(admin, births, None, None).errors  # each role set its own verdict
    assert [e.extensions["code"] for e in execution.prepare(auditor, births, None, None).errors] == ["FORBIDDEN"]
    recompiled = PolicyBook(new_enforcer(), schema_fields(build_schema()), MASKABLE).grants(["admin"])
    assert recompiled is not admin and recompiled.digest == admin.digest  # the same decisions: the same key
    assert execution.prepare(recompiled, query, None, None) is prepared[0]


def test_operation_and_directive_values_are_part_of_the_key(book: PolicyBook) -> None:
    execution = _execution(1 << 20)
    admin = book.grants(["admin"])
    query = ("query A($pay: Boolean!, $n: Int) { people(first: $n) { edges { node { payroll @include(if: $pay) { onQuota } } } } }"
             " query B { regions { code } }")
    with_pay = execution.prepare(admin, query, "A", {"pay": True, "n": 2})
    assert execution.prepare(admin, query, "A", {"pay": True, "n": 5}) is with_pay  # other values: the same plan
    without = execution.prepare(admin, query, "A", {"pay": False, "n": 2})
    other = execution.prepare(admin, query, "B", None)
    assert len({id(with_pay), id(without), id(other)}) == 3
    assert (with_pay.name, other.name, with_pay.operation) == ("A", "B", "query")


def test_the_cache_is_bounded_in_bytes(book: PolicyBook) -> None:
    limit = 200_000
    execution = _execution(limit)
    admin = book.grants(["admin"])
    for n in range(200):
        execution.prepare(admin, f"{{ a{n}: regions {{ code name }} b{n}: regions {{ code }} }}", None, None)
        assert execution.prepared.currsize <= limit
    assert 0 < len(execution.prepared) < 200
    huge = "{ " + " ".join(f"r{n}: regions {{ code }}" for n in range(400)) + " }"  # ~ 20,000 characters
    assert not execution.prepare(admin, huge, None, None).errors
    assert execution.prepared.currsize <= limit and all(p.document is None or p.document.loc.end < 10_000
                                                         for p in execution.prepared.values())
    nothing = _execution(0)
    nothing.prepare(admin, "{ regions { code } }", None, None)
    assert len(nothing.prepared) == 0  # 0 keeps nothing


# --- errors by path ----------------------------------------------------------------------------------

def test_errors_are_ordered_by_path_whatever_finishes_first(hubs: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two departments fail; whichever fails first, the answer lists the errors in the same order."""
    warm, _ = hubs
    query = "{ people(first: 3) { edges { node { payroll { onQuota } personnel { status } } } } }"
    original = RecordsByKeyLoader.read_keys
    answers = []
    for slow in ("finance", "hr"):
        async def down(self: RecordsByKeyLoader, keys: Any, slow: str = slow) -> Any:
            department = self.adapter.department
            if department in ("finance", "hr"):
                await asyncio.sleep(0.2 if department == slow else 0)
                raise SourceUnavailable(department, "test")
            return await original(self, keys)

        monkeypatch.setattr(RecordsByKeyLoader, "read_keys", down)
        answers.append(post(warm, query).json())
    errors = answers[0]["errors"]
    assert len(errors) == 6 and answers[0] == answers[1]
    paths = [e["path"] for e in errors]
    assert paths == sorted(paths, key=lambda p: [(isinstance(s, str), s) for s in p])


def test_by_path_keeps_errors_without_a_path_first() -> None:
    from graphql import GraphQLError

    errors = [GraphQLError("b", path=["x", 1, "b"]), GraphQLError("none"), GraphQLError("a", path=["x", 0, "z"]),
              GraphQLError("c", path=["a"]), GraphQLError("none2"), GraphQLError("d", path=["x", 10, "a"])]
    assert [e.message for e in by_path(errors)] == ["none", "none2", "c", "a", "b", "d"]


def test_a_context_without_grants_executes_nothing() -> None:
    class Context:
        grants = None

    with pytest.raises(NoContext):  # whatever let the request in: not a HubContext, nothing is prepared or run
        asyncio.run(_execution(1 << 20).answer(Context(), "{ regions { code } }"))
