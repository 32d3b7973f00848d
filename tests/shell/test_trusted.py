"""Trusted documents (hub/trusted.py): Apollo's persisted-query protocol, the allow-list mode, `hub documents`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import exc as sa_exc
from typer.testing import CliRunner

from hub import cli
from hub.store import documents as store_documents
from hub.store import upgrade
from hub.store.audit import AuditEvent, AuditLog
from tests.conftest import Hub, hub_settings, running_hub

REGIONS = "query Regions { regions { code name } }\n"
ROSTER = "query Roster($n: Int!) { people(first: $n) { totalCount } }\n\nquery One { regions { code } }\n"
JSON, GRAPHQL_RESPONSE = "application/json", "application/graphql-response+json"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pq(text_or_hash: str, version: int = 1) -> dict[str, Any]:
    digest = text_or_hash if len(text_or_hash) == 64 and " " not in text_or_hash else sha(text_or_hash)
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


def post(hub: Hub, body: dict[str, Any], accept: str = JSON, role: str = "admin") -> Any:
    headers = {"Authorization": f"Bearer {hub.token(role)}", "Accept": accept, "Content-Type": "application/json"}
    return hub.client.post("/graphql", content=orjson.dumps(body), headers=headers)


def get(hub: Hub, params: dict[str, str]) -> Any:
    return hub.client.get("/graphql", params=params, headers={"Authorization": f"Bearer {hub.token()}"})


def code(response: Any) -> str | None:
    errors = response.json().get("errors") or [{}]
    return errors[0].get("extensions", {}).get("code")  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated hub store on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_database")()
    upgrade(url)
    return url


@pytest.fixture
def documents(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Run `hub documents …` against the store."""
    monkeypatch.setenv("HUB_STORE_URL", store_url)

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli.app, ["documents", *args])

    return run


@pytest.fixture(scope="module")
def apq_hub(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    store = tmp_path_factory.mktemp("apq") / "hub.db"
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}")) as hub:
        yield hub


def test_an_unknown_hash_is_persisted_query_not_found_with_200_as_apollo_answers(apq_hub: Hub) -> None:
    text = "query Miss { regions { code } }"
    for accept in (JSON, GRAPHQL_RESPONSE):
        response = post(apq_hub, {"extensions": pq(text)}, accept)
        assert response.status_code == 200
        error = response.json()["errors"][0]
        assert error["message"] == "PersistedQueryNotFound"
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND" and " / " in error["extensions"]["detail"]
    assert get(apq_hub, {"extensions": json.dumps(pq(text))}).json()["errors"][0]["message"] == "PersistedQueryNotFound"


def test_hash_and_text_register_then_the_hash_alone_runs_by_post_and_get(apq_hub: Hub) -> None:
    text = "query Registered { regions { code name } }"
    expected = post(apq_hub, {"query": text}).json()
    assert "errors" not in expected
    assert code(post(apq_hub, {"extensions": pq(text)})) == "PERSISTED_QUERY_NOT_FOUND"
    assert post(apq_hub, {"query": text, "extensions": pq(text)}).json() == expected  # Apollo's retry: registers
    for _ in range(2):
        assert post(apq_hub, {"extensions": pq(text)}).json() == expected
    assert get(apq_hub, {"extensions": json.dumps(pq(text))}).json() == expected
    upper = {"persistedQuery": {"version": 1, "sha256Hash": sha(text).upper()}}
    assert post(apq_hub, {"extensions": upper}).json() == expected


def test_a_hash_that_is_not_the_texts_is_refused_and_registers_nothing(apq_hub: Hub) -> None:
    text, other = "query Honest { regions { code } }", "query Other { regions { name } }"
    for accept, status in ((JSON, 200), (GRAPHQL_RESPONSE, 400)):
        response = post(apq_hub, {"query": other, "extensions": pq(text)}, accept)
        assert response.status_code == status and code(response) == "PERSISTED_QUERY_HASH_MISMATCH"
        assert "provided sha does not match query" in response.json()["errors"][0]["message"]
    assert code(post(apq_hub, {"extensions": pq(text)})) == "PERSISTED_QUERY_NOT_FOUND"
    assert code(post(apq_hub, {"extensions": pq(other)})) == "PERSISTED_QUERY_NOT_FOUND"


