"""The audit log cannot be cut silently, and every answered read is in it.

Every way of tampering with the store that the log must catch, on SQLite and PostgreSQL, each
checked by `hub audit verify` (exit 1 naming the problem); every root field that reads personal
data is audited; an answer leaves only after its entry is committed, and not at all when it
cannot be; refusals are counted; and after `kill -9` of a serving hub every answered read is in
the log.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLScalarType, get_named_type
from typer.testing import CliRunner

import hub.store.audit
from hub.cli import app as cli
from hub.core.db import sync_url
from hub.store.audit import GENESIS, AuditEvent, AuditLog, entry_hash
from hub.store.checkpoint import CheckpointFile
from hub.store.db import open_store
from hub.store.tables import audit_head, audit_log
from schema import build_schema
from schema.execution.extensions.audit import personal_fields
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET, Hub, hub_settings, running_hub

KEY = TEST_AUDIT_KEY.encode()
ENTRIES = 250
runner = CliRunner()


def event(i: int) -> AuditEvent:
    return AuditEvent(f"user{i % 3}", "finance", ("officer",), "152900", f"Op{i}", "h" * 64, ("Person.idNumber",), i, "ok")


@dataclass
class Chain:
    """A store holding a chain of ENTRIES entries written by the audit writer, and its checkpoint file."""

    url: str
    checkpoints: Path

    def engine(self) -> sa.Engine:
        return sa.create_engine(sync_url(self.url))

    def verify(self) -> tuple[int, str]:
        env = {"HUB_STORE_URL": self.url, "HUB_AUDIT_KEY": TEST_AUDIT_KEY, "HUB_AUDIT_CHECKPOINT_FILE": str(self.checkpoints)}
        result = runner.invoke(cli, ["audit", "verify"], env=env)
        return result.exit_code, result.stdout

    def write(self, events: list[AuditEvent]) -> None:
        """Append through the hub's own writer, in batches of 50 concurrent writes."""

        async def run() -> None:
            store = await open_store(self.url, migrate=True)
            log = AuditLog(store, KEY, CheckpointFile(self.checkpoints, KEY))
            log.start()
            for start in range(0, len(events), 50):
                await asyncio.gather(*(log.write(e) for e in events[start:start + 50]))
            await log.close()
            await store.close()

        asyncio.run(run())


@pytest.fixture(params=["sqlite", "postgresql"])
def chain(request: pytest.FixtureRequest, tmp_path: Path) -> Chain:
    url = f"sqlite+aiosqlite:///{tmp_path}/store.db" if request.param == "sqlite" else request.getfixturevalue("pg_database")()
    made = Chain(url, tmp_path / "checkpoints.jsonl")
    made.write([event(i) for i in range(ENTRIES)])
    return made


def _rows(conn: sa.Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id))]


def _set_head(conn: sa.Connection) -> None:
    """Make audit_head agree with the table, as a careful forger would."""
    last = conn.execute(sa.select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).first()
    conn.execute(sa.delete(audit_head))
    if last is not None:
        conn.execute(audit_head.insert().values(id=1, last_id=last.id, last_hash=last.hash))


def edit_a_row(chain: Chain, conn: sa.Connection) -> None:
    conn.execute(audit_log.update().where(audit_log.c.id == 100).values(rows=0))


def rewrite_every_hash_without_the_key(chain: Chain, conn: sa.Connection) -> None:
    """Edit a row, then re-chain everything consistently with a key of the forger's own."""
    prev = GENESIS
    for row in _rows(conn):
        row["rows"] = 0 if row["id"] == 100 else row["rows"]
        row["prev_hash"] = prev
        row["hash"] = prev = entry_hash(row, b"the-forger-does-not-have-the-key!!")
        conn.execute(audit_log.update().where(audit_log.c.id == row["id"])
                     .values(rows=row["rows"], prev_hash=row["prev_hash"], hash=row["hash"]))
    _set_head(conn)


def delete_the_last_100_rows_and_fix_the_head(chain: Chain, conn: sa.Connection) -> None:
    conn.execute(sa.delete(audit_log).where(audit_log.c.id > ENTRIES - 100))
    _set_head(conn)


def empty_both_tables(chain: Chain, conn: sa.Connection) -> None:
    conn.execute(sa.delete(audit_log))
    conn.execute(sa.delete(audit_head))


def delete_the_checkpoint_file(chain: Chain, conn: sa.Connection) -> None:
    chain.checkpoints.unlink()


def insert_a_row_at_the_end(chain: Chain, conn: sa.Connection) -> None:
    last = _rows(conn)[-1]
    row = {**last, "id": last["id"] + 1, "operation": "Inserted", "prev_hash": last["hash"]}
    row["hash"] = entry_hash(row, b"the-forger-does-not-have-the-key!!")
    conn.execute(audit_log.insert().values(**row))
    _set_head(conn)


