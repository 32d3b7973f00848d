"""docker/compose.yaml's topology run here, without Docker: two replicas behave as one service.

The services of the compose file, with its environment and commands, where each database host
becomes a fresh database on the local PostgreSQL or MariaDB, each /run/secrets file one made by
`make docker-secrets`, /app/var a temporary folder: the generator fills the four department
databases (and finds them filled the second time), `hub db upgrade` migrates a PostgreSQL hub
store, then both `hub serve` replicas run on ports of their own. A token works on both; a mutation
sent to one with an idempotency key and replayed to the other takes effect once, also when both get
it at the same moment; a state change made through one is what the other answers; and the audit
entries both write at once form one chain that `hub audit verify` accepts with both checkpoint files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.app import NO_TOKEN_KEYS
from hub.core.db import sync_url
from hub.demo.legacy import DEPARTMENT_TABLES
from hub.store.tables import alert_events, check_runs, idempotency_keys
from tests.conftest import MARIADB_ADMIN, PG_ADMIN, _factory, free_port
from tests.e2e.test_docker import load_compose, replicas

HUB = str(Path(sys.executable).parent / "hub")
ROOT = Path(__file__).resolve().parents[2]
PERSONS = "200"  # DEMO_PERSONS: small, so that generating three times stays within seconds
AT_ONCE = 12


@dataclass
class Replica:
    name: str
    base: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@dataclass
class Topology:
    replicas: list[Replica]
    store_url: str
    sources: dict[str, str]  # department -> local URL
    checkpoints: list[Path]
    one_shot: Callable[[str], subprocess.CompletedProcess[str]]  # runs a one-shot service's command again
    token: str = ""

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`hub …` with the first replica's environment."""
        return subprocess.run([HUB, *args], env=self.replicas[0].env, capture_output=True, text=True, check=check,
                              cwd=self.replicas[0].log.parent, timeout=120)

    def rows(self, table: sa.Table, where: Any = None) -> int:
        engine = sa.create_engine(sync_url(self.store_url))
        try:
            with engine.connect() as conn:
                q = sa.select(sa.func.count()).select_from(table)
                return int(conn.execute(q if where is None else q.where(where)).scalar_one())
        finally:
            engine.dispose()


def localize(value: str, local: dict[str, str]) -> str:
    """A compose value with its hosts' URLs, /run/secrets and /app/var made local."""
    value = local.get(value, value)
    for prefix in ("/run/secrets/", "/app/var/"):
        if value.startswith(prefix):
            return str(Path(local[prefix]) / value.removeprefix(prefix))
    return value


