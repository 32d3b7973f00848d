"""The demo generator: legacy shapes, determinism, planted anomalies (and nothing else), dialects."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.core import ids
from hub.core.codes import CIVIL_SERVICE_SCALE, QuotaType
from hub.core.db import sync_url
from hub.core.retirement import month_end, retirement_date, retirement_group
from hub.demo.generate import DEPARTMENTS, JOINED, demo_targets, generate, sqlite_targets
from hub.demo.legacy import DEPARTMENT_TABLES
from hub.demo.writer import JOINED_TABLES
from tests.demo.oracle import Oracle, expected

PERSONS = 600
SEED = 7

# docs/legacy-databases.md, written out independently of hub/demo/legacy.py.
SHAPES = {
    "establishment": {
        "T_JG": "JGID JGMC TYSHXYDM JGLB JGGG JFXS XZQH SJJGID XXLB ZXSS CLRQ CXRQ",
        "T_BZ": "JGID BZLX HDS PZWH PZRQ",
        "T_LDZS": "JGID ZWCC ZSLX HDZS",
        "T_SMZ": "RYID JGID XM SFZH XB CSRQ MZ XL BZLX RBRQ CBRQ CBYY RYZT JHID",
        "T_YBJH": "JHID JGID BZLX JHS YYS PZRQ ZT",
    },
    "organization": {
        "B01": "B0111 B0101 B0114 B0127 B0183 B0185",
        "A01": "A0100 A0101 A0104 A0107 A0117 A0184 A0157",
        "A02": "A0200 A0100 A0201B A0215A A0221 A0219 A0243 A0245 A0265",
        "A08": "A0100 A0801B A0837 A0807",
    },
    "hr": {
        "RS_DW": "DWBM DWMC TYXYDM XZQH",
        "RS_RYXX": "RYBH DWBM XM GMSFHM XB CSRQ MZDM XLDM RYLB RJXK CJGZRQ ZT ZTRQ",
        "RS_GWPY": "RYBH GWLB GWDJ QSRQ ZZRQ",
        "RS_ZC": "RYBH ZCMC ZCJB QDRQ",
        "AC01": "AAC001 AAC002 AAC003 AAC004 AAC006 AAC008",
    },
    "finance": {
        "GZ_DW": "DWDM DWMC TYXYDM",
        "GZ_RY": "RYBM DWDM XM SFZH XB RYLB BZQK TFBZ",
        "GZ_YB": "GZNY RYBM DWDM ZWGZ JBGZ GWGZ XJGZ JCJX JLJX JTBT YFHJ DK_YL DK_YB DK_NJ DK_SY DK_GJJ DK_SDS SFHJ",
        "GZ_YD": "YDID RYBM YDLX QXNY TXNY PZWH",
    },
}
DATE_COLUMNS = {
    "CLRQ",
    "CXRQ",
    "PZRQ",
    "RBRQ",
    "CBRQ",
    "CSRQ@RS_RYXX",
    "CJGZRQ",
    "ZTRQ",
    "QSRQ",
    "ZZRQ",
    "QDRQ",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One generated demo shared by the read-only tests of this module."""
    out = tmp_path_factory.mktemp("demo")
    manifest = generate(sqlite_targets(out), persons=PERSONS, seed=SEED, manifest_path=out / "manifest.json")
    return out, manifest


def _rows(out: Path, sql: str) -> list[tuple]:
    found: list[tuple] = []
    for dept in DEPARTMENTS:
        with sqlite3.connect(out / f"{dept}.db") as con:
            try:
                found.extend(con.execute(sql).fetchall())
            except sqlite3.OperationalError:
                continue
    return found


def _digest(out: Path) -> dict[str, str]:
    digests = {}
    for dept, tables in SHAPES.items():
        with sqlite3.connect(out / f"{dept}.db") as con:
            for table in tables:
                rows = con.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
                digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def test_manifest_is_returned_and_written(demo: tuple[Path, dict]) -> None:
    out, manifest = demo
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8")) == manifest
    assert (
        manifest["seed"] == SEED
        and manifest["persons"] == PERSONS
        and manifest["referenceMonth"] == "2026-10"
    )
    assert manifest["institutions"] == 60
    assert sum(manifest["rules"].values()) == len(manifest["anomalies"])
    key = ("rule", "idNumber", "institutionCode", "detail")
    assert manifest["anomalies"] == sorted(
        manifest["anomalies"], key=lambda f: tuple(f.get(k, "") for k in key)
    )
    for finding in manifest["anomalies"]:
        assert ("idNumber" in finding) != ("institutionCode" in finding)
        assert finding["detail"]