def insert_a_row_in_the_middle(chain: Chain, conn: sa.Connection) -> None:
    rows = _rows(conn)
    conn.execute(sa.delete(audit_log).where(audit_log.c.id > 100))
    moved = [{**r, "id": r["id"] + 1} for r in rows[100:]]
    conn.execute(audit_log.insert(), [{**rows[99], "id": 101, "operation": "Inserted"}, *moved])
    _set_head(conn)


def cut_the_tail_and_let_the_hub_write_again(chain: Chain, conn: sa.Connection) -> None:
    """Entries 151-250 are replaced by new ones the hub itself writes (with the key) at the same positions."""
    delete_the_last_100_rows_and_fix_the_head(chain, conn)
    conn.commit()
    chain.write([event(1000 + i) for i in range(120)])


TAMPERING: dict[Callable[[Chain, sa.Connection], None], str] = {
    edit_a_row: "broken at entry 100: 内容被篡改或伪造",
    rewrite_every_hash_without_the_key: "broken at entry 1: 内容被篡改或伪造",
    delete_the_last_100_rows_and_fix_the_head: f"checkpointed up to entry {ENTRIES}, but the log ends at entry {ENTRIES - 100}: it was cut",
    empty_both_tables: f"checkpointed up to entry {ENTRIES}, but the log ends at entry 0: it was cut",
    delete_the_checkpoint_file: "checkpoint file",
    insert_a_row_at_the_end: f"broken at entry {ENTRIES + 1}: 内容被篡改或伪造",
    insert_a_row_in_the_middle: "broken at entry 101: 链接断裂",
    cut_the_tail_and_let_the_hub_write_again: "the log was cut and written again",
}


def test_an_intact_log_verifies(chain: Chain) -> None:
    code, out = chain.verify()
    assert code == 0, out
    assert out.startswith(f"ok: {ENTRIES} entries, chain intact, checkpointed up to entry {ENTRIES}")


@pytest.mark.parametrize("tamper", list(TAMPERING), ids=[t.__name__ for t in TAMPERING])
def test_tampering_with_the_store_is_caught(chain: Chain, tamper: Callable[[Chain, sa.Connection], None]) -> None:
    engine = chain.engine()
    with engine.connect() as conn:
        tamper(chain, conn)
        conn.commit()
    engine.dispose()
    code, out = chain.verify()
    assert code == 1, out
    assert TAMPERING[tamper] in out, out


def test_verify_without_the_key_refuses(chain: Chain) -> None:
    result = runner.invoke(cli, ["audit", "verify"], env={"HUB_STORE_URL": chain.url, "HUB_DEMO_DIR": str(chain.checkpoints.parent)})
    assert result.exit_code == 2 and "no audit key" in result.output


# --- every answered read is in the log ---------------------------------------------------------


@pytest.fixture
def own_hub(tmp_path: Path, demo_dir: Path) -> Iterator[Hub]:
    """A hub with a store of its own (so its entries can be counted)."""
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db")) as running:
        yield running


def entries_of(hub: Hub) -> list[sqlite3.Row]:
    with sqlite3.connect(hub.settings.store_url.split("///", 1)[1]) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall()


def _value(arg_type: Any) -> str:
    named = get_named_type(arg_type)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    assert isinstance(named, GraphQLScalarType), named
    return {"Int": "1", "Boolean": "true"}.get(named.name, '"152921198605204818"')


def test_every_root_field_that_reads_personal_data_is_audited(own_hub: Hub) -> None:
    """Each root query field touching personal data (by type or by an idNumber argument), asked alone, is one entry."""
    schema = build_schema()._schema
    assert schema.query_type is not None
    personal = personal_fields(schema)
    touching = [name for name in schema.query_type.fields if f"Query.{name}" in personal]
    assert {"person", "alert", "precheck", "alerts", "retirementDeferrals"} <= set(touching)
    for name in touching:
        field = schema.query_type.fields[name]
        args = ", ".join(f"{a}: {_value(t.type)}" for a, t in field.args.items() if isinstance(t.type, GraphQLNonNull))
        selection = "" if isinstance(get_named_type(field.type), GraphQLScalarType) else " { __typename }"
        own_hub.query(f"query Audited_{name} {{ {name}{f'({args})' if args else ''}{selection} }}")
        assert [e["operation"] for e in entries_of(own_hub)][-1] == f"Audited_{name}", name