def run_one_shot(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert command[0] == "hub"
    return subprocess.run([HUB, *command[1:]], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def department_rows(urls: dict[str, str]) -> dict[str, int]:
    """Rows in each department's legacy tables."""
    counts = {}
    for department, url in urls.items():
        engine = sa.create_engine(sync_url(url))
        try:
            with engine.connect() as conn:
                counts[department] = sum(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                                         for t in DEPARTMENT_TABLES[department])
        finally:
            engine.dispose()
    return counts


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    compose = load_compose({"DEMO_PERSONS": PERSONS})
    services = compose["services"]
    work = tmp_path_factory.mktemp("compose")
    with contextlib.ExitStack() as stack:
        databases = {"postgresql": stack.enter_context(contextlib.contextmanager(_factory)(PG_ADMIN, '"')),
                     "mysql": stack.enter_context(contextlib.contextmanager(_factory)(MARIADB_ADMIN, "`"))}
        # Each database the compose file names (x-databases) becomes a fresh one on the local server of its kind.
        local = {url: databases[sa.make_url(url).get_backend_name()]() for url in compose["x-databases"].values()}
        secrets = work / "secrets"
        subprocess.run(["make", "-s", "docker-secrets", f"SECRETS_DIR={secrets}"], cwd=ROOT, check=True, capture_output=True)
        local["/run/secrets/"] = str(work / "run-secrets")
        (work / "run-secrets").mkdir()
        for name, spec in compose["secrets"].items():  # mounted as /run/secrets/<name>
            (work / "run-secrets" / name).symlink_to(secrets / Path(spec["file"]).name)
        local["/app/var/"] = str(work / "var")
        base = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        base.update(HUB_DEMO_DIR=str(work / "demo"), HUB_HOST="127.0.0.1")  # the image's ENV, but local

        def environment(service: str) -> dict[str, str]:
            return {**base, **{k: localize(str(v), local) for k, v in (services[service].get("environment") or {}).items()}}

        def one_shot(service: str) -> subprocess.CompletedProcess[str]:
            command = [localize(str(arg), local) for arg in services[service]["command"]]
            return run_one_shot(command, environment(service), work)

        generated = one_shot("generate")
        assert generated.returncode == 0, generated.stderr
        upgraded = one_shot("store-upgrade")
        assert upgraded.returncode == 0 and upgraded.stdout.startswith("ok: at "), upgraded.stderr
        started = []
        for name in sorted(replicas(compose)):
            env = {**environment(name), "HUB_PORT": str(free_port())}
            replica = Replica(name, f"http://127.0.0.1:{env['HUB_PORT']}", env, work / f"{name}.log")
            with replica.log.open("wb") as log:
                replica.process = subprocess.Popen([HUB, "serve"], env=env, cwd=work, stdout=log, stderr=log)
            stack.callback(replica.stop)
            started.append(replica)
        for replica in started:
            wait_ready(replica)
        hub_env = services[started[0].name]["environment"]
        topology = Topology(
            started, local[hub_env["HUB_STORE_URL"]],
            {d: local[hub_env[f"HUB_SOURCE_{d.upper()}_URL"]] for d in DEPARTMENT_TABLES},
            [Path(r.env["HUB_AUDIT_CHECKPOINT_FILE"]) for r in started], one_shot)
        topology.token = topology.cli("token", "create", "--role", "admin", "--subject", "officer-a").stdout.strip()
        yield topology


def wait_ready(replica: Replica, timeout: float = 120) -> None:
    """Until /readyz answers 200: the replica reads every department."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{replica.base}/readyz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        assert replica.process is not None and replica.process.poll() is None, replica.log.read_text()
        assert time.monotonic() < deadline, f"{replica.name} not ready: {replica.log.read_text()[-2000:]}"
        time.sleep(0.5)


def post(replica: Replica, token: str, query: str, variables: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{replica.base}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def data(topology: Topology, replica: Replica, query: str, **variables: Any) -> dict[str, Any]:
    status, body = post(replica, topology.token, query, variables)
    assert status == 200 and not body.get("errors"), body
    return body["data"]  # type: ignore[no-any-return]


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


PEOPLE = "{ people(first: 5) { totalCount edges { node { idNumber name } } } }"
RUN = "mutation($k: String) { runCheck(wait: true, idempotencyKey: $k) { id status findings } }"
OPEN = '{ alerts(first: 50, status: [OPEN]) { edges { node { id } } } }'
STEP = """mutation($id: ID!, $k: String) {
  %s(id: $id, note: "核实 / checked", idempotencyKey: $k) { id status history { fromStatus toStatus actor } } }"""
STATUS = "query($id: ID!) { alert(id: $id) { status history { toStatus } } }"


def open_alerts(topology: Topology) -> list[str]:
    return [e["node"]["id"] for e in data(topology, topology.replicas[1], OPEN)["alerts"]["edges"]]


def test_the_generator_leaves_filled_databases_alone_and_refills_incomplete_ones(topology: Topology) -> None:
    before = department_rows(topology.sources)
    assert all(before.values())
    again = topology.one_shot("generate")
    assert again.returncode == 0 and "already generated" in again.stderr, again.stderr
    assert department_rows(topology.sources) == before
    hr = sa.create_engine(sync_url(topology.sources["hr"]))  # as if the first run had died before its last index
    index = next(ix for t in DEPARTMENT_TABLES["hr"] for ix in t.indexes)
    with hr.begin() as conn:
        conn.execute(sa.text(f"DROP INDEX `{index.name}` ON `{index.table.name}`"))  # type: ignore[union-attr]
    refilled = topology.one_shot("generate")
    assert refilled.returncode == 0 and "already generated" not in refilled.stderr, refilled.stderr
    assert index.name in {ix["name"] for ix in sa.inspect(hr).get_indexes(index.table.name)}  # type: ignore[union-attr]
    hr.dispose()
    assert department_rows(topology.sources) == before  # the same seed: the same rows, not twice as many


def test_a_token_works_on_both_replicas_and_a_foreign_one_on_neither(topology: Topology) -> None:
    a, b = (data(topology, r, PEOPLE) for r in topology.replicas)
    assert a == b and a["people"]["totalCount"] > 0 and len(a["people"]["edges"]) == 5
    from hub.auth import create_token
    from hub.core.settings import Settings

    foreign = create_token(Settings(jwt_secret="another-secret-of-sufficient-length-0123"), None, ["admin"])
    assert [post(r, foreign, PEOPLE)[0] for r in topology.replicas] == [401, 401]
    for replica in topology.replicas:  # the secret file was found: no warning that every token is refused
        assert NO_TOKEN_KEYS not in replica.log.read_text(encoding="utf-8")


def test_a_keyed_mutation_replayed_on_the_other_replica_takes_effect_once(topology: Topology) -> None:
    a, b = topology.replicas
    run = data(topology, a, RUN, k="seed-run")["runCheck"]
    assert run["status"] == "DONE" and run["findings"] > 0
    assert data(topology, b, RUN, k="seed-run")["runCheck"] == run
    assert topology.rows(check_runs) == 1
    alert = open_alerts(topology)[0]
    first = data(topology, a, STEP % "acknowledgeAlert", id=alert, k="ack-1")
    events = topology.rows(alert_events)
    assert data(topology, b, STEP % "acknowledgeAlert", id=alert, k="ack-1") == first
    assert topology.rows(alert_events) == events


def test_the_same_key_at_once_on_both_replicas_takes_effect_once(topology: Topology) -> None:
    alert = open_alerts(topology)[0]
    keys = topology.rows(idempotency_keys)
    answers = at_once([partial(post, topology.replicas[i % 2], topology.token, STEP % "acknowledgeAlert",
                               {"id": alert, "k": "ack-race"}) for i in range(AT_ONCE)])
    assert all(status == 200 and not body.get("errors") for status, body in answers), answers
    assert all(body == answers[0][1] for _, body in answers)
    assert topology.rows(alert_events, alert_events.c.to_status == "ACKNOWLEDGED") == 2  # ack-1's and this one
    assert topology.rows(idempotency_keys) == keys + 1


def test_a_state_change_through_one_replica_is_what_the_other_answers(topology: Topology) -> None:
    a, b = topology.replicas
    alert = open_alerts(topology)[0]
    data(topology, b, STEP % "acknowledgeAlert", id=alert)
    assert data(topology, a, STATUS, id=alert)["alert"]["status"] == "ACKNOWLEDGED"
    data(topology, a, STEP % "startRectifyingAlert", id=alert)
    seen = data(topology, b, STATUS, id=alert)["alert"]
    assert seen["status"] == "RECTIFYING" and [h["toStatus"] for h in seen["history"]][-2:] == ["ACKNOWLEDGED", "RECTIFYING"]


def test_both_replicas_writing_at_once_keep_one_audit_chain(topology: Topology) -> None:
    answers = at_once([partial(post, topology.replicas[i % 2], topology.token, PEOPLE) for i in range(4 * AT_ONCE)])
    assert all(status == 200 and not body.get("errors") for status, body in answers)
    for replica in topology.replicas:
        replica.stop()  # nothing is written while the chain is checked
    writers = [{json.loads(line)["writer"] for line in path.read_text().splitlines()} for path in topology.checkpoints]
    assert all(len(w) == 1 for w in writers) and writers[0] != writers[1]  # each replica checkpointed its batches
    verdict = topology.cli("audit", "verify", *(f"--checkpoint={p}" for p in topology.checkpoints), check=False)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    checked = re.match(r"ok: (\d+) entries, chain intact, checkpointed up to entry (\d+)", verdict.stdout)
    assert checked is not None and int(checked.group(1)) >= 4 * AT_ONCE
    assert checked.group(1) == checked.group(2)  # the last entry is in a checkpoint too