def test_a_document_run_by_hash_passes_the_policy_and_the_audit_as_its_text(apq_hub: Hub,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    denied = "{ auditEntries(first: 1) { totalCount } }"
    assert "errors" not in post(apq_hub, {"query": denied, "extensions": pq(denied)}).json()  # admin registers it
    for accept, status in ((JSON, 200), (GRAPHQL_RESPONSE, 403)):
        response = post(apq_hub, {"extensions": pq(denied)}, accept, role="analyst")
        assert response.status_code == status and code(response) == "FORBIDDEN"
    events: list[AuditEvent] = []

    async def write(self: AuditLog, event: AuditEvent) -> None:
        events.append(event)

    monkeypatch.setattr(AuditLog, "write", write)
    personal = "query Names { people(first: 2) { edges { node { idNumber name } } } }"
    assert "errors" not in post(apq_hub, {"query": personal, "extensions": pq(personal)}).json()
    for _ in range(2):  # prepared, then from the prepared-document cache
        assert "errors" not in post(apq_hub, {"extensions": pq(personal)}).json()
    assert len(events) == 3 and all(e.operation == "Names" and e.operation_hash == sha(personal) for e in events)


@pytest.mark.parametrize("persisted", [{"version": 2, "sha256Hash": "0" * 64}, {"version": 1, "sha256Hash": "abc"},
                                       {"sha256Hash": "0" * 64}, "not an object"])
def test_a_malformed_persisted_query_is_a_bad_request(apq_hub: Hub, persisted: Any) -> None:
    response = post(apq_hub, {"query": "{ __typename }", "extensions": {"persistedQuery": persisted}})
    assert response.status_code == 400 and code(response) == "BAD_REQUEST"
    assert response.json()["errors"][0]["message"].startswith("请求无效 / bad request: ")


def test_a_text_too_long_is_refused_by_hash_and_not_kept(apq_hub: Hub) -> None:
    text = "{ " + "__typename " * 2_000 + "}"  # over HUB_MAX_QUERY_CHARS
    assert code(post(apq_hub, {"query": text, "extensions": pq(text)})) == "QUERY_TOO_LARGE"
    assert code(post(apq_hub, {"extensions": pq(text)})) == "PERSISTED_QUERY_NOT_FOUND"


def test_off_refuses_hashes_as_apollo_does_and_runs_texts(demo_dir: Path, tmp_path: Path) -> None:
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db", trusted_documents="off")
    with running_hub(settings) as hub:
        for body in ({"extensions": pq(REGIONS)}, {"query": REGIONS, "extensions": pq(REGIONS)}):
            response = post(hub, body, GRAPHQL_RESPONSE)
            assert response.status_code == 200 and response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
        assert "errors" not in post(hub, {"query": REGIONS}).json()


def test_only_registered_documents_run_by_hash_or_by_text(demo_dir: Path, tmp_path: Path, store_url: str,
                                                          documents: Callable[..., Any]) -> None:
    (tmp_path / "regions.graphql").write_text(REGIONS, encoding="utf-8")
    (tmp_path / "roster.graphql").write_text(ROSTER, encoding="utf-8")
    assert documents("add", str(tmp_path / "regions.graphql"), str(tmp_path / "roster.graphql")).exit_code == 0
    settings = hub_settings(demo_dir, store_url=store_url, trusted_documents="only", trusted_documents_cache_seconds=0)
    with running_hub(settings) as hub:
        by_text = post(hub, {"query": REGIONS}).json()
        assert "errors" not in by_text and by_text["data"]["regions"]
        assert post(hub, {"extensions": pq(REGIONS)}).json() == by_text
        assert post(hub, {"query": REGIONS, "extensions": pq(REGIONS)}).json() == by_text
        assert get(hub, {"extensions": json.dumps(pq(REGIONS))}).json() == by_text
        several = post(hub, {"extensions": pq(ROSTER), "operationName": "Roster", "variables": {"n": 2}}).json()
        assert several["data"]["people"]["totalCount"] > 0
        assert post(hub, {"query": REGIONS}).json() == by_text  # a registered text's repeat

        unregistered = "query Regions { regions { code } }"  # another text, though the same operation name
        for body in ({"query": unregistered}, {"query": unregistered, "extensions": pq(unregistered)},
                     {"extensions": pq(unregistered)}, {"query": REGIONS.strip()}):  # one character less
            for accept, status in ((JSON, 200), (GRAPHQL_RESPONSE, 403)):
                response = post(hub, body, accept)
                assert response.status_code == status and code(response) == "PERSISTED_QUERY_NOT_ALLOWED", body
                message = response.json()["errors"][0]["message"]
                assert "仅允许运行已登记的文档" in message and "runs only registered documents" in message
        assert code(post(hub, {"query": "{ __schema { queryType { name } } }"})) == "PERSISTED_QUERY_NOT_ALLOWED"
        page = hub.client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and 'id="trusted-only"' in page.text

        assert documents("remove", sha(REGIONS)).exit_code == 0
        for body in ({"query": REGIONS}, {"extensions": pq(REGIONS)}):  # prepared before: the check still runs first
            assert code(post(hub, body)) == "PERSISTED_QUERY_NOT_ALLOWED"
    with running_hub(settings) as restarted:  # registered documents live in the store
        assert post(restarted, {"extensions": pq(ROSTER), "operationName": "One"}).json()["data"]["regions"]
        assert code(post(restarted, {"query": REGIONS})) == "PERSISTED_QUERY_NOT_ALLOWED"


def test_documents_add_takes_graphql_files_and_both_manifest_forms(tmp_path: Path, documents: Callable[..., Any]) -> None:
    people = "query People { people(first: 1) { edges { node { name } } } }"
    apollo = {"format": "apollo-persisted-query-manifest", "version": 1,
              "operations": [{"id": sha(people), "name": "People", "type": "query", "body": people}]}
    regions = "query Names { regions { name } }"
    (tmp_path / "apollo.json").write_text(json.dumps(apollo), encoding="utf-8")
    (tmp_path / "codegen.json").write_text(json.dumps({sha(regions): regions}), encoding="utf-8")
    (tmp_path / "ops.graphql").write_text(ROSTER, encoding="utf-8")
    files = [str(tmp_path / name) for name in ("apollo.json", "codegen.json", "ops.graphql")]
    out = documents("add", *files)
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[-1] == "ok: 3 added, 0 registered already"
    assert f"added {sha(ROSTER)}  Roster,One  " in out.stdout
    again = documents("add", files[0])
    assert again.exit_code == 0 and again.stdout.splitlines()[-1] == "ok: 0 added, 1 registered already"
    listed = json.loads(documents("list").stdout)
    assert {d["sha256"]: d["operations"] for d in listed} == {sha(people): ["People"], sha(regions): ["Names"],
                                                             sha(ROSTER): ["Roster", "One"]}
    removed = documents("remove", sha(people).upper())
    assert removed.exit_code == 0 and sha(people) not in documents("list").stdout
    missing = documents("remove", sha(people))
    assert missing.exit_code == 1 and "no registered document" in missing.stderr


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("bad.graphql", "query Bad { regions { nosuchfield } }", "does not validate against the schema"),
    ("broken.graphql", "query Broken { regions {", "does not parse"),
    ("deep.graphql", "{ institutions { edges { node { people { institution { people { institution { people { institution "
                     "{ people { name } } } } } } } } } } }", "does not validate against the schema"),
    ("wrong.json", json.dumps({"0" * 64: "{ regions { code } }"}), "is not the SHA-256 of its document"),
    ("list.json", "[]", "expected Apollo's persisted-query manifest"),
    ("v2.json", json.dumps({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}),
     "only version 1"),
])
def test_documents_add_refuses_a_bad_document_and_stores_nothing(tmp_path: Path, documents: Callable[..., Any],
                                                                 name: str, content: str, problem: str) -> None:
    (tmp_path / "good.graphql").write_text(REGIONS, encoding="utf-8")
    (tmp_path / name).write_text(content, encoding="utf-8")
    out = documents("add", str(tmp_path / "good.graphql"), str(tmp_path / name))
    assert out.exit_code == 2, out.output
    assert out.stderr.startswith("错误 / error: ") and problem in out.stderr and name in out.stderr
    assert len(out.stderr.splitlines()) == 1
    assert json.loads(documents("list").stdout) == []  # the good file was not stored either
    assert documents("remove", "not-a-hash").exit_code == 2


def test_a_store_that_cannot_be_read_is_an_internal_error_in_graphqls_shape(demo_dir: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db", trusted_documents="only")
    with running_hub(settings) as hub:
        async def unreadable(store: Any, digest: str) -> str | None:
            raise sa_exc.OperationalError("SELECT", {}, OSError("connection refused"))

        monkeypatch.setattr(store_documents, "text", unreadable)
        for accept, status in ((JSON, 200), (GRAPHQL_RESPONSE, 500)):
            response = post(hub, {"query": REGIONS}, accept)
            assert response.status_code == status and code(response) == "INTERNAL"
            assert "cannot read the trusted documents" in response.json()["errors"][0]["message"]
        monkeypatch.undo()
        assert code(post(hub, {"query": REGIONS})) == "PERSISTED_QUERY_NOT_ALLOWED"  # the failure was not remembered
