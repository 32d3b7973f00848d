"""Repeated queries skip strawberry's view (hub/fastpath.py): the same bytes and audit, errors by the full path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.core.errors import SourceUnavailable
from hub.core.ids import make_id_number
from hub.fastpath import KnownQueries
from hub.store.audit import AuditEvent, AuditLog
from resolvers.loaders import RecordsByKeyLoader
from tests.conftest import Hub, hub_settings, running_hub

PERSON = """query Person($id: String!) { person(idNumber: $id) {
  idNumber name sex institution { code name } payroll { entries(last: 3) { month gross net } } } }"""
ROSTER = "query Roster { people(first: 25) { totalCount edges { node { idNumber name sex institution { code } } } } }"
INSTITUTIONS = "{ institutions(first: 5) { edges { node { code name quotas { quotaType approved occupied } people { name } } } } }"


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[tuple[Hub, Hub]]:
    """The hub as configured (repeats served lean) and one where every request takes the full path."""
    store = tmp_path_factory.mktemp("fastpath")
    lean = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}/lean.db")
    full = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}/full.db", fast_repeats=False)
    with running_hub(lean) as lean_hub, running_hub(full) as full_hub:
        yield lean_hub, full_hub


def known(hub: Hub) -> KnownQueries:
    graphql = next(r.endpoint for r in hub.client.app.routes if getattr(r, "path", "") == "/graphql")  # type: ignore[attr-defined]
    assert graphql.known is not None
    return graphql.known  # type: ignore[no-any-return]


def post(hub: Hub, query: str, variables: dict[str, Any] | None = None, role: str = "admin", token: str | None = None,
         accept: str = "application/json", **claims: Any) -> Any:
    headers = {"Authorization": f"Bearer {token or hub.token(role, **claims)}", "Accept": accept}
    return hub.client.post("/graphql", content=orjson.dumps({"query": query, "variables": variables}), headers={
        **headers, "Content-Type": "application/json"})


def some_person(hub: Hub) -> str:
    body = post(hub, ROSTER).json()
    return str(body["data"]["people"]["edges"][3]["node"]["idNumber"])


def test_a_repeat_is_served_lean_with_the_same_bytes(hubs: tuple[Hub, Hub]) -> None:
    lean, full = hubs
    person = some_person(lean)
    cases = [(PERSON, {"id": person}, "admin"), (ROSTER, None, "auditor"), (INSTITUTIONS, None, "admin")]
    for (query, variables, role), accept in product(cases, ("application/json", "application/graphql-response+json")):
        before = known(lean).served
        answers = [post(lean, query, variables, role, accept=accept) for _ in range(3)]
        expected = post(full, query, variables, role, accept=accept)
        assert "errors" not in expected.json()
        assert known(lean).served - before >= 2  # the first may be the full path's, the repeats are not
        for answer in answers:
            assert answer.status_code == 200 and answer.content == expected.content
            assert answer.headers["content-type"] == expected.headers["content-type"] == accept
            assert answer.headers["x-request-id"]
    masked = post(lean, ROSTER, role="auditor").json()["data"]["people"]["edges"][0]["node"]
    assert "*" in masked["idNumber"] and "*" in masked["name"]  # a role's grants and masks hold on repeats


def test_a_lean_answer_is_audited_as_the_full_path_audits(hubs: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch) -> None:
    lean, _ = hubs
    events: list[AuditEvent] = []

    async def write(self: AuditLog, event: AuditEvent) -> None:
        events.append(event)

    monkeypatch.setattr(AuditLog, "write", write)
    query = ROSTER.replace("Roster", "RosterAudited")
    before = known(lean).served
    token = lean.token("officer", department="hr")
    for _ in range(3):
        post(lean, query, token=token)
    assert known(lean).served - before == 2
    assert len(events) == 3 and events[0] == events[1] == events[2]
    assert events[0].operation == "RosterAudited" and events[0].rows == 25 and events[0].outcome == "ok"
    assert "Person.idNumber" in events[0].fields
    post(lean, "{ regions { code } }")
    post(lean, "{ regions { code } }")
    assert len(events) == 3  # nothing personal read: nothing audited, on either path


def test_an_answer_with_errors_comes_from_the_full_path(hubs: tuple[Hub, Hub]) -> None:
    lean, full = hubs
    query = PERSON.replace("Person(", "PersonErrors(")
    person = some_person(lean)
    post(lean, query, {"id": person})  # learned
    served = known(lean).served
    for variables in [{"id": "12345"}, {"id": make_id_number("152921", dt.date(1980, 1, 1), 7, True)}, {}]:
        answer, expected = post(lean, query, variables), post(full, query, variables)
        assert answer.status_code == expected.status_code and answer.content == expected.content, variables
    assert known(lean).served == served  # malformed input: errors, so the full path's answer
    post(lean, query, {"id": person})  # forgotten after the error: answered by the full path, learned again
    assert known(lean).served == served
    post(lean, query, {"id": person})
    assert known(lean).served == served + 1


def test_a_department_down_after_learning_degrades_as_the_full_path_does(
    hubs: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    lean, full = hubs
    query = PERSON.replace("Person(", "PersonDown(")
    variables = {"id": some_person(lean)}
    post(lean, query, variables)
    post(lean, query, variables)
    served = known(lean).served
    original = RecordsByKeyLoader.batch_load_fn

    async def finance_down(self: RecordsByKeyLoader, keys: Any) -> Any:
        if self.adapter.department == "finance":
            raise SourceUnavailable("finance", "test")
        return await original(self, keys)

    monkeypatch.setattr(RecordsByKeyLoader, "batch_load_fn", finance_down)
    answer, expected = post(lean, query, variables), post(full, query, variables)
    assert answer.content == expected.content
    body = answer.json()
    assert body["data"]["person"]["name"] and body["data"]["person"]["payroll"] is None
    assert body["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert known(lean).served == served


def test_each_principal_gets_its_own_rows_and_masks(hubs: tuple[Hub, Hub]) -> None:
    lean, full = hubs
    query = "query Region { people(first: 10) { totalCount edges { node { idNumber institution { regionCode } } } } }"
    for claims in [{"region": "152900"}, {"region": "152921"}, {"region": "152922"}, {"region": "152921"}]:
        for role in ["admin", "auditor"]:
            answer, expected = post(lean, query, role=role, **claims), post(full, query, role=role, **claims)
            assert answer.content == expected.content, (role, claims)
            regions = {e["node"]["institution"]["regionCode"] for e in answer.json()["data"]["people"]["edges"]}
            assert all(r.startswith(claims["region"].rstrip("0")) for r in regions), regions


def test_other_requests_take_the_full_path(hubs: tuple[Hub, Hub]) -> None:
    lean, _ = hubs
    auth = {"Authorization": f"Bearer {lean.token()}"}
    post(lean, "{ regions { code } }")
    served = known(lean).served
    via_get = lean.client.get("/graphql", params={"query": "{ regions { code } }"}, headers=auth)
    batch = lean.client.post("/graphql", json=[{"query": "{ regions { code } }"}], headers=auth)
    text = lean.client.post("/graphql", content=b"{ regions { code } }", headers={**auth, "Content-Type": "text/plain"})
    mutation = lean.client.post("/graphql", json={"query": "mutation { runCrossCheck { id } }"}, headers=auth)
    assert via_get.status_code == 200 and "regions" in via_get.json()["data"]
    assert batch.status_code == 400 and text.status_code == 400 and mutation.status_code == 200
    assert known(lean).served == served
    unauthenticated = lean.client.post("/graphql", json={"query": "{ regions { code } }"})
    assert unauthenticated.status_code == 401
