"""The row memo of the asyncpg path: a row seen before is not converted again, and never changes an answer.

Against PostgreSQL (skipped when it is unreachable, unless HUB_REQUIRE_SERVICES=1): small hand-made
tables for what the memo keeps and drops, and the demo data for memo-on against memo-off records of
every entity.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.mapping import Mapping, default_mappings
from adapters.registry import build_sources
from adapters.sql import SqlAdapter
from hub.core.db import sync_url
from hub.core.records import RECORDS
from hub.core.settings import Settings, SourceSettings
from tests.conftest import DEPARTMENTS, PG_ADMIN, DatabaseFactory, _factory, generate_into

MAPPINGS = default_mappings()
QUOTA_ROWS = [("U1", "01", 5), ("U1", "02", 2), ("U2", "01", 7), ("U2", "02", 1), ("U3", "01", 3)]


def quota_mapping(table: str) -> Mapping:
    """The quota entity over a hand-made table (JGID, BZLX, HDS, PZWH)."""
    columns = {"unit_local_id": "JGID", "quota_type": "BZLX", "approved": {"column": "HDS", "convert": "int"}, "document": "PZWH"}
    return Mapping.model_validate({
        "department": "establishment", "title": "test",
        "entities": {"quota": {"table": table, "scope": "unit_local_id", "order": ["quota_type"], "columns": columns}},
    })


def counted(adapter: SqlAdapter, entity: str) -> list[int]:
    """Count the calls of the builder of an entity's whole records (the projection of fields=None)."""
    ent = adapter.entity(entity)
    projection = ent.projection(None)
    build = ent.builder(projection)
    calls = [0]

    def counting(row: Any) -> Any:
        calls[0] += 1
        return build(row)

    ent.builders[projection] = counting
    return calls


def by_key(records: list[Any]) -> dict[tuple[str, str], Any]:
    return {(r.unit_local_id, r.quota_type): r for r in records}


