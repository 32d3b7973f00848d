"""fetch(latest=): each key's newest records, chosen by the database in the one statement, ties included.

A person paid under two payee records has two pay lines a month. Asked for the last 3 months, the
database ranks by month only; ROW_NUMBER picked one of the two lines of the third month at random
(PostgreSQL, and so `entries(last: 3)` answered the wrong line), RANK keeps both, and the caller's
order (month, then payee code, newest first) picks. The same on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.base import Latest
from adapters.mapping import default_mappings
from adapters.sql import SqlAdapter
from hub.core.db import sync_url
from tests.conftest import MARIADB_ADMIN, PG_ADMIN, _factory

TWICE = "152921198405122965"  # paid under two payee records, the same months
ONCE = "15292119850315002X"  # one payee record; stored with a lower-case x
MONTHS = ("202607", "202608", "202609", "202610")
PAY = [  # (month, payee, gross)
    *((m, "00000510", 1000 + i) for i, m in enumerate(MONTHS)),
    *((m, "00000511", 2000 + i) for i, m in enumerate(MONTHS)),
    *((m, "00000600", 3000 + i) for i, m in enumerate(MONTHS)),
]
PAYEES = [("00000510", TWICE), ("00000511", TWICE), ("00000600", ONCE.lower())]
_PAY_COLUMNS = ("ZWGZ", "JBGZ", "GWGZ", "XJGZ", "JCJX", "JLJX", "JTBT", "DK_YL", "DK_YB", "DK_NJ", "DK_SY", "DK_GJJ", "DK_SDS", "SFHJ")


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def finance_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A finance database on one dialect holding only the payees and pay lines above."""
    if request.param == "sqlite":
        url, factories = f"sqlite+aiosqlite:///{tmp_path / 'finance.db'}", None
    else:
        admin, quote = (PG_ADMIN, '"') if request.param == "postgresql" else (MARIADB_ADMIN, "`")
        factories = _factory(admin, quote)
        url = next(factories)()
    engine = sa.create_engine(sync_url(url))
    meta = sa.MetaData()
    payee = sa.Table("GZ_RY", meta, sa.Column("RYBM", sa.String(8), primary_key=True), sa.Column("SFZH", sa.String(18)),
                     sa.Column("XM", sa.String(20)), sa.Column("DWDM", sa.String(12)))
    line = sa.Table("GZ_YB", meta, sa.Column("GZNY", sa.String(6)), sa.Column("RYBM", sa.String(8)),
                    sa.Column("DWDM", sa.String(12)), sa.Column("YFHJ", sa.Integer),
                    *(sa.Column(c, sa.Integer) for c in _PAY_COLUMNS))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(payee.insert(), [{"RYBM": code, "SFZH": sfzh, "XM": "苏琴", "DWDM": "U1"} for code, sfzh in PAYEES])
        conn.execute(line.insert(), [{"GZNY": m, "RYBM": code, "DWDM": "U1", "YFHJ": gross} for m, code, gross in PAY])
    engine.dispose()
    yield url
    if factories is not None:
        next(factories, None)


async def test_the_newest_months_keep_every_record_tied_at_the_last(finance_url: str) -> None:
    adapter = SqlAdapter("finance", default_mappings()["finance"], finance_url)
    try:
        before = adapter.statements
        got = await adapter.fetch("pay_line", "id_number", [TWICE, ONCE], fields={"month", "gross"}, latest=Latest("month", 3))
        assert adapter.statements == before + 1
    finally:
        await adapter.close()
    lines: dict[str, list[tuple[str, str, int]]] = {}
    for r in got:
        lines.setdefault(r.id_number, []).append((r.month, r.payee_code, r.gross))
    # Ranked by month: 2026-10 twice (rank 1), 2026-09 twice (rank 3, both kept), not 2026-08.
    assert sorted(lines[TWICE]) == [("2026-09", "00000510", 1002), ("2026-09", "00000511", 2002),
                                    ("2026-10", "00000510", 1003), ("2026-10", "00000511", 2003)]
    assert sorted(lines[ONCE]) == [("2026-08", "00000600", 3001), ("2026-09", "00000600", 3002), ("2026-10", "00000600", 3003)]
    newest_first = sorted(lines[TWICE], key=lambda x: (x[0], x[1]), reverse=True)[:3]
    assert [x[2] for x in newest_first] == [2003, 1003, 2002]  # what entries(last: 3) answers


async def test_distinct_values_come_from_one_loose_index_scan(finance_url: str) -> None:
    """The pay months (the latest is the default reference month) by seeking from value to value, in one
    statement; a joined field (the payee's ID number) through the join, canonical and once each."""
    adapter = SqlAdapter("finance", default_mappings()["finance"], finance_url)
    try:
        before = adapter.statements
        months = await adapter.distinct("pay_line", "month")
        assert adapter.statements == before + 1
        ids = await adapter.distinct("pay_line", "id_number")
    finally:
        await adapter.close()
    assert sorted(months) == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert sorted(ids) == sorted([TWICE, ONCE])


async def test_a_columnar_read_of_own_fields_leaves_out_a_join_on_a_unique_key(finance_url: str) -> None:
    """Pay lines join their payee (GZ_RY, keyed by RYBM) for the ID number; a columnar read of the lines' own
    fields asks each dialect whether any payee code repeats (none can: it is the key) and reads GZ_YB alone."""
    adapter = SqlAdapter("finance", default_mappings()["finance"], finance_url)
    try:
        assert await adapter._join_repeats_nothing(adapter.entity("pay_line"))
        frame = await adapter.columns("pay_line", ["month", "payee_code", "gross"], {"month": "2026-10"})
    finally:
        await adapter.close()
    assert sorted(frame.iter_rows()) == [("2026-10", "00000510", 1003), ("2026-10", "00000511", 2003), ("2026-10", "00000600", 3003)]
