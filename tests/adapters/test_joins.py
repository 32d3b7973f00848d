"""Entities read through a join: a filter on a joined field that rejects NULL reads through an inner join.

HR's post assignments are RS_GWPY rows joined to RS_RYXX for the person's ID number. Fetched by ID
number, SQLite kept the LEFT JOIN and scanned every post for each batch; the inner join gives the
same records from the ID number's index. A condition a missing joined row meets (IS NULL) keeps
the LEFT JOIN.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from adapters.registry import build_sources
from adapters.sql import SqlAdapter
from adapters.statements import split
from tests.conftest import hub_settings


def _hr(demo_dir: Path) -> SqlAdapter:
    adapter = build_sources(hub_settings(demo_dir))["hr"]
    assert isinstance(adapter, SqlAdapter)
    return adapter


def _keys(demo_dir: Path) -> list[str]:
    with sqlite3.connect(demo_dir / "hr.db") as db:
        return [row[0] for row in db.execute(
            "SELECT DISTINCT p.GMSFHM FROM RS_GWPY g JOIN RS_RYXX p ON g.RYBH = p.RYBH WHERE p.GMSFHM IS NOT NULL LIMIT 40")]


def test_which_filters_read_through_the_inner_join(demo_dir: Path) -> None:
    ent = _hr(demo_dir).entity("post_assignment")
    assert "id_number" in ent.joined and "category" not in ent.joined
    for where, inner in (({"id_number": ["110101199001011234"]}, True), ({"unit_local_id": "U1"}, True),
                         ({"unit_local_id": None}, False), ({"category": "WORKER"}, False), ({}, False)):
        shape, _ = split(where, ent.dumper)
        sql = str(sa.select(sa.literal_column("1")).select_from(ent.source_for(shape)))
        assert ("LEFT OUTER JOIN" not in sql) is inner, (where, sql)


async def test_fetch_by_a_joined_key_reads_the_same_records(demo_dir: Path) -> None:
    adapter, keys = _hr(demo_dir), _keys(demo_dir)
    try:
        got = await adapter.fetch("post_assignment", "id_number", keys)
    finally:
        await adapter.close()
    with sqlite3.connect(demo_dir / "hr.db") as db:  # the reference: the LEFT JOIN, as the mapping reads
        marks = ",".join("?" * len(keys))
        expected = sorted(db.execute(
            f"SELECT p.GMSFHM, g.RYBH, g.QSRQ FROM RS_GWPY g LEFT JOIN RS_RYXX p ON g.RYBH = p.RYBH WHERE p.GMSFHM IN ({marks})",
            keys).fetchall())
    assert len(expected) >= len(keys) > 0
    assert sorted((r.id_number, r.person_no, r.start_on.isoformat()) for r in got) == expected


async def test_a_columnar_read_leaves_out_a_join_that_repeats_no_row(demo_dir: Path, tmp_path: Path) -> None:
    """Insurance records are AC01 rows joined to RS_RYXX by ID number for the unit. A columnar read of none of
    the joined fields reads AC01 alone while no two HR persons share an ID number, and the join's repeated
    rows again once two do: always the rows the mapping's LEFT JOIN gives."""
    shutil.copy(demo_dir / "hr.db", tmp_path / "hr.db")
    adapter = build_sources(hub_settings(demo_dir, {"hr": f"sqlite+aiosqlite:///{tmp_path / 'hr.db'}"}))["hr"]
    assert isinstance(adapter, SqlAdapter)

    def reference() -> list[tuple[str, str | None]]:
        with sqlite3.connect(tmp_path / "hr.db") as db:
            return sorted((r[0].upper(), r[1]) for r in db.execute(
                "SELECT a.AAC002, a.AAC008 FROM AC01 a LEFT JOIN RS_RYXX p ON a.AAC002 = p.GMSFHM "
                "WHERE a.AAC002 IS NOT NULL AND length(a.AAC002) = 18"))

    async def read() -> list[tuple[str, str | None]]:
        frame = await adapter.columns("insurance", ["id_number", "status"])
        raw = {"INSURED": "1", "SUSPENDED": "2", "ENDED": "3", None: None}
        return sorted((i, raw[s]) for i, s in frame.iter_rows() if i is not None and len(i) == 18)

    try:
        ent = adapter.entity("insurance")
        assert await adapter._join_repeats_nothing(ent)
        before = await read()
        assert before == reference() and len(before) > 100
        with sqlite3.connect(tmp_path / "hr.db") as db:  # a second HR person with an insured person's ID number
            twin = db.execute("SELECT p.GMSFHM FROM RS_RYXX p JOIN AC01 a ON a.AAC002 = p.GMSFHM LIMIT 1").fetchone()[0]
            db.execute("INSERT INTO RS_RYXX (RYBH, GMSFHM, XM) VALUES ('TWIN-1', ?, '双胞')", (twin,))
        assert not await adapter._join_repeats_nothing(ent)
        after = await read()
        assert after == reference() and len(after) > len(before)
    finally:
        await adapter.close()
