"""The benchmark dataset: the project's generator writes all four departments into one PostgreSQL
database, reused while its parameters (and the generator's source) are unchanged."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg

import hub
from hub.core.ids import id_number_problem, normalize_id_number

SETUP_SQL = Path(__file__).parent / "postgraphile" / "setup.sql"
TABLES = ("T_JG", "T_BZ", "T_SMZ", "RS_RYXX", "A01", "GZ_RY", "GZ_YB")


@dataclass(frozen=True, slots=True)
class Params:
    """What the dataset is built from; a database built from other parameters is rebuilt."""

    persons: int
    institutions: int
    seed: int
    generator: str  # hash of hub/demo/*.py


def generator_hash() -> str:
    """A short hash of the generator's source files."""
    digest = hashlib.sha256()
    for path in sorted((Path(hub.__file__).parent / "demo").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def pg_url(database: str, port: int = 5432, driver: str = "postgresql") -> str:
    """A URL of a database on the local PostgreSQL as user postgres (trust authentication)."""
    return f"{driver}://postgres@127.0.0.1:{port}/{database}"


def _built_with(database: str) -> dict[str, Any] | None:
    try:
        with psycopg.connect(pg_url(database), connect_timeout=5) as conn:
            row = conn.execute("SELECT params FROM hubbench_private.dataset").fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def _recreate(database: str) -> None:
    with psycopg.connect(pg_url("postgres"), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}" ENCODING \'UTF8\' TEMPLATE template0 LC_COLLATE \'C.UTF-8\' LC_CTYPE \'C.UTF-8\'')


def _generate(database: str, params: Params, work: Path, log: Path) -> None:
    url = pg_url(database)
    hub_cli = Path(sys.executable).with_name("hub")
    argv = [
        str(hub_cli), "generate", "--out", str(work / "data"), "--persons", str(params.persons),
        "--institutions", str(params.institutions), "--seed", str(params.seed),
        *(arg for d in ("establishment", "organization", "hr", "finance") for arg in (f"--url-{d}", url)),
    ]
    print(f"  {' '.join(argv[1:4])} … --persons {params.persons} --institutions {params.institutions} → {database}",
          file=sys.stderr, flush=True)
    with log.open("wb") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              cwd=work, timeout=3 * 3600, check=False)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"hub generate failed ({done.returncode}), see {log}:\n{tail}")


def ensure_dataset(database: str, params: Params, work: Path, rebuild: bool = False) -> dict[str, int]:
    """Build the database unless it was built with the same parameters; returns its table sizes."""
    found = None if rebuild else _built_with(database)
    if found == asdict(params):
        print(f"dataset: reusing {database} ({json.dumps(found)})", file=sys.stderr)
    else:
        print(f"dataset: building {database} (was {json.dumps(found)})", file=sys.stderr, flush=True)
        started = time.monotonic()
        work.mkdir(parents=True, exist_ok=True)
        _recreate(database)
        _generate(database, params, work, work / "generate.log")
        with psycopg.connect(pg_url(database)) as conn:
            conn.execute(SETUP_SQL.read_text(encoding="utf-8"))
            conn.execute("CREATE TABLE hubbench_private.dataset (params jsonb NOT NULL, built_at timestamptz NOT NULL)")
            conn.execute("INSERT INTO hubbench_private.dataset VALUES (%s, now())", [json.dumps(asdict(params))])
        print(f"dataset: built in {time.monotonic() - started:.0f} s", file=sys.stderr)
    with psycopg.connect(pg_url(database), autocommit=True) as conn:
        conn.execute(SETUP_SQL.read_text(encoding="utf-8"))  # idempotent: picks up edits to setup.sql
        conn.execute("ANALYZE")
        return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in TABLES}  # type: ignore[index]


# People for Q1 whose records agree across departments: one registry slot, in post; one payee
# with at least 12 months of pay; the ID number valid and spelled in its canonical form in both;
# so that the hub's cross-department resolution and a plain PostGraphile lookup mean the same rows.
def q1_people(database: str, count: int) -> list[str]:
    """`count` ID numbers for Q1, the same every run on the same dataset."""
    with psycopg.connect(pg_url(database)) as conn:
        slots = conn.execute('SELECT "SFZH", "RYZT" = \'在编\' AND "CBRQ" IS NULL FROM "T_SMZ"').fetchall()
        payees = conn.execute('SELECT "SFZH", "RYBM" FROM "GZ_RY"').fetchall()
        months: dict[str, int] = dict(conn.execute('SELECT "RYBM", count(*) FROM "GZ_YB" GROUP BY 1').fetchall())
    by_slot: dict[str, list[tuple[str, bool]]] = {}
    for raw, active in slots:
        if (key := normalize_id_number(raw)) is not None:
            by_slot.setdefault(key, []).append((raw, active))
    by_payee: dict[str, list[tuple[str, str]]] = {}
    for raw, rybm in payees:
        if (key := normalize_id_number(raw)) is not None:
            by_payee.setdefault(key, []).append((raw, rybm))
    chosen = [
        key for key, found in by_slot.items()
        if len(found) == 1 and found[0] == (key, True) and id_number_problem(key) is None
        and len(pay := by_payee.get(key, [])) == 1 and pay[0][0] == key and months.get(pay[0][1], 0) >= 12
    ]
    return sorted(chosen, key=lambda k: hashlib.md5(k.encode()).hexdigest())[:count]
