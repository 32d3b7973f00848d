"""Operations: /metrics, CORS, gzip, the store migrated by `hub db upgrade`, the committed SDL."""

from __future__ import annotations

import asyncio
import gzip
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.core.errors import StoreBehind
from hub.core.settings import Settings
from hub.metrics import OPERATION_NAMES
from hub.store.db import head, open_store
from schema.sdl import SDL_PATH, sdl
from tests.conftest import Hub, hub_settings, running_hub

ROSTER = "query Roster { people(first: 200) { edges { node { idNumber name institution { code name } } } } }"
ORIGIN = "https://console.example"


@pytest.fixture(scope="module")
def ops_hub(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[Hub]:
    store = tmp_path_factory.mktemp("ops") / "hub.db"
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}", cors_origins=ORIGIN)
    with running_hub(settings) as hub:
        yield hub


def samples(hub: Hub, headers: dict[str, str] | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The scraped samples by (name, sorted labels)."""
    response = hub.client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)  # type: ignore[no-any-return]


def post(hub: Hub, query: str, role: str = "admin", name: str | None = None, **headers: str) -> dict:
    body = {"query": query, **({"operationName": name} if name else {})}
    response = hub.client.post("/graphql", json=body, headers={"Authorization": f"Bearer {hub.token(role)}", **headers})
    return response.json()  # type: ignore[no-any-return]


def test_metrics_count_operations_outcomes_sources_batches_and_denials(ops_hub: Hub) -> None:
    before = samples(ops_hub)
    for _ in range(2):  # the second is answered from its prepared document: counted all the same
        assert "errors" not in post(ops_hub, ROSTER, name="Roster")
    assert post(ops_hub, "{ auditEntries(first: 1) { totalCount } }", role="analyst")["errors"]  # denied by the policy
    assert ops_hub.client.post("/graphql", json={"query": "{ __typename }"}).status_code == 401
    after = samples(ops_hub)
    assert value(after, "hub_requests_total", operation="Roster", outcome="ok") - value(
        before, "hub_requests_total", operation="Roster", outcome="ok") == 2
    assert value(after, "hub_requests_total", operation="anonymous", outcome="denied") >= 1
    assert value(after, "hub_denials_total", kind="denied") - value(before, "hub_denials_total", kind="denied") >= 1
    assert value(after, "hub_denials_total", kind="unauthenticated") - value(
        before, "hub_denials_total", kind="unauthenticated") == 1
    assert value(after, "hub_request_seconds_count", outcome="ok") - value(before, "hub_request_seconds_count", outcome="ok") == 2
    assert value(after, "hub_source_statements_total", source="establishment") > value(
        before, "hub_source_statements_total", source="establishment")
    assert value(after, "hub_source_rows_total", source="establishment") >= 200 + value(
        before, "hub_source_rows_total", source="establishment")
    batches = {labels: v for (name, labels), v in after.items() if name == "hub_loader_batch_size_sum"}
    assert batches and max(batches.values()) >= 2  # the roster's institutions were read in batches
    assert value(after, "hub_source_open", source="finance") == 0


def test_operation_names_are_bounded(demo_dir: Path, tmp_path: Path) -> None:
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db")) as hub:
        for i in range(OPERATION_NAMES + 10):
            post(hub, f"query Q{i} {{ __typename }}", name=f"Q{i}")
        names = {dict(labels)["operation"] for (name, labels) in samples(hub) if name == "hub_requests_total"}
    assert len(names) == OPERATION_NAMES + 1 and "other" in names


def test_metrics_token(demo_dir: Path, tmp_path: Path) -> None:
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db", metrics_token="scrape-me")
    with running_hub(settings) as hub:
        assert hub.client.get("/metrics").status_code == 401
        assert hub.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert hub.client.get("/metrics", headers={"Authorization": f"Bearer {hub.token()}"}).status_code == 401
        assert samples(hub, {"Authorization": "Bearer scrape-me"})


def test_preflight_from_an_allowed_origin_is_answered_not_401(ops_hub: Hub) -> None:
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}
    allowed = ops_hub.client.options("/graphql", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    denied = ops_hub.client.options("/graphql", headers={**preflight, "Origin": "https://evil.example"})
    assert denied.status_code == 400 and "access-control-allow-origin" not in denied.headers


def test_a_cross_origin_request_still_needs_credentials(ops_hub: Hub) -> None:
    anonymous = ops_hub.client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": ORIGIN})
    assert anonymous.status_code == 401
    answered = ops_hub.client.post("/graphql", json={"query": "{ __typename }"},
                                   headers={"Origin": ORIGIN, "Authorization": f"Bearer {ops_hub.token()}"})
    assert answered.status_code == 200 and answered.headers["access-control-allow-origin"] == ORIGIN


def test_no_origins_no_cors_headers(hub: Hub) -> None:
    response = hub.client.options("/graphql", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origins", ["console.example", "https://a.example/path", "ftp://a.example"])
def test_bad_origins_are_refused(origins: str) -> None:
    with pytest.raises(ValidationError, match="CORS origin"):
        Settings(cors_origins=origins)


def test_large_answers_are_gzipped_small_ones_not(ops_hub: Hub) -> None:
    headers = {"Authorization": f"Bearer {ops_hub.token()}", "Accept-Encoding": "gzip"}
    large = ops_hub.client.post("/graphql", json={"query": ROSTER}, headers=headers)
    assert large.headers["content-encoding"] == "gzip"
    assert len(gzip.compress(large.content)) < len(large.content)  # httpx has decoded it: a real JSON answer
    assert large.json()["data"]["people"]["edges"]
    small = ops_hub.client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert "content-encoding" not in small.headers


def test_the_app_refuses_a_store_behind_and_hub_db_upgrade_migrates_it(demo_dir: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    settings = hub_settings(demo_dir, store_url=url, store_auto_upgrade=False)
    with pytest.raises(StoreBehind, match="hub db upgrade"), running_hub(settings):
        pass
    monkeypatch.setenv("HUB_STORE_URL", url)
    refused = CliRunner().invoke(cli, ["serve"])  # one line before any server starts
    assert refused.exit_code == 1 and "hub db upgrade" in refused.output
    assert CliRunner().invoke(cli, ["db", "current"]).exit_code == 1
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    current = CliRunner().invoke(cli, ["db", "current"])
    assert current.exit_code == 0 and current.stdout.startswith(head())
    with running_hub(settings) as hub:
        assert "errors" not in hub.query("{ __typename }")
    with sqlite3.connect(tmp_path / "hub.db") as conn:  # a store a release behind is refused too
        conn.execute("UPDATE alembic_version SET version_num = '0001_supervision'")
    with pytest.raises(StoreBehind):
        asyncio.run(open_store(url))


def test_the_committed_sdl_is_the_schema() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), (
        "schema/schema.graphql differs from the schema the code builds: run `hub schema export` and review the diff")


def test_schema_export_writes_the_sdl(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema", "export", "--out", str(tmp_path / "s.graphql")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.graphql").read_text(encoding="utf-8") == sdl()