def test_every_table_and_column_of_the_legacy_shapes(demo: tuple[Path, dict]) -> None:
    out, _ = demo
    for dept, tables in SHAPES.items():
        with sqlite3.connect(out / f"{dept}.db") as con:
            present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            assert present == set(tables)
            for table, columns in tables.items():
                info = con.execute(f'PRAGMA table_info("{table}")').fetchall()
                assert [c[1] for c in info] == columns.split()
                for _, name, declared, *_ in info:
                    is_date = name in DATE_COLUMNS or f"{name}@{table}" in DATE_COLUMNS
                    assert (declared == "DATE") == is_date, (table, name, declared)
                    if name.startswith(("ZWGZ", "JBGZ", "GWGZ", "XJGZ", "YFHJ", "SFHJ", "DK_")):
                        assert declared == "BIGINT"
            indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            assert all(ix.name in indexes for t in DEPARTMENT_TABLES[dept] for ix in t.indexes)


def test_planted_findings_are_exactly_what_the_rules_find(demo: tuple[Path, dict]) -> None:
    out, manifest = demo
    found = Oracle(out).run()
    assert found - expected(manifest) == set(), "findings nobody planted"
    assert expected(manifest) - found == set(), "planted findings that do not show"


def test_each_rule_is_planted_at_least_twice_even_when_small(tmp_path: Path) -> None:
    manifest = generate(sqlite_targets(tmp_path), persons=300, seed=3)
    assert {f"R{i:02d}" for i in range(1, 17)} == set(manifest["rules"])
    assert min(manifest["rules"].values()) >= 2
    assert Oracle(tmp_path).run() == expected(manifest)


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    first, second, third = (tmp_path / n for n in ("a", "b", "c"))
    for out in (first, second, third):
        out.mkdir()
    one = generate(sqlite_targets(first), persons=300, seed=11)
    two = generate(sqlite_targets(second), persons=300, seed=11)
    other = generate(sqlite_targets(third), persons=300, seed=12)
    assert one == two and _digest(first) == _digest(second)
    assert one["anomalies"] != other["anomalies"]
    assert _digest(first)["T_SMZ"] != _digest(third)["T_SMZ"]


def test_all_four_departments_in_one_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'all.db'}"  # a sync driver name is accepted too
    manifest = generate(dict.fromkeys(DEPARTMENTS, url), persons=200, seed=5)
    with sqlite3.connect(tmp_path / "all.db") as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {t for shape in SHAPES.values() for t in shape}
        assert con.execute("SELECT count(*) FROM RS_RYXX").fetchone()[0] > 150
    assert manifest["persons"] == 200


def test_ids_are_valid_except_planted_r10_and_planted_people_exist(demo: tuple[Path, dict]) -> None:
    out, manifest = demo
    bad = {f["idNumber"] for f in manifest["anomalies"] if f["rule"] == "R10" and "idNumber" in f}
    seen: set[str] = set()
    for sql in ("SELECT SFZH FROM T_SMZ", "SELECT GMSFHM FROM RS_RYXX", "SELECT AAC002 FROM AC01",
                "SELECT SFZH FROM GZ_RY", "SELECT A0184 FROM A01"):  # fmt: skip
        for (raw,) in _rows(out, sql):
            key = ids.normalize_id_number(raw)
            assert key is not None
            seen.add(key)
            assert (ids.id_number_problem(key) is not None) == (key in bad), raw
    assert {f["idNumber"] for f in manifest["anomalies"] if "idNumber" in f} <= seen
    for sql in ("SELECT GMSFHM FROM RS_RYXX", "SELECT AAC002 FROM AC01"):  # one record per person
        keys = [ids.normalize_id_number(raw) for (raw,) in _rows(out, sql)]
        assert len(keys) == len(set(keys))
    raw_ids = [r[0] for r in _rows(out, "SELECT SFZH FROM T_SMZ")]
    assert any(len(r) == 15 for r in raw_ids) and any(r.endswith("x") for r in raw_ids)
    assert any(r.startswith("１") for r in raw_ids)


def test_institution_codes_names_and_noise(demo: tuple[Path, dict]) -> None:
    out, _ = demo
    names = [ids.normalize_name(n) for (n,) in _rows(out, "SELECT JGMC FROM T_JG")]
    assert len(names) == len(set(names)) == 60
    blank = Counter(src for src, sql in (("T_JG", "SELECT TYSHXYDM FROM T_JG"), ("GZ_DW", "SELECT TYXYDM FROM GZ_DW"))
                    for (code,) in _rows(out, sql) if code is None)  # fmt: skip
    assert blank["T_JG"] > 0 and blank["GZ_DW"] > 0
    b0114 = [c for (c,) in _rows(out, "SELECT B0114 FROM B01") if c]
    assert any(len(ids.normalize_code(c) or "") == 9 for c in b0114) and any(len(c) == 18 for c in b0114)
    assert any(" " in n for (n,) in _rows(out, "SELECT XM FROM GZ_RY"))


