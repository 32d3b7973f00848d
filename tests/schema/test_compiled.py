"""The hub's executor (the compiled read path) gives byte-identical answers to the reference executor
(graphql-core field by field, schema/execution/executor/__init__.py), data and errors."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, Undefined, get_named_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from hub.app import lifespan
from hub.core.errors import SourceUnavailable
from hub.core.principal import Principal
from policies.grants import Access, PolicyBook, new_enforcer
from resolvers.batch import Batchers
from resolvers.loaders import RecordsByKeyLoader
from schema import build_schema, schema_fields
from schema.execution import Execution, PreparedDocuments
from schema.execution.executor import HubExecutor, ReferenceExecutor
from schema.execution.executor.compiled import _own_answer
from schema.masking import MASKABLE
from tests.conftest import hub_settings

ROLES = [("admin", None), ("auditor", None), ("analyst", None), ("officer", "finance"), ("officer", "hr")]

CORPUS = [
    ("{ people(first: 30) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { idNumber name sex"
     " birthDate retirementDate nameSource } } } }", {}),
    ("query($n: Int, $withPay: Boolean!) { a: people(first: $n) { edges { node { ...who payroll @include(if: $withPay)"
     " { payeeCodes onQuota onPayroll entries(last: 2) { month gross net } institution { code } } } } } }"
     " fragment who on Person { __typename id: idNumber name registry { slotId quotaType status institution { name } } }",
     {"n": 25, "withPay": True}),
    ("query($skip: Boolean!) { institutions(first: 15) { edges { node { code name regionCode regionName type rank"
     " funding schoolType students quotas { quotaType approved occupied vacant over } leadershipPosts { level scope"
     " approved filled } parent { code } children { code name } people @skip(if: $skip) { idNumber name } } } } }",
     {"skip": False}),
    ("{ institutions(first: 10, types: [PI_CLASS_1]) { totalCount edges { node { ... on Institution { code"
     " sourceUnits { department localCode } people(all: true) { personnel { category status posts { category grade }"
     " titles { title level } insurance { status } institution { code } } cadre { cadreId appointments { title"
     " levelCode role startOn institution { code } } } } } } } } }", {}),
    ('{ people(first: 5, regionCode: "152923") { totalCount edges { node { idNumber institution { regionCode } } } } }', {}),
    ('{ person(idNumber: "123") { name } regions { code name } }', {}),
    ('{ institution(code: "   ") { code } people(first: 2) { edges { node { idNumber } } } }', {}),
    ("{ people(first: 5000) { totalCount } }", {}),
    ("{ stats(measures: [HEADCOUNT, VACANCY_RATE, PAY_GROSS_AVERAGE], by: [REGION]) { rows { keys values suppressed }"
     " total { values } restricted } s: stats(measures: [HEADCOUNT], by: [INSTITUTION, EDUCATION]) { rows { keys values } } }", {}),
    ('{ people(first: 3, after: "not-a-cursor") { totalCount } }', {}),
]


class Executors:
    """The app's Execution (HubExecutor) and one with the reference executor over one hub state, driven on a
    loop of their own (hypothesis runs sync code)."""

    def __init__(self, demo: Path, store: Path) -> None:
        # every field to depth 6 (below) costs more than the default limit allows; the answers are compared, not
        # timed: on a slow machine a read of that query waiting past the default 10 s for its turn would answer
        # SOURCE_UNAVAILABLE (and open the department's breaker for the next test) instead of its data
        config = hub_settings(demo, store_url=f"sqlite+aiosqlite:///{store}", max_page_size=100, max_cost=10**9,
                              statement_timeout=120)
        self.schema = build_schema()
        self.loop = asyncio.new_event_loop()
        self._life = lifespan(config, self.schema)(None)  # type: ignore[arg-type]
        started = self.loop.run_until_complete(self._life.__aenter__())
        self.state, self.compiled = started["hub"], started["execution"]
        assert self.compiled.executor is HubExecutor
        self.plain = Execution(self.schema, PreparedDocuments(config.prepared_cache_bytes), max_depth=config.max_depth,
                               executor=ReferenceExecutor)

    def answer(self, execution: Execution, query: str, variables: dict[str, Any], role: str, department: str | None) -> bytes:
        """The JSON bytes of an answer, as the HTTP layer would send them."""

        async def run() -> bytes:
            ctx = await self.state.context(Principal("test", department, (role,)))
            result = await execution.answer(ctx, query, variables)
            return orjson.dumps({"data": result.data, "errors": [e.formatted for e in result.errors or []]})

        return self.loop.run_until_complete(run())

    def both(self, query: str, variables: dict[str, Any], role: str, department: str | None) -> tuple[bytes, bytes]:
        """(hub executor, reference executor) answers."""
        plain = self.answer(self.plain, query, variables, role, department)
        return self.answer(self.compiled, query, variables, role, department), plain

    def close(self) -> None:
        self.loop.run_until_complete(self._life.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture(scope="module")
def executors(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executors]:
    """Both executors over the session's demo data."""
    running = Executors(demo_dir, tmp_path_factory.mktemp("compiled") / "store.db")
    yield running
    running.close()