class Quotas:
    """A database with the quota rows in T_BZ (HDS int4) and T_BZN (HDS numeric), and adapters over it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = sa.create_engine(sync_url(url))
        self.made: list[SqlAdapter] = []
        for table, kind in (("T_BZ", "int4"), ("T_BZN", "numeric")):
            self.execute(f'CREATE TABLE "{table}" ("JGID" varchar(12), "BZLX" varchar(2), "HDS" {kind}, "PZWH" text)')
            self.execute(f'INSERT INTO "{table}" VALUES (:u, :t, :n, \' doc \')', [{"u": u, "t": t, "n": n} for u, t, n in QUOTA_ROWS])

    def execute(self, sql: str, values: Any = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(sql), values)

    def adapter(self, table: str = "T_BZ", **options: Any) -> tuple[SqlAdapter, list[int]]:
        """An adapter of quotas over a table, and the call count of its builder."""
        adapter = SqlAdapter("establishment", quota_mapping(table), self.url, **options)
        self.made.append(adapter)
        return adapter, counted(adapter, "quota")


@pytest.fixture
async def quotas(pg_database: DatabaseFactory) -> AsyncIterator[Quotas]:
    made = Quotas(pg_database())
    yield made
    for adapter in made.made:
        await adapter.close()
    made.engine.dispose()


async def test_a_row_seen_before_is_not_converted_again_and_a_changed_row_is(quotas: Quotas) -> None:
    adapter, calls = quotas.adapter()
    first = by_key(await adapter.fetch("quota", "unit_local_id", ["U1", "U2"]))
    assert calls == [4] and first[("U1", "01")].approved == 5 and first[("U1", "01")].document == "doc"
    again = by_key(await adapter.fetch("quota", "unit_local_id", ["U2", "U1"]))
    assert calls == [4], "the second fetch converted rows again"
    assert again == first and all(again[k] is first[k] for k in first)

    quotas.execute('UPDATE "T_BZ" SET "HDS" = 9 WHERE "JGID" = \'U1\' AND "BZLX" = \'01\'')
    changed = by_key(await adapter.fetch("quota", "unit_local_id", ["U1", "U2"]))
    assert calls == [5], "only the changed row is converted"
    assert changed[("U1", "01")].approved == 9
    assert all(changed[k] is first[k] for k in first if k != ("U1", "01"))

    page = await adapter.scan("quota", order_by="unit_local_id", limit=10)  # scans share the memo
    assert calls == [6] and [(r.unit_local_id, r.approved) for r in page][-1] == ("U3", 3)


async def test_a_statement_with_a_numeric_column_is_not_memoized(quotas: Quotas) -> None:
    adapter, calls = quotas.adapter("T_BZN")
    for _ in range(2):
        assert sorted(r.approved for r in await adapter.fetch("quota", "unit_local_id", ["U1", "U2"])) == [1, 2, 5, 7]
    assert calls == [8] and adapter._memos == {}
    assert [s.memo for s in adapter._statements.values()] == [False]


async def test_the_row_budget_clears_the_memos_and_zero_disables_them(quotas: Quotas) -> None:
    adapter, calls = quotas.adapter(row_memo_rows=3)
    await adapter.fetch("quota", "unit_local_id", ["U1"])
    await adapter.fetch("quota", "unit_local_id", ["U1"])
    assert calls == [2] and adapter._memo_size == 2
    await adapter.fetch("quota", "unit_local_id", ["U2"])  # 4 rows > 3: every memo is cleared
    assert calls == [4] and adapter._memo_size == 0 and adapter._memos == {}
    await adapter.fetch("quota", "unit_local_id", ["U1"])
    assert calls == [6] and adapter._memo_size == 2
    await adapter.fetch("quota", "unit_local_id", ["U1", "U2"])  # a batch larger than the budget: just built
    assert calls == [10] and adapter._memo_size == 2

    off, calls = quotas.adapter(row_memo_rows=0)
    for _ in range(2):
        await off.fetch("quota", "unit_local_id", ["U1"])
    assert calls == [4] and off._memos == {}
    assert [s.memo for s in off._statements.values()] == [False]  # nor are column types asked for


def test_the_setting_reaches_the_sql_adapters_and_other_dialects_never_memoize(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_ROW_MEMO_ROWS", "7")
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/none"  # never connected to
    sources = build_sources(Settings(source={d: SourceSettings(url=url) for d in DEPARTMENTS}))
    assert {sources[d].row_memo_rows for d in DEPARTMENTS} == {7}  # type: ignore[attr-defined]
    assert SqlAdapter("hr", MAPPINGS["hr"], "sqlite+aiosqlite:///absent.db").row_memo_rows == 0


def test_records_are_never_falsy() -> None:
    """The memo's lookup is `memo.get(row) or ...`: a record must be truthy."""
    for record in RECORDS.values():
        assert not hasattr(record, "__bool__") and not hasattr(record, "__len__"), record


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    """The four departments' demo data in one PostgreSQL database (seed 13, 300 persons)."""
    factories = _factory(PG_ADMIN, '"')
    url = next(factories)()
    generate_into(dict.fromkeys(DEPARTMENTS, url), persons=300, seed=13)
    yield url
    next(factories, None)


@pytest.mark.parametrize("department", DEPARTMENTS)
async def test_records_through_the_memo_equal_records_built_without_it(demo_url: str, department: str) -> None:
    on = SqlAdapter(department, MAPPINGS[department], demo_url, row_memo_rows=1_000_000)
    off = SqlAdapter(department, MAPPINGS[department], demo_url, row_memo_rows=0)
    try:
        for entity, spec in MAPPINGS[department].entities.items():
            key = spec.scope or next(iter(spec.columns))
            built = sorted(await off.scan(entity, order_by=key, limit=1_000_000), key=repr)
            assert built, f"{department}.{entity} has no rows"
            for _ in range(2):  # converted into the memo, then read from it
                assert sorted(await on.scan(entity, order_by=key, limit=1_000_000), key=repr) == built
            keys = sorted({getattr(r, key) for r in built if getattr(r, key) is not None})[:5]
            fetched = await on.fetch(entity, key, keys)
            assert sorted(fetched, key=repr) == [r for r in built if getattr(r, key) in keys]
        assert on._memo_size > 0 and all(s.memo for s in on._statements.values())
    finally:
        await on.close()
        await off.close()