def test_an_answer_leaves_only_after_its_entry_is_committed(own_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a slow store, the answer still finds its entry committed (full path and lean repeat alike)."""
    real = hub.store.audit.append

    def slow(*args: Any) -> tuple[int, str]:
        time.sleep(0.3)  # on the writer's thread
        return real(*args)

    monkeypatch.setattr(hub.store.audit, "append", slow)
    for i in range(3):
        body = own_hub.query("query Slow { people(first: 2) { edges { node { idNumber } } } }")
        assert body["data"] and [e["operation"] for e in entries_of(own_hub)].count("Slow") == i + 1


def test_no_answer_when_the_entry_cannot_be_written(own_hub: Hub) -> None:
    """The audit table unwritable: AUDIT_UNAVAILABLE instead of data, on the full path and for a lean repeat."""
    query = "query Refused { people(first: 2) { edges { node { idNumber name } } } }"
    assert own_hub.query(query)["data"]  # answered cleanly: remembered for lean repeats
    db = own_hub.settings.store_url.split("///", 1)[1]
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE audit_log RENAME TO audit_log_away")
    for text in (query, query.replace("Refused", "RefusedToo")):  # a repeat, and a query seen for the first time
        body = own_hub.query(text)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE", body
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE audit_log_away RENAME TO audit_log")
    assert own_hub.query(query)["data"]


def test_unauthenticated_requests_and_denials_are_counted(tmp_path: Path, demo_dir: Path) -> None:
    """401s per client address, denials per actor: one entry per minute each, with the count."""
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db")
    with running_hub(settings) as running:
        for _ in range(3):
            assert running.client.post("/graphql", json={"query": "{ regions { code } }"}).status_code == 401
        token = {"Authorization": f"Bearer {running.token('officer', 'finance')}"}
        for _ in range(2):
            body = running.client.post("/graphql", json={"query": "{ people(first: 1) { edges { node { cadre { cadreId } } } } }"},
                                       headers=token).json()
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    counts = [e for e in entries_of(running) if e["operation"].startswith("count:")]  # a minute may have ended meanwhile
    refused = [e for e in counts if e["outcome"] == "unauthenticated"]
    assert sum(e["rows"] for e in refused) == 3 and {e["actor"] for e in refused} == {"client:testclient"}
    denied = [e for e in counts if e["outcome"] == "denied"]
    assert sum(e["rows"] for e in denied) == 2 and len({e["actor"] for e in denied}) == 1
    assert all("Person.cadre" in e["fields"] and e["department"] == "finance" for e in denied)


def test_a_hub_without_an_audit_key_does_not_start(tmp_path: Path, demo_dir: Path) -> None:
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db", audit_key=None)
    with pytest.raises(Exception, match="no audit key"), running_hub(settings):
        pass


# --- kill -9 ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _fire(port: int, token: str, count: int, answered: list[str], enough: asyncio.Event) -> None:
    """`count` concurrent reads of personal fields: half unique operations (full path), half one repeated query (lean path)."""

    async def one(client: httpx2.AsyncClient, i: int) -> None:
        name = f"Unique{i}" if i % 2 else "Repeated"
        query = f"query {name} {{ people(first: 3) {{ edges {{ node {{ idNumber name }} }} }} }}"
        try:
            response = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
        except httpx2.HTTPError:
            return  # the hub was killed before answering
        if response.status_code == 200 and response.json().get("data"):
            answered.append(name)
            if len(answered) >= count // 2:
                enough.set()

    limits = httpx2.Limits(max_connections=32)
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as client:
        await asyncio.gather(*(one(client, i) for i in range(count)))


def test_every_answered_read_survives_kill_9(tmp_path: Path, demo_dir: Path) -> None:
    """Serve, fire 200 concurrent reads, kill -9 midway: every read that got its answer is in the log."""
    from hub.auth import create_token

    port = _free_port()
    store = tmp_path / "hub.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
        "HUB_DEMO_DIR": str(demo_dir), "HUB_STORE_URL": f"sqlite+aiosqlite:///{store}", "HUB_JWT_SECRET": TEST_SECRET,
        "HUB_AUDIT_KEY": TEST_AUDIT_KEY, "HUB_PORT": str(port), "HUB_LOG_LEVEL": "warning", "HUB_GRAPHIQL": "false",
    }
    subprocess.run([str(Path(sys.executable).parent / "hub"), "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([str(Path(sys.executable).parent / "hub"), "serve"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the hub did not start"
            time.sleep(0.2)
        token = create_token(hub_settings(demo_dir), None, ["admin"], "152900", "1h")
        answered: list[str] = []

        async def run() -> None:
            enough = asyncio.Event()
            firing = asyncio.create_task(_fire(port, token, 200, answered, enough))
            await asyncio.wait_for(enough.wait(), 60)
            os.kill(server.pid, signal.SIGKILL)  # while the other half is in flight
            await asyncio.wait_for(firing, 60)

        asyncio.run(run())
    finally:
        server.kill()
        server.wait(10)
    assert 100 <= len(answered) < 200  # killed midway
    with sqlite3.connect(store) as conn:
        logged = [r[0] for r in conn.execute("SELECT operation FROM audit_log")]
    assert set(answered) - set(logged) == set()
    assert logged.count("Repeated") >= answered.count("Repeated") > 1
    env_verify = {"HUB_STORE_URL": f"sqlite+aiosqlite:///{store}", "HUB_AUDIT_KEY": TEST_AUDIT_KEY}
    result = runner.invoke(cli, ["audit", "verify"], env=env_verify)
    assert result.exit_code == 0, result.stdout