@pytest.mark.parametrize(("role", "department"), ROLES)
@pytest.mark.parametrize(("query", "variables"), CORPUS)
def test_corpus_answers_are_byte_identical(
    executors: Executors, query: str, variables: dict[str, Any], role: str, department: str | None
) -> None:
    compiled, plain = executors.both(query, variables, role, department)
    assert compiled == plain


def test_the_compiled_path_is_taken(executors: Executors, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    original = Batchers.load

    def spy(self: Any, fn: Any, parent: Any, **args: Any) -> Any:
        calls.append(fn)
        return original(self, fn, parent, **args)

    monkeypatch.setattr(Batchers, "load", spy)  # the reference loads per parent; the compiled path never
    query = "{ people(first: 10) { edges { node { name payroll { onQuota } } } } }"
    body = orjson.loads(executors.answer(executors.compiled, query, {}, "admin", None))
    assert not body["errors"] and len(body["data"]["people"]["edges"]) == 10
    assert calls == []
    executors.answer(executors.plain, query, {}, "admin", None)
    assert calls  # and the spy does see the reference


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_queries_are_byte_identical(executors: Executors, data: st.DataObject) -> None:
    query = data.draw(from_schema(executors.schema._schema, fields=["people", "institutions", "regions"]))
    for role, department in (("admin", None), ("auditor", None)):
        compiled, plain = executors.both(query, {}, role, department)
        assert compiled == plain, query


# --- faults: the same failures seen by both executors -------------------------------------------

# Fields that are non-null in the schema, blanked in some records to force null propagation.
BLANKED = ("slot_id", "month", "gross", "insured_no", "person_no", "approved")


def _blank(record: Any, key: Any, index: int) -> Any:
    """Some records lose their non-null fields: chosen by key and place, so both executors see the same ones.

    Records the compiled path asked for in part have their other fields unset: those stay unset.
    """
    if not is_dataclass(record) or zlib.crc32(f"{key}/{index}".encode()) % 5:
        return record
    blanked = object.__new__(type(record))
    for f in fields(record):
        if hasattr(record, f.name):
            object.__setattr__(blanked, f.name, None if f.name in BLANKED else getattr(record, f.name))
    return blanked


FAULTS = ["down:finance", "down:hr", "down:organization", "down:establishment", "blanks"]


@pytest.fixture(params=FAULTS)
def fault(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Loaders of one department fail (SOURCE_UNAVAILABLE), or some records miss non-null fields."""
    original = RecordsByKeyLoader.read_keys
    kind, _, department = request.param.partition(":")

    async def faulty(self: RecordsByKeyLoader, keys: Any) -> list[list[Any]]:
        if kind == "down" and self.adapter.department == department:
            raise SourceUnavailable(department, "test")
        found = await original(self, keys)
        if kind == "blanks":
            return [[_blank(r, key, i) for i, r in enumerate(group)] for key, group in zip(keys, found, strict=True)]
        return found

    monkeypatch.setattr(RecordsByKeyLoader, "read_keys", faulty)
    return str(request.param)


def _settled(answer: bytes) -> tuple[Any, list[bytes]]:
    """An answer's data, and its errors as a sorted list, each error that nulled a position above its
    own path reduced to that position.

    Which batch finishes first can depend on the SQLite driver's thread timing, and with it, in
    the reference executor (graphql-core), the order of the errors and which of several errors racing to null one
    position is kept: its own answers to one query differ from run to run. The data, the
    nulled positions and every other error must still be identical.
    """
    body = orjson.loads(answer)
    settled = []
    for error in body["errors"]:
        value, position = body["data"], []
        for step in error.get("path", []):
            if value is None:
                break
            value = value[step]
            position.append(step)
        if value is None and position != error.get("path"):
            error = {"nulled": position, "code": error["extensions"]["code"]}
        settled.append(orjson.dumps(error))
    return body["data"], sorted(settled)


def test_errors_and_nulls_are_identical(executors: Executors, fault: str) -> None:
    errors = 0
    for query, variables in CORPUS:
        for role, department in ROLES[:2]:
            compiled, plain = executors.both(query, variables, role, department)
            assert _settled(compiled) == _settled(plain), (query, role)
            errors += b'"errors":[]' not in compiled
    assert errors, "the fault reached no answer"


PLAN_REUSE = [
    ("query($pay: Boolean!) { people(first: 4) { edges { node { idNumber payroll @include(if: $pay) { onQuota } } } } }",
     [{"pay": True}, {"pay": False}, {"pay": True}]),
    ("query($n: Int!) { people(first: $n) { edges { node { name } } } }", [{"n": 2}, {"n": 5}]),
]


@pytest.mark.parametrize(("query", "runs"), PLAN_REUSE)
def test_a_cached_plan_follows_variables_and_roles(executors: Executors, query: str, runs: list[dict[str, Any]]) -> None:
    for variables in runs:
        for role, department in (ROLES[0], ROLES[1], ROLES[0]):  # admin, auditor (masked), admin again
            compiled, plain = executors.both(query, variables, role, department)
            assert compiled == plain, (variables, role)


def _everything(gql_type: Any, depth: int, grants: Any) -> str:
    """A selection of every field of a type the grants allow (arguments left to their defaults), objects down to `depth`."""
    selected = []
    for name, field in gql_type.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined for a in field.args.values()):
            continue
        if grants.access(gql_type.name, name) is Access.DENY:  # e.g. the auditor's birth dates (policies/derivations.csv)
            continue
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            if depth > 1:
                selected.append(f"{name} {{ {_everything(named, depth - 1, grants)} }}")
        else:
            selected.append(name)
    return " ".join(selected)


ROOTS = ["people(first: 100, includeLeft: true)", 'people(first: 100, after: "IlIwMDAwMDAxMDAi", includeLeft: true)', "institutions(first: 100)"]


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize(("role", "department"), ROLES[:2])
def test_every_field_reads_what_it_declares(executors: Executors, root: str, role: str, department: str | None) -> None:
    """The compiled path has the adapters build only the record fields the document reads: all of them are there."""
    schema = executors.schema._schema
    connection = schema.query_type.fields[root.split("(")[0]].type
    grants = PolicyBook(new_enforcer(), schema_fields(executors.schema), MASKABLE).grants([role if department is None else f"{department}.{role}"])
    query = f"{{ {root} {{ {_everything(connection, 6, grants)} }} }}"
    compiled, plain = executors.both(query, {}, role, department)
    assert compiled == plain
    assert orjson.loads(compiled)["errors"] == []


def test_a_list_of_leaves_is_its_own_answer_only_when_coercion_would_give_it_back() -> None:
    assert _own_answer(["a", "b"], str, False) and _own_answer([1.5, None], float, True) and _own_answer([], float, False)
    assert not _own_answer(["a", None], str, False)  # a null item of a non-null list: graphql-core's error
    assert not _own_answer([1, 2.0], float, True)  # an int: coerced to a float
    assert not _own_answer([float("nan")], float, True) and not _own_answer([float("inf")], float, True)  # errors
    assert not _own_answer([True], str, True)  # "true"
