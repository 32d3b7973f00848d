"""Sources: statements per level, the same answers on every dialect, a source going down mid-run."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.core.db import sync_url
from hub.demo.generate import sqlite_targets
from tests.conftest import DatabaseFactory, Hub, generate_into, hub_settings, running_hub

THREE_LEVELS = """
{ institutions(first: 60) { edges { node { code name
    people { idNumber name payroll { entries { month gross } } } } } } }"""


def statements(hub: Hub) -> int:
    """Statements run so far by all of the hub's sources."""
    return sum(adapter.statements for _, adapter in hub.client.app_state["hub"].sources.items())


def measure(hub: Hub, query: str) -> tuple[int, dict[str, Any]]:
    """(statements the query ran, its answer), after a warm-up that builds the crosswalk."""
    hub.query('{ institution(code: "x") { code } }')
    before = statements(hub)
    body = hub.query(query)
    assert "errors" not in body, body.get("errors")
    return statements(hub) - before, body


def test_statement_count_does_not_grow_with_rows(tmp_path: Path) -> None:
    counts, rows = [], []
    for persons in (300, 1200):
        out = tmp_path / str(persons)
        out.mkdir()
        generate_into(sqlite_targets(out), persons=persons, seed=3, out=out)
        with running_hub(hub_settings(out)) as hub:
            n, body = measure(hub, THREE_LEVELS)
        people = [p for e in body["data"]["institutions"]["edges"] for p in e["node"]["people"]]
        counts.append(n)
        rows.append(sum(len(p["payroll"]["entries"]) for p in people if p["payroll"]))
    assert rows[1] > 2 * rows[0]  # four times the people, well over twice the rows
    assert counts[0] == counts[1] <= 6  # units, slots, names, payees, pay lines: one each


COMPARE = [
    "{ institutions(first: 500) { totalCount edges { node { code name regionCode type rank funding schoolType students"
    " quotas { quotaType approved occupied vacant } leadershipPosts { level scope approved filled } } } } }",
    "{ people(first: 500) { totalCount edges { node { idNumber name sex birthDate retirementDate"
    " registry { slotId quotaType status enteredOn } personnel { category status posts { grade } }"
    " cadre { appointments { levelCode role startOn } }"
    " payroll { onQuota entries(last: 2) { month gross net } } } } } }",
]


@pytest.fixture
def mixed_urls(pg_database: DatabaseFactory, mariadb_database: DatabaseFactory) -> dict[str, str]:
    """Establishment and organization on PostgreSQL, HR and finance on MariaDB."""
    pg, maria = pg_database(), mariadb_database()
    return {"establishment": pg, "organization": pg, "hr": maria, "finance": maria}


def test_same_answers_on_sqlite_and_on_postgresql_with_mariadb(tmp_path: Path, mixed_urls: dict[str, str]) -> None:
    generate_into(sqlite_targets(tmp_path), persons=400, seed=11)
    generate_into(mixed_urls, persons=400, seed=11)
    with running_hub(hub_settings(tmp_path)) as sqlite_hub:
        expected = [sqlite_hub.query(q) for q in COMPARE]
    with running_hub(hub_settings(tmp_path / "unused", mixed_urls)) as server_hub:
        actual = [server_hub.query(q) for q in COMPARE]
    assert all("errors" not in body for body in expected)
    for got, want in zip(actual, expected, strict=True):
        _assert_same(got, want)


