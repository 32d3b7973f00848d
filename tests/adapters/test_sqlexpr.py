"""The ID-number body SQL computes (adapters/sqlexpr.py) is Python's, on every dialect, on both sides of its fast path.

A value of 18 ASCII characters (as many bytes as characters) skips the fold; anything else — full-width
digits, 15 digits, a value of 18 bytes that is not 18 characters — goes through it. Rows stream in the
order Python sorts the bodies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.sqlexpr import normalized_id_body, normalized_id_sort_key
from hub.core.db import sync_url
from hub.core.ids import normalize_id_number
from tests.conftest import MARIADB_ADMIN, PG_ADMIN, _factory

WIDE = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
SPELLINGS = [
    "15292119850315002X",  # 18 ASCII characters: the fast path
    "15292119850315002x",  # lower-case x
    "152921198503150021",
    "abcdefghijklmnopqr",  # 18 ASCII letters: upper-cased
    "152921850315002",  # 15 digits: upgraded
    "15292119850315002X".translate(WIDE),  # full width
    "15292119850315002x".translate(WIDE),
    "152921850315002".translate(WIDE),  # 15 full-width digits
    "123456".translate(WIDE),  # 6 characters, 18 bytes
    "152921198503".translate(WIDE) + "150",  # 15 characters, 39 bytes
    "152921198503150" + "02X".translate(WIDE),  # 18 characters, 24 bytes
    "1529211985031" + "5".translate(WIDE) + "02",  # 16 characters, 18 bytes
    "1529211985031500212",  # 19 characters
    "15292119850315002",  # 17
    "1",
    None,
]


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A table of raw ID numbers on one dialect."""
    if request.param == "sqlite":
        factories = None
        url = f"sqlite:///{tmp_path / 'ids.db'}"
    else:
        factories = _factory(PG_ADMIN, '"') if request.param == "postgresql" else _factory(MARIADB_ADMIN, "`")
        url = next(factories)()
    engine = sa.create_engine(sync_url(url))
    charset = " DEFAULT CHARSET=utf8mb4" if request.param == "mariadb" else ""
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE ids (n INTEGER, raw VARCHAR(40)){charset}"))
        conn.execute(sa.text("INSERT INTO ids VALUES (:n, :raw)"), [{"n": n, "raw": raw} for n, raw in enumerate(SPELLINGS)])
    yield engine
    engine.dispose()
    if factories is not None:
        next(factories, None)


def test_the_body_is_pythons_on_both_sides_of_the_fast_path(engine: sa.Engine) -> None:
    ids = sa.table("ids", sa.column("n"), sa.column("raw"))
    with engine.connect() as conn:
        got = dict(conn.execute(sa.select(ids.c.n, normalized_id_body(ids.c.raw))).all())
        ordered = conn.execute(sa.select(ids.c.raw).where(ids.c.raw.is_not(None))
                               .order_by(*normalized_id_sort_key(ids.c.raw), ids.c.n)).scalars().all()
    want = {n: None if raw is None else (normalize_id_number(raw) or "")[:17] for n, raw in enumerate(SPELLINGS)}
    assert got == want
    bodies = [(normalize_id_number(raw) or "")[:17] for raw in ordered]
    assert bodies == sorted(bodies)