def test_pay_is_on_the_slot_scale_and_adds_up(demo: tuple[Path, dict]) -> None:
    out, manifest = demo
    r06 = {f["idNumber"] for f in manifest["anomalies"] if f["rule"] == "R06"}
    slot_types: dict[str, set[str]] = {}
    for sfzh, bzlx in _rows(out, "SELECT SFZH, BZLX FROM T_SMZ WHERE RYZT != '出编'"):
        slot_types.setdefault(ids.normalize_id_number(sfzh) or "", set()).add(bzlx)
    payee = {rybm: ids.normalize_id_number(sfzh) for rybm, sfzh in _rows(out, "SELECT RYBM, SFZH FROM GZ_RY")}
    lines = _rows(out, "SELECT * FROM GZ_YB")
    assert {r[0] for r in lines} == {
        f"{y}{m:02d}" for y, m in [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)]
    }
    for line in lines:
        zwgz, jbgz, gwgz, xjgz, jcjx, jljx, jtbt, yfhj, *deductions, sfhj = line[3:]
        assert yfhj == zwgz + jbgz + gwgz + xjgz + jcjx + jljx + jtbt and sfhj == yfhj - sum(deductions)
        key = payee[line[1]]
        civil = zwgz > 0 and jbgz > 0 and gwgz == xjgz == 0
        assert civil or (gwgz > 0 and xjgz > 0 and zwgz == jbgz == 0)
        if key in slot_types and key not in r06:
            assert {QuotaType(t) in CIVIL_SERVICE_SCALE for t in slot_types[key]} == {civil}


def test_nobody_active_is_past_retirement_unless_planted(demo: tuple[Path, dict]) -> None:
    out, manifest = demo
    r08 = {f["idNumber"] for f in manifest["anomalies"] if f["rule"] == "R08"}
    workers = {
        ids.normalize_id_number(g) for (g,) in _rows(out, "SELECT GMSFHM FROM RS_RYXX WHERE RYLB = '05'")
    }
    end = month_end(manifest["referenceMonth"])
    active = _rows(out, "SELECT SFZH, BZLX FROM T_SMZ WHERE RYZT != '出编' AND CBRQ IS NULL")
    assert len(r08) >= 2
    for sfzh, bzlx in active:
        key = ids.normalize_id_number(sfzh) or ""
        birth = ids.id_birth_date(key)
        assert birth is not None
        group = retirement_group(ids.id_sex(key), bzlx == "GQ" or key in workers)
        assert (retirement_date(birth, group) <= end) == (key in r08), key


def test_progress_and_target_checks(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    generate(sqlite_targets(tmp_path), persons=150, seed=2, progress=lambda s, d, t: seen.append((s, d, t)))
    stages = [s for s, _, _ in seen]
    assert stages[0] == "schema" and "persons" in stages and stages[-1] == "indexes"
    assert ("persons", 150, 150) in seen
    with pytest.raises(ValueError, match="finance"):
        generate({d: u for d, u in sqlite_targets(tmp_path).items() if d != "finance"}, persons=100)


def _snapshot(targets: dict[str, str]) -> dict[str, list[tuple]]:
    """Every legacy table's rows, sorted, with driver-specific types normalized."""

    def norm(value: object) -> object:
        if isinstance(value, Decimal):
            return int(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    tables: dict[str, list[tuple]] = {}
    for dept, url in targets.items():
        engine = sa.create_engine(sync_url(url))
        with engine.connect() as conn:
            for table in DEPARTMENT_TABLES.get(dept) or JOINED_TABLES[dept]:
                rows = conn.execute(sa.select(table)).all()
                tables[table.name] = sorted((tuple(norm(v) for v in r) for r in rows), key=repr)
        engine.dispose()
    return tables


def test_postgresql_and_mariadb_hold_the_same_rows_as_sqlite(
    tmp_path: Path, pg_database, mariadb_database
) -> None:
    reference = generate(demo_targets(tmp_path), persons=300, seed=SEED)
    pg = dict.fromkeys((*DEPARTMENTS, *JOINED), pg_database())  # all five departments in one PostgreSQL database
    maria = {d: mariadb_database() for d in (*DEPARTMENTS, *JOINED)}  # one MariaDB database each
    assert generate(pg, persons=300, seed=SEED) == reference
    assert generate(maria, persons=300, seed=SEED) == reference
    expected_rows = _snapshot(demo_targets(tmp_path))
    assert _snapshot(pg) == expected_rows
    assert _snapshot(maria) == expected_rows