def _assert_same(got: Any, want: Any, path: str = "") -> None:
    """Equal, or fail naming the first differing path (the answers are large)."""
    if isinstance(want, dict) and isinstance(got, dict):
        assert got.keys() == want.keys(), path
        for key in want:
            _assert_same(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list) and isinstance(got, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_same(g, w, f"{path}[{i}]")
    else:
        assert got == want, path


PARTIAL = "{ people(first: 20) { edges { node { idNumber name registry { slotId } payroll { onQuota } } } } }"


def test_a_source_down_mid_run_degrades_only_its_paths(tmp_path: Path, pg_database: DatabaseFactory) -> None:
    finance_url = pg_database()
    targets = {**sqlite_targets(tmp_path), "finance": finance_url}
    generate_into(targets, persons=300, seed=5)
    with running_hub(hub_settings(tmp_path, {"finance": finance_url}, connect_timeout=2)) as hub:
        before = hub.query(PARTIAL)
        assert "errors" not in before
        _drop(finance_url)
        after = hub.query(PARTIAL)
        ready = hub.client.get("/readyz")
    edges = after["data"]["people"]["edges"]
    assert [e["node"]["idNumber"] for e in edges] == [e["node"]["idNumber"] for e in before["data"]["people"]["edges"]]
    assert all(e["node"]["registry"] and e["node"]["name"] for e in edges)
    assert all(e["node"]["payroll"] is None for e in edges)
    errors = after["errors"]
    assert errors and {e["extensions"]["code"] for e in errors} == {"SOURCE_UNAVAILABLE"}
    assert all(e["path"][-1] == "payroll" and e["extensions"]["source"] == "finance" for e in errors)
    assert ready.status_code == 503 and ready.json()["sources"]["finance"]["ok"] is False


class SilentServer:
    """A TCP server that accepts connections and never answers (a hung database host), in a thread."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()
        for conn in self.accepted:
            conn.close()


def test_a_hung_source_costs_its_timeout_once_not_every_request(demo_dir: Path) -> None:
    hung = SilentServer()
    settings = hub_settings(demo_dir, {"finance": f"postgresql+asyncpg://u@127.0.0.1:{hung.port}/db"},
                            connect_timeout=0.5, source_retry_seconds=60, max_concurrent_operations=1)
    try:
        with running_hub(settings) as hub:
            answers = [hub.query(PARTIAL) for _ in range(4)]
            tried = len(hung.accepted)
            answers += [hub.query(PARTIAL) for _ in range(4)]
            ready = hub.client.get("/readyz")
            assert len(hung.accepted) == tried >= 1  # the later requests failed at once, without connecting
    finally:
        hung.close()
    for body in answers:
        edges = body["data"]["people"]["edges"]
        assert len(edges) == 20 and all(e["node"]["name"] and e["node"]["payroll"] is None for e in edges)
        assert {e["extensions"]["source"] for e in body["errors"]} == {"finance"}
    assert ready.status_code == 503 and ready.json()["sources"]["finance"]["ok"] is False


def _drop(url: str) -> None:
    parsed = sa.make_url(url)
    admin = sa.create_engine(sync_url(parsed.set(database="postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def test_sources_check_reads_every_mapped_entity(demo_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    ok = CliRunner().invoke(app, ["sources", "check"], env={"HUB_DEMO_DIR": str(demo_dir)})
    assert ok.exit_code == 0, ok.output
    assert "registry_slot" in ok.stdout and "pay_line" in ok.stdout
    broken = CliRunner().invoke(app, ["sources", "check"], env={"HUB_DEMO_DIR": str(tmp_path / "nowhere")})
    assert broken.exit_code == 1 and "unavailable" in broken.stdout


PERSON_EXISTS = 'query($id: String!) { person(idNumber: $id) { idNumber registry { slotId } payroll { payeeCodes } } }'


def test_person_lookup_asks_departments_in_trust_order_until_one_knows(hub: Hub, manifest: dict[str, Any]) -> None:
    """A person in the registry costs one existence statement; a ghost payee is still found."""
    listed = hub.query("{ people(first: 1) { edges { node { idNumber } } } }")["data"]["people"]["edges"][0]["node"]["idNumber"]
    hub.query('{ institution(code: "x") { code } }')  # crosswalk built
    before = statements(hub)
    body = hub.query('query($id: String!) { person(idNumber: $id) { idNumber } }', {"id": listed})
    assert body["data"]["person"]["idNumber"] == listed
    assert statements(hub) - before == 1

    ghost = next(a["idNumber"] for a in manifest["anomalies"] if a["rule"] == "R01")
    person = hub.query(PERSON_EXISTS, {"id": ghost})["data"]["person"]
    assert person is not None and person["idNumber"] == ghost
    assert person["payroll"]["payeeCodes"]
